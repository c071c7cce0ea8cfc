import Foundation

/// The statistics of champion/challenger reports: bootstrap intervals, precision and recall among
/// the riskiest customers, and DeLong's paired test of two ROC-AUCs on the same customers.
public enum ExperimentStatistics {
    /// A value with its 95% interval.
    public struct Estimate: Sendable, Hashable, Codable {
        public var value: Double
        public var low: Double
        public var high: Double

        public init(value: Double, low: Double, high: Double) {
            self.value = value
            self.low = low
            self.high = high
        }
    }

    /// Precision and recall when the `fraction` riskiest customers (by score) are flagged.
    public static func atTop(_ labels: [Bool], _ scores: [Double], fraction: Double) -> (precision: Double, recall: Double) {
        let flagged = max(1, Int((Double(labels.count) * fraction).rounded(.up)))
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let caught = order.prefix(flagged).filter { labels[$0] }.count
        let positives = labels.filter { $0 }.count
        return (Double(caught) / Double(flagged), positives == 0 ? 0 : Double(caught) / Double(positives))
    }

    /// What contacting the `fraction` riskiest customers (by score) is worth: the monthly bills of
    /// the churners among them (`reached`), and that as a share of all churners' bills (`share`).
    /// Nil when the churners' bills add to nothing.
    public static func revenueAtTop(_ labels: [Bool], _ scores: [Double], _ bills: [Double], fraction: Double)
        -> (reached: Double, share: Double)?
    {
        let total = labels.indices.reduce(0.0) { $0 + (labels[$1] ? bills[$1] : 0) }
        guard total > 0 else { return nil }
        let flagged = max(1, Int((Double(labels.count) * fraction).rounded(.up)))
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let reached = order.prefix(flagged).reduce(0.0) { $0 + (labels[$1] ? bills[$1] : 0) }
        return (reached, reached / total)
    }

    /// `metric` of the rows `0..<count` with a percentile bootstrap 95% interval: `metric` gets
    /// the row indices of each resample (`resamples` draws by `seed`); nil when it is undefined
    /// on all rows.
    public static func bootstrap(rows count: Int, resamples: Int = 1000, seed: UInt64 = 0, metric: ([Int]) -> Double?) -> Estimate? {
        guard let value = metric(Array(0..<count)) else { return nil }
        var random = SeededRandom(seed: seed)
        var draws: [Double] = []
        draws.reserveCapacity(resamples)
        var sample = [Int](repeating: 0, count: count)
        for _ in 0..<resamples {
            for index in 0..<count { sample[index] = random.below(count) }
            if let draw = metric(sample) { draws.append(draw) }
        }
        guard draws.count >= 10 else { return Estimate(value: value, low: value, high: value) }
        draws.sort()
        return Estimate(value: value, low: percentile(draws, 0.025), high: percentile(draws, 0.975))
    }

    /// `metric` on all rows with a percentile bootstrap 95% interval (`resamples` draws by `seed`);
    /// nil when the metric is undefined on the rows.
    public static func bootstrap(
        _ labels: [Bool], _ scores: [Double], resamples: Int = 1000, seed: UInt64 = 0,
        metric: ([Bool], [Double]) -> Double?
    ) -> Estimate? {
        guard let value = metric(labels, scores) else { return nil }
        var random = SeededRandom(seed: seed)
        var draws: [Double] = []
        draws.reserveCapacity(resamples)
        var sampleLabels = [Bool](repeating: false, count: labels.count)
        var sampleScores = [Double](repeating: 0, count: labels.count)
        for _ in 0..<resamples {
            for index in labels.indices {
                let pick = random.below(labels.count)
                sampleLabels[index] = labels[pick]
                sampleScores[index] = scores[pick]
            }
            if let draw = metric(sampleLabels, sampleScores) { draws.append(draw) }
        }
        guard draws.count >= 10 else { return Estimate(value: value, low: value, high: value) }
        draws.sort()
        return Estimate(value: value, low: percentile(draws, 0.025), high: percentile(draws, 0.975))
    }

    /// Linear-interpolation percentile of sorted values (numpy's default).
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    /// DeLong's test of two ROC-AUCs on the same customers (paired; DeLong, DeLong and
    /// Clarke-Pearson 1988, with Sun and Xu's midrank computation).
    public struct DeLongResult: Sendable, Hashable, Codable {
        public var aucA: Double
        public var aucB: Double
        /// Standard error of aucB − aucA.
        public var standardError: Double
        public var z: Double
        /// Two-sided.
        public var p: Double
    }

    public static func deLong(_ labels: [Bool], scoresA: [Double], scoresB: [Double]) -> DeLongResult? {
        let positives = labels.indices.filter { labels[$0] }
        let negatives = labels.indices.filter { !labels[$0] }
        let m = Double(positives.count), n = Double(negatives.count)
        guard m >= 2, n >= 2 else { return nil }
        func components(_ scores: [Double]) -> (auc: Double, v10: [Double], v01: [Double]) {
            let x = positives.map { scores[$0] }, y = negatives.map { scores[$0] }
            let combined = midranks(x + y), rankX = midranks(x), rankY = midranks(y)
            let v10 = (0..<x.count).map { (combined[$0] - rankX[$0]) / n }
            let v01 = (0..<y.count).map { 1 - (combined[x.count + $0] - rankY[$0]) / m }
            let auc = v10.reduce(0, +) / m
            return (auc, v10, v01)
        }
        let a = components(scoresA), b = components(scoresB)
        func covariance(_ first: [Double], _ second: [Double]) -> Double {
            let meanFirst = first.reduce(0, +) / Double(first.count), meanSecond = second.reduce(0, +) / Double(second.count)
            var sum = 0.0
            for index in first.indices { sum += (first[index] - meanFirst) * (second[index] - meanSecond) }
            return sum / Double(first.count - 1)
        }
        let varianceA = covariance(a.v10, a.v10) / m + covariance(a.v01, a.v01) / n
        let varianceB = covariance(b.v10, b.v10) / m + covariance(b.v01, b.v01) / n
        let covarianceAB = covariance(a.v10, b.v10) / m + covariance(a.v01, b.v01) / n
        let variance = max(varianceA + varianceB - 2 * covarianceAB, 0)
        let error = variance.squareRoot()
        let difference = b.auc - a.auc
        let z = error > 0 ? difference / error : 0
        let p = error > 0 ? erfc(abs(z) / 2.squareRoot()) : 1
        return DeLongResult(aucA: a.auc, aucB: b.auc, standardError: error, z: z, p: p)
    }

    /// 1-based ranks with ties given their mean rank.
    static func midranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = rank }
            start = end + 1
        }
        return ranks
    }
}
