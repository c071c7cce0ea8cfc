import Foundation

/// Binary log loss on raw scores (log-odds), computed over fixed chunks of rows: each chunk's
/// rows are done by one thread in order and the chunks' sums are added in chunk order, so every
/// result is the same whatever the thread count.
enum LogLoss {
    /// Rows per chunk.
    static let chunk = 16_384

    /// The (weighted) mean loss at `scores`; when `gradients` is given, also writes each row's
    /// gradient p − y and hessian p(1 − p), both times the row's weight.
    static func evaluate(
        scores: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>?, weightSum: Double,
        rows: Int, gradients: UnsafeMutablePointer<GradientPair>?, threads: Int
    ) -> Double {
        let chunks = (rows + chunk - 1) / chunk
        var sums = [Double](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { sums in
            nonisolated(unsafe) let sums = sums.baseAddress!
            nonisolated(unsafe) let scores = scores
            nonisolated(unsafe) let targets = targets
            nonisolated(unsafe) let weights = weights
            nonisolated(unsafe) let gradients = gradients
            Parallel.forEach(chunks, threads: threads) { index in
                var sum = 0.0
                for row in (index * chunk)..<min(rows, (index + 1) * chunk) {
                    let score = scores[row]
                    let target = targets[row]
                    let weight = weights?[row] ?? 1
                    // One exponential for both: e = exp(−|score|) gives the softplus loss and
                    // the probability without overflow.
                    let e = exp(-abs(score))
                    let x = target > 0.5 ? -score : score
                    sum += weight * (max(x, 0) + log1p(e))
                    if let gradients {
                        let probability = score >= 0 ? 1 / (1 + e) : e / (1 + e)
                        gradients[row] = GradientPair(
                            gradient: (probability - target) * weight,
                            hessian: max(probability * (1 - probability), 1e-16) * weight)
                    }
                }
                sums[index] = sum
            }
        }
        return sums.reduce(0, +) / weightSum
    }
}
