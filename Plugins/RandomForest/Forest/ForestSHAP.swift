import ChurnData
import ChurnTreeSHAP

/// Exact Shapley values of a forest's probability (TreeSHAP, Lundberg et al.), per *player*: each
/// encoded column is mapped to the input field it comes from, so a categorical field's one-hot
/// columns are one player, and what a field is worth is its exact Shapley value, not a sum of its
/// columns'. The forest's output is the mean of its trees' leaf probabilities, so its Shapley
/// values are the mean of the trees'; `bias + Σ phi` is the forest's probability.
///
/// Built once per loaded forest (the trees as TreeSHAP reads them); nil for a forest without
/// covers (an artifact of format 1), which explains by path attribution instead.
public struct ForestSHAP: Sendable {
    private let trees: [SHAPTree]
    private let summaries: [SHAPTree.Summary]
    /// The player of each encoded column.
    private let playerOf: [Int32]
    public let players: Int

    public init?(_ forest: RandomForest, playerOf columns: [Int], players: Int) {
        guard !forest.trees.isEmpty, forest.trees.allSatisfy({ $0.cover.count == $0.nodeCount }) else { return nil }
        precondition(columns.count == forest.bins.featureCount && columns.allSatisfy { (0..<players).contains($0) })
        self.players = players
        self.playerOf = columns.map(Int32.init)
        self.trees = forest.trees.map { tree in
            var left = [Int32](repeating: -1, count: tree.nodeCount)
            var right = [Int32](repeating: -1, count: tree.nodeCount)
            var feature = [Int32](repeating: 0, count: tree.nodeCount)
            for node in 0..<tree.nodeCount where tree.feature[node] != Tree.leaf {
                left[node] = Int32(node + 1)
                right[node] = Int32(tree.right[node])
                feature[node] = Int32(columns[Int(tree.feature[node])])
            }
            return SHAPTree(
                left: left, right: right, feature: feature, cover: tree.cover.map { max(Double($0), 1e-12) },
                value: tree.value.map(Tree.probability))
        }
        self.summaries = trees.map(TreeSHAP.summary)
    }

    /// The forest's probability for `row` of `features`, its expected value (the bias) and each
    /// player's exact Shapley value.
    public func explain(
        _ forest: RandomForest, _ features: EncodedFeatures, row: Int, workspace: inout TreeSHAPWorkspace
    ) -> (bias: Double, phi: [Double], probability: Double) {
        let single = features.rows == 1 ? features : features.rows([row])
        let binned = forest.bins.binRows(single)
        var phi = [Double](repeating: 0, count: players)
        var bias = 0.0
        binned.withUnsafeBufferPointer { rowBins in
            for (index, tree) in forest.trees.enumerated() {
                bias += TreeSHAP.explain(
                    trees[index], summary: summaries[index], players: players, goesLeft: { node in rowBins[Int(tree.feature[node])] <= tree.threshold[node] },
                    into: &phi, workspace: &workspace)
            }
        }
        let count = Double(forest.trees.count)
        let mean = phi.map { $0 / count }
        let expected = bias / count
        return (expected, mean, expected + mean.reduce(0, +))
    }
}
