import Foundation

/// Hyperparameters of gradient boosting. The initial values are the defaults; ``validate()``
/// refuses a value out of range naming the option by its coding key.
public struct BoostingOptions: Sendable, Hashable, Codable {
    /// How a tree grows.
    public enum Growth: String, Sendable, Hashable, Codable {
        /// Level by level, every leaf that can split does (XGBoost's `depthwise`).
        case depthWise = "depth_wise"
        /// Always the leaf whose best split gains most, up to `maxLeaves` (LightGBM's way).
        case leafWise = "leaf_wise"
    }

    /// Boosting rounds (trees), at most; early stopping may keep fewer.
    public var rounds = 500
    /// Shrinkage: each leaf value is multiplied by it.
    public var learningRate = 0.1
    public var growth = Growth.leafWise
    /// Deepest leaf (root at depth 0), for both growths; 0: unlimited.
    public var maxDepth = 6
    /// Leaves per tree in leaf-wise growth.
    public var maxLeaves = 31
    /// Least hessian sum on each side of a split.
    public var minChildWeight = 1e-3
    /// Least rows on each side of a split.
    public var minDataInLeaf = 20
    /// L2 penalty on leaf values (the λ in gains and leaf values).
    public var lambdaL2 = 1.0
    /// Least gain a split must exceed.
    public var minSplitGain = 0.0
    /// Fraction of rows each round draws, without replacement.
    public var subsample = 1.0
    /// Fraction of features each tree may split on.
    public var colsampleByTree = 1.0
    /// A categorical feature with at most this many categories is split one category against the
    /// rest; a larger one by sorting its categories (LightGBM's many-vs-many split).
    public var maxCatToOneHot = 4
    /// Added to a category's hessian when sorting categories; categories with fewer rows in a
    /// node are left out of that node's sorted scan (they go right).
    public var catSmooth = 10.0
    /// Added to `lambdaL2` in the gain of sorted categorical splits.
    public var catL2 = 10.0
    /// Stop when the validation log loss has not improved for this many rounds; 0: off.
    public var earlyStoppingRounds = 20
    /// Threads for building histograms and updating scores; 0: one per core. The model does not
    /// depend on it.
    public var threads = 0
    /// Seeds row and feature sampling.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rounds, learningRate = "learning_rate", growth, maxDepth = "max_depth", maxLeaves = "max_leaves"
        case minChildWeight = "min_child_weight", minDataInLeaf = "min_data_in_leaf", lambdaL2 = "lambda_l2"
        case minSplitGain = "min_split_gain", subsample, colsampleByTree = "colsample_bytree"
        case maxCatToOneHot = "max_cat_to_onehot", catSmooth = "cat_smooth", catL2 = "cat_l2"
        case earlyStoppingRounds = "early_stopping_rounds", threads, seed
    }

    /// Reads the options an encoder wrote; a key that is absent keeps its default, so options
    /// stored before an option existed still read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func read<Value: Decodable>(_ key: CodingKeys, _ value: inout Value) throws {
            if let decoded = try container.decodeIfPresent(Value.self, forKey: key) { value = decoded }
        }
        try read(.rounds, &rounds)
        try read(.learningRate, &learningRate)
        try read(.growth, &growth)
        try read(.maxDepth, &maxDepth)
        try read(.maxLeaves, &maxLeaves)
        try read(.minChildWeight, &minChildWeight)
        try read(.minDataInLeaf, &minDataInLeaf)
        try read(.lambdaL2, &lambdaL2)
        try read(.minSplitGain, &minSplitGain)
        try read(.subsample, &subsample)
        try read(.colsampleByTree, &colsampleByTree)
        try read(.maxCatToOneHot, &maxCatToOneHot)
        try read(.catSmooth, &catSmooth)
        try read(.catL2, &catL2)
        try read(.earlyStoppingRounds, &earlyStoppingRounds)
        try read(.threads, &threads)
        try read(.seed, &seed)
    }

    /// Throws ``BoostingError/invalidOption(name:value:allowed:)`` for the first option out of
    /// range.
    public func validate() throws {
        func check(_ key: CodingKeys, _ value: some CustomStringConvertible, _ valid: Bool, _ allowed: String) throws {
            guard valid else { throw BoostingError.invalidOption(name: key.rawValue, value: value.description, allowed: allowed) }
        }
        try check(.rounds, rounds, rounds >= 1, "at least 1")
        try check(.learningRate, learningRate, learningRate > 0 && learningRate.isFinite, "greater than 0")
        try check(.maxDepth, maxDepth, maxDepth >= 0, "0 (unlimited) or more")
        try check(.maxLeaves, maxLeaves, maxLeaves >= 2, "at least 2")
        try check(.minChildWeight, minChildWeight, minChildWeight >= 0 && minChildWeight.isFinite, "0 or more")
        try check(.minDataInLeaf, minDataInLeaf, minDataInLeaf >= 1, "at least 1")
        try check(.lambdaL2, lambdaL2, lambdaL2 >= 0 && lambdaL2.isFinite, "0 or more")
        try check(.minSplitGain, minSplitGain, minSplitGain >= 0 && minSplitGain.isFinite, "0 or more")
        try check(.subsample, subsample, subsample > 0 && subsample <= 1, "in (0, 1]")
        try check(.colsampleByTree, colsampleByTree, colsampleByTree > 0 && colsampleByTree <= 1, "in (0, 1]")
        try check(.maxCatToOneHot, maxCatToOneHot, maxCatToOneHot >= 0, "0 or more")
        try check(.catSmooth, catSmooth, catSmooth >= 0 && catSmooth.isFinite, "0 or more")
        try check(.catL2, catL2, catL2 >= 0 && catL2.isFinite, "0 or more")
        try check(.earlyStoppingRounds, earlyStoppingRounds, earlyStoppingRounds >= 0, "0 (off) or more")
        try check(.threads, threads, threads >= 0, "0 (one per core) or more")
    }

    /// The threads a fit uses: `threads`, or one per core when it is 0.
    public var threadCount: Int { threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
