import Foundation

/// Classification metrics with scikit-learn's definitions (checked against scikit-learn on
/// committed fixtures): ROC-AUC with ties counted as half, average precision as PR-AUC, log
/// loss with probabilities clipped to [ε, 1−ε] (ε = Double's machine epsilon), Brier score,
/// threshold metrics with `p >= threshold` predicting churn.
public enum Metrics {
    /// Area under the ROC curve; nil when only one class is present.
    public static func rocAUC(_ labels: [Bool], _ scores: [Double]) -> Double? {
        precondition(labels.count == scores.count)
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        // Mann–Whitney U from average ranks (ties get their mean rank).
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for position in start...end where labels[order[position]] { rankSumPositive += averageRank }
            start = end + 1
        }
        let u = rankSumPositive - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// Average precision (scikit-learn's `average_precision_score`), the PR-AUC we report.
    public static func averagePrecision(_ labels: [Bool], _ scores: [Double]) -> Double? {
        let positives = labels.filter { $0 }.count
        guard positives > 0 else { return nil }
        var total = 0.0
        var previousRecall = 0.0
        for point in precisionRecallPoints(labels, scores) {
            total += (point.recall - previousRecall) * point.precision
            previousRecall = point.recall
        }
        return total
    }

    /// Precision and recall at each distinct score, from the highest threshold down.
    public static func precisionRecallPoints(_ labels: [Bool], _ scores: [Double])
        -> [(threshold: Double, precision: Double, recall: Double)]
    {
        let positives = Double(labels.filter { $0 }.count)
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(Double, Double, Double)] = []
        var truePositives = 0.0
        var predicted = 0.0
        var index = 0
        while index < order.count {
            let threshold = scores[order[index]]
            while index < order.count, scores[order[index]] == threshold {
                if labels[order[index]] { truePositives += 1 }
                predicted += 1
                index += 1
            }
            points.append((threshold, truePositives / predicted, positives > 0 ? truePositives / positives : 0))
        }
        return points
    }

    /// ROC points (false-positive rate, true-positive rate) at each distinct score, from (0, 0).
    public static func rocCurve(_ labels: [Bool], _ scores: [Double]) -> [(threshold: Double, fpr: Double, tpr: Double)] {
        let positives = Double(labels.filter { $0 }.count)
        let negatives = Double(labels.count) - positives
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(Double, Double, Double)] = [(Double.infinity, 0, 0)]
        var truePositives = 0.0
        var falsePositives = 0.0
        var index = 0
        while index < order.count {
            let threshold = scores[order[index]]
            while index < order.count, scores[order[index]] == threshold {
                if labels[order[index]] { truePositives += 1 } else { falsePositives += 1 }
                index += 1
            }
            points.append((threshold, negatives > 0 ? falsePositives / negatives : 0, positives > 0 ? truePositives / positives : 0))
        }
        return points
    }

    /// Mean binary cross-entropy, probabilities clipped to [ε, 1−ε].
    public static func logLoss(_ labels: [Bool], _ probabilities: [Double]) -> Double {
        let epsilon = Double.ulpOfOne
        var total = 0.0
        for (label, probability) in zip(labels, probabilities) {
            let p = min(max(probability, epsilon), 1 - epsilon)
            total -= label ? log(p) : log(1 - p)
        }
        return total / Double(labels.count)
    }

    /// Mean squared difference between probability and outcome.
    public static func brier(_ labels: [Bool], _ probabilities: [Double]) -> Double {
        zip(labels, probabilities).reduce(0) { $0 + ($1.1 - ($1.0 ? 1 : 0)) * ($1.1 - ($1.0 ? 1 : 0)) } / Double(labels.count)
    }

    /// Counts at a threshold.
    public struct Confusion: Sendable, Hashable, Codable {
        public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

        public var accuracy: Double { Double(truePositives + trueNegatives) / Double(max(total, 1)) }
        /// 0 when nothing is predicted positive (scikit-learn's zero_division default).
        public var precision: Double {
            truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
        }
        public var recall: Double {
            truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
        }
        public var f1: Double {
            let sum = precision + recall
            return sum == 0 ? 0 : 2 * precision * recall / sum
        }
        public var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }

        enum CodingKeys: String, CodingKey {
            case truePositives = "tp", falsePositives = "fp", trueNegatives = "tn", falseNegatives = "fn"
        }
    }

    /// The confusion counts when `p >= threshold` predicts churn.
    public static func confusion(_ labels: [Bool], _ probabilities: [Double], threshold: Double = 0.5) -> Confusion {
        var counts = Confusion()
        for (label, probability) in zip(labels, probabilities) {
            switch (label, probability >= threshold) {
            case (true, true): counts.truePositives += 1
            case (false, true): counts.falsePositives += 1
            case (false, false): counts.trueNegatives += 1
            case (true, false): counts.falseNegatives += 1
            }
        }
        return counts
    }

    /// The threshold (one of the scores) with the highest F1, and that F1; ties go to the lowest
    /// threshold, as scikit-learn's argmax over its ascending thresholds does.
    public static func bestF1Threshold(_ labels: [Bool], _ scores: [Double]) -> (threshold: Double, f1: Double) {
        var best = (threshold: 0.5, f1: -1.0)
        for point in precisionRecallPoints(labels, scores) {
            let sum = point.precision + point.recall
            let f1 = sum == 0 ? 0 : 2 * point.precision * point.recall / sum
            if f1 >= best.f1 { best = (point.threshold, f1) }
        }
        return best
    }

    /// One calibration bin: mean predicted probability, observed churn rate, and size.
    public struct CalibrationBin: Sendable, Hashable, Codable {
        public var meanPredicted: Double
        public var observedRate: Double
        public var count: Int

        enum CodingKeys: String, CodingKey {
            case meanPredicted = "mean_predicted", observedRate = "observed_rate", count
        }
    }

    /// Uniform-width calibration bins over [0, 1] (scikit-learn's `calibration_curve`,
    /// strategy "uniform"); empty bins are left out.
    public static func calibration(_ labels: [Bool], _ probabilities: [Double], bins: Int = 10) -> [CalibrationBin] {
        var sums = [Double](repeating: 0, count: bins)
        var positives = [Double](repeating: 0, count: bins)
        var counts = [Int](repeating: 0, count: bins)
        for (label, probability) in zip(labels, probabilities) {
            // numpy.searchsorted(edges[1:-1], p, side="left")
            var bin = 0
            while bin < bins - 1, Double(bin + 1) * (1 / Double(bins)) < probability { bin += 1 }
            sums[bin] += probability
            positives[bin] += label ? 1 : 0
            counts[bin] += 1
        }
        return (0..<bins).compactMap { bin in
            counts[bin] == 0 ? nil : CalibrationBin(
                meanPredicted: sums[bin] / Double(counts[bin]), observedRate: positives[bin] / Double(counts[bin]),
                count: counts[bin])
        }
    }

    /// Every metric the registry records, by name.
    public static func report(_ labels: [Bool], _ probabilities: [Double], threshold: Double = 0.5) -> [String: Double] {
        let counts = confusion(labels, probabilities, threshold: threshold)
        var result: [String: Double] = [
            "accuracy": counts.accuracy, "precision": counts.precision, "recall": counts.recall, "f1": counts.f1,
            "log_loss": logLoss(labels, probabilities), "brier": brier(labels, probabilities),
            "best_f1_threshold": bestF1Threshold(labels, probabilities).threshold,
            "best_f1": bestF1Threshold(labels, probabilities).f1, "rows": Double(labels.count),
            "churn_rate": Double(labels.filter { $0 }.count) / Double(max(labels.count, 1)),
        ]
        if let auc = rocAUC(labels, probabilities) { result["roc_auc"] = auc }
        if let precision = averagePrecision(labels, probabilities) { result["pr_auc"] = precision }
        return result
    }
}
