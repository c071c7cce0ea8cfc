import Foundation

/// A gradient-boosted model of churn log-odds: a base score plus the outputs of regression trees
/// grown on binned (and categorical) codes. Fit it with
/// ``fit(train:labels:weights:validation:options:progress:)``; store it with ``encoded()``.
public struct BoostingModel: Sendable, Hashable {
    /// The features the trees read, as in the training matrix.
    public let features: [BoostingFeature]
    /// The log-odds every row starts from: that of the (weighted) mean training label.
    public let baseScore: Double
    public let trees: [BoostedTree]
    /// The trees flattened for scoring.
    private let compiled: CompiledTrees

    public init(features: [BoostingFeature], baseScore: Double, trees: [BoostedTree]) {
        self.features = features
        self.baseScore = baseScore
        self.trees = trees
        compiled = CompiledTrees(trees)
    }

    // MARK: Prediction

    /// The raw score (log-odds) of one row of codes laid out row-major: `row[feature]`.
    @inline(__always)
    public func rawScore(row: UnsafePointer<UInt8>) -> Double {
        rawScore(codes: row, stride: 1)
    }

    /// The churn probability of one row-major row of codes.
    public func probability(row: UnsafePointer<UInt8>) -> Double {
        Self.sigmoid(rawScore(row: row))
    }

    /// Raw scores (log-odds) of every row of `matrix`, split across `threads` threads for large
    /// matrices (the scores do not depend on it).
    public func rawScores(_ matrix: BoostingMatrix, threads: Int = 1) -> [Double] {
        precondition(matrix.features.count == features.count, "the matrix has \(matrix.features.count) features, the model \(features.count)")
        let rows = matrix.rows
        guard !matrix.codes.isEmpty else { return [Double](repeating: baseScore, count: rows) }
        var scores = [Double](repeating: 0, count: rows)
        matrix.codes.withUnsafeBufferPointer { codes in
            scores.withUnsafeMutableBufferPointer { scores in
                nonisolated(unsafe) let codes = codes.baseAddress!
                nonisolated(unsafe) let scores = scores.baseAddress!
                let chunk = 1024
                let chunks = (rows + chunk - 1) / chunk
                let parts = rows >= 4096 ? max(1, min(threads, chunks)) : 1
                Parallel.forEach(chunks, threads: parts) { index in
                    for row in (index * chunk)..<min(rows, (index + 1) * chunk) {
                        scores[row] = self.rawScore(codes: codes + row, stride: rows)
                    }
                }
            }
        }
        return scores
    }

    /// Churn probabilities of every row of `matrix`.
    public func probabilities(_ matrix: BoostingMatrix, threads: Int = 1) -> [Double] {
        rawScores(matrix, threads: threads).map(Self.sigmoid)
    }

    /// The base score plus every tree's output, in tree order (the one summation order used
    /// everywhere, so a row scores the same alone or in a matrix).
    @inline(__always)
    func rawScore(codes: UnsafePointer<UInt8>, stride: Int) -> Double {
        compiled.score(base: baseScore, codes: codes, stride: stride)
    }

    /// 1 / (1 + e^−score).
    @inline(__always)
    public static func sigmoid(_ score: Double) -> Double { 1 / (1 + exp(-score)) }

    // MARK: Importance

    /// Per feature, the total gain of the splits on it, normalised to sum to 1 (all 0 when no
    /// tree splits).
    public func gainImportance() -> [Double] {
        var total = [Double](repeating: 0, count: features.count)
        for tree in trees {
            for node in 0..<tree.nodeCount where !tree.isLeaf(node) { total[Int(tree.feature[node])] += Double(tree.gain[node]) }
        }
        let sum = total.reduce(0, +)
        return sum > 0 ? total.map { $0 / sum } : total
    }

    /// Per feature, how many splits use it.
    public func splitCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: features.count)
        for tree in trees {
            for node in 0..<tree.nodeCount where !tree.isLeaf(node) { counts[Int(tree.feature[node])] += 1 }
        }
        return counts
    }
}
