import ChurnData

/// Weights for a weighted mean of several configurations' out-of-fold probabilities, and an
/// honest score for them: for each fold, the weights are chosen (highest ROC-AUC over a grid of
/// weights in steps of 0.1 that sum to 1) on the other folds' rows and scored on this fold's, so
/// the blend is judged on rows that did not choose its weights. The weights it returns are then
/// chosen on all rows.
public struct BlendSearch: Sendable {
    public let labels: [Bool]
    public let folds: [[Int]]
    /// Per member, the out-of-fold probability of every row.
    public let members: [[Double]]
    /// Grid steps per unit weight.
    public let steps: Int

    public init(labels: [Bool], folds: [[Int]], members: [[Double]], steps: Int = 10) {
        precondition(members.count >= 2 && members.allSatisfy { $0.count == labels.count })
        self.labels = labels
        self.folds = folds
        self.members = members
        self.steps = steps
    }

    /// The weights chosen on all rows, and each fold's ROC-AUC under weights chosen without it.
    public func run() -> (weights: [Double], foldROCAUC: [Double]) {
        let grid = Self.grid(members: members.count, steps: steps)
        var foldScores: [Double] = []
        for fold in folds.indices {
            let inside = Set(folds[fold])
            let outside = labels.indices.filter { !inside.contains($0) }
            let weights = best(grid, rows: outside)
            foldScores.append(score(weights, rows: folds[fold]))
        }
        return (best(grid, rows: Array(labels.indices)), foldScores)
    }

    /// The weighted mean of the members' probabilities for `rows`.
    public func blended(_ weights: [Double], rows: [Int]) -> [Double] {
        rows.map { row in zip(weights, members).reduce(0) { $0 + $1.0 * $1.1[row] } }
    }

    private func score(_ weights: [Double], rows: [Int]) -> Double {
        Metrics.rocAUC(rows.map { labels[$0] }, blended(weights, rows: rows)) ?? 0.5
    }

    /// The grid point with the highest ROC-AUC on `rows` (the first such, so ties go to the
    /// point listed first: more weight on the first, best, member).
    private func best(_ grid: [[Double]], rows: [Int]) -> [Double] {
        var chosen = grid[0]
        var top = -Double.infinity
        for weights in grid {
            let value = score(weights, rows: rows)
            if value > top + 1e-12 {
                top = value
                chosen = weights
            }
        }
        return chosen
    }

    /// Every weight vector of `members` entries in multiples of 1/`steps` summing to 1, the one
    /// with all weight on the first member first.
    static func grid(members: Int, steps: Int) -> [[Double]] {
        var result: [[Double]] = []
        func fill(_ prefix: [Int], remaining: Int) {
            if prefix.count == members - 1 {
                result.append((prefix + [remaining]).map { Double($0) / Double(steps) })
                return
            }
            for amount in stride(from: remaining, through: 0, by: -1) { fill(prefix + [amount], remaining: remaining - amount) }
        }
        fill([], remaining: steps)
        return result
    }
}
