import Foundation

/// Binary log loss on raw scores (log-odds) and its gradients, computed over fixed chunks of
/// rows: each chunk's rows are done by one thread in order and the chunks' sums are added in
/// chunk order, so every result is the same whatever the thread count.
enum LogLoss {
    /// Rows per chunk.
    static let chunk = 16_384

    /// The most rows the training loss is measured on each round: beyond it, on evenly spaced
    /// rows (every `rows / lossSampleRows`-th, rounded up), which keeps a logarithm per row out of
    /// every round of a large fit.
    static let lossSampleRows = 65_536

    /// The row stride of the loss sample for `rows` rows: 1 (every row) up to ``lossSampleRows``.
    static func lossStride(rows: Int) -> Int { max(1, (rows + lossSampleRows - 1) / lossSampleRows) }

    /// The (weighted) mean loss at `scores` over the rows `0, stride, 2·stride, ...` (every row
    /// with `stride` 1); when `gradients` is given, also writes every row's gradient p − y and
    /// hessian p(1 − p), both times the row's weight.
    static func evaluate(
        scores: UnsafePointer<Double>, targets: UnsafePointer<Double>, weights: UnsafePointer<Double>?, rows: Int,
        stride: Int = 1, gradients: UnsafeMutablePointer<GradientPair>?, threads: Int
    ) -> Double {
        let chunks = (rows + chunk - 1) / chunk
        var sums = [(loss: Double, weight: Double)](repeating: (0, 0), count: chunks)
        sums.withUnsafeMutableBufferPointer { sums in
            nonisolated(unsafe) let sums = sums.baseAddress!
            nonisolated(unsafe) let scores = scores
            nonisolated(unsafe) let targets = targets
            nonisolated(unsafe) let weights = weights
            nonisolated(unsafe) let gradients = gradients
            Parallel.forEach(chunks, threads: threads) { index in
                let first = index * chunk
                let end = min(rows, (index + 1) * chunk)
                if let gradients {
                    for row in first..<end {
                        let score = scores[row]
                        let target = targets[row]
                        let weight = weights?[row] ?? 1
                        let e = exp(-abs(score))
                        let probability = score >= 0 ? 1 / (1 + e) : e / (1 + e)
                        gradients[row] = GradientPair(
                            gradient: (probability - target) * weight,
                            hessian: max(probability * (1 - probability), 1e-16) * weight)
                    }
                }
                var loss = 0.0
                var weightSum = 0.0
                // The sample's rows in this chunk: the multiples of `stride` from `first`.
                for row in Swift.stride(from: (first + stride - 1) / stride * stride, to: end, by: stride) {
                    let score = scores[row]
                    let weight = weights?[row] ?? 1
                    // Softplus without overflow: log(1 + exp(x)) = max(x, 0) + log1p(exp(−|x|)).
                    let x = targets[row] > 0.5 ? -score : score
                    loss += weight * (max(x, 0) + log1p(exp(-abs(score))))
                    weightSum += weight
                }
                sums[index] = (loss, weightSum)
            }
        }
        let total = sums.reduce((loss: 0.0, weight: 0.0)) { ($0.loss + $1.loss, $0.weight + $1.weight) }
        return total.weight > 0 ? total.loss / total.weight : 0
    }
}
