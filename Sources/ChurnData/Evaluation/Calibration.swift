import Foundation

/// Maps a model's raw churn scores to probabilities that mean what they say: of customers given
/// 0.3, about 30% leave. Fitted on a version's validation split (never on its held-back rows)
/// and applied to everything the version answers.
///
/// Two methods, as scikit-learn's `CalibratedClassifierCV` offers them:
/// - **Platt** (sigmoid): `q = 1 / (1 + exp(-(a·logit(p) + b)))`, fitted by Newton's method on
///   the log loss with Platt's smoothed targets (`(N₊+1)/(N₊+2)` and `1/(N₋+2)`).
/// - **Isotonic**: the non-decreasing step function closest to the labels (pool adjacent
///   violators), interpolated linearly between its points and clipped at its ends.
///
/// ``choose(_:_:folds:seed:)`` picks the one with the lower log loss in stratified
/// cross-validation on the validation rows, then refits it on all of them.
public struct Calibrator: Codable, Sendable, Hashable {
    public enum Method: String, Codable, Sendable, Hashable {
        case platt, isotonic
        /// Too few validation rows to fit either: probabilities are served as the plugin gives them.
        case none

        /// The methods ``choose(_:_:folds:seed:)`` compares.
        public static let fitted: [Method] = [.platt, .isotonic]
    }

    /// Fewer validation rows (or churners, or stayers) than this and no calibrator is fitted.
    public static let minimumRows = 100
    public static let minimumPerClass = 20

    public var method: Method
    /// Platt's slope and intercept on the logit.
    public var a: Double?
    public var b: Double?
    /// Isotonic: the points (raw score, probability), raw scores increasing.
    public var x: [Double]?
    public var y: [Double]?

    /// The calibrated probability of raw score `p`.
    public func apply(_ p: Double) -> Double {
        switch method {
        case .none:
            return p
        case .platt:
            let z = (a ?? 1) * Self.logit(p) + (b ?? 0)
            return 1 / (1 + exp(-z))
        case .isotonic:
            guard let x, let y, let first = x.first, let last = x.last else { return p }
            if p <= first { return y[0] }
            if p >= last { return y[y.count - 1] }
            // The first point at or above p (x is sorted).
            var low = 0
            var high = x.count - 1
            while low < high {
                let middle = (low + high) / 2
                if x[middle] < p { low = middle + 1 } else { high = middle }
            }
            let right = low
            let left = right - 1
            let span = x[right] - x[left]
            guard span > 0 else { return y[right] }
            return y[left] + (y[right] - y[left]) * (p - x[left]) / span
        }
    }

    public func apply(_ probabilities: [Double]) -> [Double] { probabilities.map(apply) }

    static func logit(_ p: Double) -> Double {
        let clipped = min(max(p, 1e-12), 1 - 1e-12)
        return log(clipped / (1 - clipped))
    }

    // MARK: Fitting

    /// Platt scaling fitted to `labels` by Newton's method (as in Platt 1999 / Lin et al. 2007).
    public static func platt(_ probabilities: [Double], _ labels: [Bool]) -> Calibrator {
        let scores = probabilities.map(logit)
        let positives = Double(labels.filter { $0 }.count)
        let negatives = Double(labels.count) - positives
        let high = (positives + 1) / (positives + 2)
        let low = 1 / (negatives + 2)
        let targets = labels.map { $0 ? high : low }
        /// The log loss against the smoothed targets, computed without overflow.
        func loss(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            for (score, target) in zip(scores, targets) {
                let z = a * score + b
                // −[t·log σ(z) + (1−t)·log(1−σ(z))] = log(1 + e^z) − t·z, written stably.
                total += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - target * z
            }
            return total
        }
        var a = 1.0
        var b = 0.0
        for _ in 0..<100 {
            var gradientA = 0.0, gradientB = 0.0, haa = 0.0, hab = 0.0, hbb = 0.0
            for (score, target) in zip(scores, targets) {
                let q = 1 / (1 + exp(-(a * score + b)))
                let residual = q - target
                let weight = max(q * (1 - q), 1e-12)
                gradientA += residual * score
                gradientB += residual
                haa += weight * score * score
                hab += weight * score
                hbb += weight
            }
            // A touch of ridge keeps the step defined when the scores barely vary.
            haa += 1e-9
            hbb += 1e-9
            let determinant = haa * hbb - hab * hab
            guard determinant != 0 else { break }
            let stepA = (hbb * gradientA - hab * gradientB) / determinant
            let stepB = (haa * gradientB - hab * gradientA) / determinant
            // Backtracking line search (Lin, Lin and Weng 2007): a full Newton step can overshoot.
            let current = loss(a, b)
            var size = 1.0
            while size >= 1e-10, loss(a - size * stepA, b - size * stepB) > current + 1e-4 * size * (gradientA * stepA + gradientB * stepB) * -1 {
                size /= 2
            }
            guard size >= 1e-10 else { break }
            a -= size * stepA
            b -= size * stepB
            if abs(size * stepA) < 1e-10 && abs(size * stepB) < 1e-10 { break }
        }
        // A calibrator never reverses the model's order: a scorer worse than chance on the
        // validation rows gets the constant base rate (a = 0), the best order-keeping fit.
        if !(a > 0) {
            return Calibrator(method: .platt, a: 0, b: logit((positives + 1) / (Double(labels.count) + 2)))
        }
        return Calibrator(method: .platt, a: a, b: b)
    }

    /// Isotonic regression of `labels` on the raw scores (pool adjacent violators, ties pooled).
    public static func isotonic(_ probabilities: [Double], _ labels: [Bool]) -> Calibrator {
        let order = probabilities.indices.sorted { probabilities[$0] < probabilities[$1] }
        // Blocks of (sum of labels, count, lowest score, highest score), merged while decreasing.
        var sums: [Double] = []
        var counts: [Double] = []
        var lows: [Double] = []
        var highs: [Double] = []
        var index = 0
        while index < order.count {
            // Equal scores form one block from the start.
            let score = probabilities[order[index]]
            var sum = 0.0
            var count = 0.0
            while index < order.count, probabilities[order[index]] == score {
                sum += labels[order[index]] ? 1 : 0
                count += 1
                index += 1
            }
            sums.append(sum)
            counts.append(count)
            lows.append(score)
            highs.append(score)
            while sums.count > 1, sums[sums.count - 2] / counts[counts.count - 2] >= sums[sums.count - 1] / counts[counts.count - 1] {
                let last = sums.count - 1
                sums[last - 1] += sums[last]
                counts[last - 1] += counts[last]
                highs[last - 1] = highs[last]
                sums.removeLast()
                counts.removeLast()
                lows.removeLast()
                highs.removeLast()
            }
        }
        // Each block is a flat step from its lowest to its highest score.
        var x: [Double] = []
        var y: [Double] = []
        for block in sums.indices {
            let value = sums[block] / counts[block]
            x.append(lows[block])
            y.append(value)
            if highs[block] > lows[block] {
                x.append(highs[block])
                y.append(value)
            }
        }
        return Calibrator(method: .isotonic, x: x, y: y)
    }

    public static func fit(_ method: Method, _ probabilities: [Double], _ labels: [Bool]) -> Calibrator {
        switch method {
        case .platt: platt(probabilities, labels)
        case .isotonic: isotonic(probabilities, labels)
        case .none: Calibrator(method: .none)
        }
    }

    /// The method with the lower mean log loss over `folds` stratified folds of the validation
    /// rows (each fitted on the other folds), refitted on every row; and each method's loss.
    public static func choose(_ probabilities: [Double], _ labels: [Bool], folds: Int = 5, seed: UInt64 = 0)
        -> (calibrator: Calibrator, crossValidatedLogLoss: [Method: Double])
    {
        var losses: [Method: Double] = [:]
        let positives = labels.filter { $0 }.count
        guard labels.count >= minimumRows, positives >= minimumPerClass, labels.count - positives >= minimumPerClass else {
            return (Calibrator(method: .none), losses)
        }
        let splits = StratifiedSplit.folds(labels, k: folds, seed: seed)
        for method in Method.fitted {
            var total = 0.0
            for split in splits {
                let fitted = fit(method, split.train.map { probabilities[$0] }, split.train.map { labels[$0] })
                let heldOut = split.test.map { fitted.apply(probabilities[$0]) }
                total += Metrics.logLoss(split.test.map { labels[$0] }, heldOut) * Double(split.test.count)
            }
            losses[method] = total / Double(max(labels.count, 1))
        }
        let best = Method.fitted.min { (losses[$0] ?? .infinity) < (losses[$1] ?? .infinity) } ?? .platt
        return (fit(best, probabilities, labels), losses)
    }
}

/// How a version's probabilities were calibrated and how well they are on its held-back rows.
public struct CalibrationRecord: Codable, Sendable, Hashable {
    /// Applied to every probability the version serves.
    public var calibrator: Calibrator
    /// Validation rows it was fitted on.
    public var validationRows: Int
    /// Each method's cross-validated log loss on the validation rows (the lower one was chosen).
    public var validationLogLoss: [String: Double]
    /// Held-back rows: expected calibration error (10 uniform bins) and Brier score, before
    /// and after calibration.
    public var testECE: Double
    public var testECERaw: Double
    public var testBrier: Double
    public var testBrierRaw: Double
    /// The held-back reliability curve of the calibrated probabilities (10 uniform bins, empty
    /// bins left out).
    public var reliability: [Metrics.CalibrationBin]

    public init(
        calibrator: Calibrator, validationRows: Int, validationLogLoss: [String: Double], testECE: Double, testECERaw: Double,
        testBrier: Double, testBrierRaw: Double, reliability: [Metrics.CalibrationBin]
    ) {
        self.calibrator = calibrator
        self.validationRows = validationRows
        self.validationLogLoss = validationLogLoss
        self.testECE = testECE
        self.testECERaw = testECERaw
        self.testBrier = testBrier
        self.testBrierRaw = testBrierRaw
        self.reliability = reliability
    }

    enum CodingKeys: String, CodingKey {
        case calibrator, reliability
        case validationRows = "validation_rows"
        case validationLogLoss = "validation_log_loss"
        case testECE = "test_ece"
        case testECERaw = "test_ece_raw"
        case testBrier = "test_brier"
        case testBrierRaw = "test_brier_raw"
    }
}

extension Metrics {
    /// Expected calibration error: over 10 uniform bins of the predicted probability, the mean
    /// of |mean predicted − observed churn rate| weighted by each bin's share of the rows.
    public static func expectedCalibrationError(_ labels: [Bool], _ probabilities: [Double], bins: Int = 10) -> Double {
        let total = Double(max(labels.count, 1))
        return calibration(labels, probabilities, bins: bins).reduce(0) { sum, bin in
            sum + Double(bin.count) / total * abs(bin.meanPredicted - bin.observedRate)
        }
    }
}
