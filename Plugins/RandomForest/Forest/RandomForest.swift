import ChurnData
import Dispatch
import Foundation

/// Hyperparameters of a forest, validated by the plugin before fitting.
public struct ForestOptions: Sendable, Hashable, Codable {
    // The initial values are the plugin's defaults (`ForestParameters.specs`, chosen by
    // `churn-bench defaults` over six dataset shapes: docs/defaults.md); a test keeps them equal.
    public var trees = 300
    /// 0: unlimited.
    public var maxDepth = 12
    public var minSamplesLeaf = 10
    public var minSamplesSplit = 2
    /// Candidate features per split, resolved from `max_features` for the data's width (the
    /// default, a third of the columns, resolves to 8 for 25 columns).
    public var maxFeatures = 8
    /// `none` or `balanced` (weights inversely proportional to class frequencies).
    public var classWeight = "none"
    /// Bins per numeric feature (2...256).
    public var bins = 256
    /// Threads for fitting and large batches (0: one per core).
    public var threads = 0
    /// Draw each tree's rows with replacement; without it every tree sees every row once.
    public var bootstrap = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case trees = "n_trees", maxDepth = "max_depth", minSamplesLeaf = "min_samples_leaf"
        case minSamplesSplit = "min_samples_split", maxFeatures = "max_features", classWeight = "class_weight", bins, threads
        case bootstrap
    }

    var threadCount: Int { threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// What fitting measured besides the model.
public struct FitReport: Sendable {
    /// ROC-AUC of out-of-bag predictions (nil when no row was ever out of bag).
    public var outOfBagAUC: Double?
    /// Mean decrease in impurity per matrix column, normalised to sum to 1.
    public var impurityImportance: [Double]
}

/// A random forest of CART trees on binned features: bootstrap rows per tree, `max_features`
/// candidates per split, predictions the mean of the trees' leaf churn fractions. The same seed
/// and data give a bit-identical forest, however many threads fit it.
public struct RandomForest: Sendable, Hashable {
    public var bins: FeatureBins
    public var trees: [Tree]
    public var options: ForestOptions

    /// Fits a forest. `progress` is called (from any thread) with the number of trees done.
    public static func fit(
        _ features: EncodedFeatures, labels: [Bool], options: ForestOptions, seed: UInt64,
        progress: @Sendable (Int) -> Void = { _ in }
    ) -> (RandomForest, FitReport) {
        precondition(features.rows == labels.count && features.rows > 0)
        let bins = FeatureBins.fit(features, maximumBins: options.bins)
        let columns = bins.binColumns(features)
        let labelBytes = labels.map { UInt8($0 ? 1 : 0) }
        let rows = features.rows
        let churners = Double(labelBytes.reduce(0) { $0 + Int($1) })
        let classWeights: (Double, Double) =
            options.classWeight == "balanced" && churners > 0 && churners < Double(rows)
            ? (Double(rows) / (2 * (Double(rows) - churners)), Double(rows) / (2 * churners)) : (1, 1)
        let root = SeededRandom(seed: seed)
        let treeCount = options.trees
        let threads = min(options.threadCount, treeCount)
        let results = TreeResults(count: treeCount, rows: rows, features: bins.featureCount)

        columns.withUnsafeBufferPointer { binned in
            labelBytes.withUnsafeBufferPointer { labelBuffer in
                let builder = TreeBuilder(
                    bins: binned, rows: rows, features: bins.featureCount,
                    binCounts: bins.edges.map { $0.count + 1 }, labels: labelBuffer, options: options,
                    classWeights: classWeights)
                nonisolated(unsafe) let binned = binned  // read-only while the threads run
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    var outOfBagSum = [Double](repeating: 0, count: rows)
                    var outOfBagCount = [Int32](repeating: 0, count: rows)
                    var rowBins = [UInt8](repeating: 0, count: bins.featureCount)
                    for index in stride(from: thread, to: treeCount, by: threads) {
                        var random = root.derived(UInt64(index))
                        var counts = [Int32](repeating: options.bootstrap ? 0 : 1, count: rows)
                        if options.bootstrap { for _ in 0..<rows { counts[random.below(rows)] += 1 } }
                        let (tree, importance) = builder.grow(counts: counts, random: &random)
                        for row in 0..<rows where counts[row] == 0 {
                            for feature in 0..<bins.featureCount { rowBins[feature] = binned[feature * rows + row] }
                            let leaf = rowBins.withUnsafeBufferPointer { tree.leaf(for: $0.baseAddress!) }
                            outOfBagSum[row] += Tree.probability(tree.value[leaf])
                            outOfBagCount[row] += 1
                        }
                        results.store(index, tree: tree, importance: importance)
                        progress(results.finished)
                    }
                    results.merge(outOfBagSum: outOfBagSum, outOfBagCount: outOfBagCount)
                }
            }
        }
        let forest = RandomForest(bins: bins, trees: results.trees, options: options)
        return (forest, results.report(labels: labels))
    }

    // MARK: Prediction

    /// Churn probabilities of every row (compiling the forest first; keep a ``CompiledForest``
    /// to score repeatedly).
    public func predict(_ features: EncodedFeatures) -> [Double] {
        predict(features, compiled: CompiledForest(self))
    }

    /// Churn probabilities of every row, with a compiled copy of this forest.
    public func predict(_ features: EncodedFeatures, compiled: CompiledForest) -> [Double] {
        compiled.predict(bins: bins.binRows(features), rows: features.rows, threads: min(options.threadCount, 2))
    }

    /// Path attribution (Saabas): the forest's mean root value, and per matrix column the mean
    /// change in value along each tree's path where that column splits. `bias + sum = probability`.
    public func contributions(_ features: EncodedFeatures, row: Int) -> (bias: Double, columns: [Double], probability: Double) {
        let single = features.rows == 1 ? features : features.rows([row])
        let binned = bins.binRows(single)
        var columns = [Double](repeating: 0, count: bins.featureCount)
        var bias = 0.0
        var probability = 0.0
        binned.withUnsafeBufferPointer { rowBins in
            for tree in trees {
                var node = 0
                bias += Tree.probability(tree.value[0])
                while tree.feature[node] != Tree.leaf {
                    let feature = Int(tree.feature[node])
                    let next = rowBins[feature] <= tree.threshold[node] ? node + 1 : Int(tree.right[node])
                    columns[feature] += Tree.probability(tree.value[next]) - Tree.probability(tree.value[node])
                    node = next
                }
                probability += Tree.probability(tree.value[node])
            }
        }
        let count = Double(trees.count)
        return (bias / count, columns.map { $0 / count }, probability / count)
    }

    /// What permutation importance shuffles: one categorical field (all its one-hot columns move
    /// together), or one numeric column.
    public enum PermutedInput: Sendable, Hashable {
        case field(Int)
        case numeric(Int)
    }

    /// The drop in ROC-AUC on `features` when each input is shuffled across rows, averaged over
    /// `repeats` shuffles.
    public func permutationImportance(
        _ features: EncodedFeatures, labels: [Bool], inputs: [PermutedInput], repeats: Int = 3, seed: UInt64
    ) -> [Double] {
        guard let baseline = Metrics.rocAUC(labels, predict(features)) else { return inputs.map { _ in 0 } }
        var random = SeededRandom(seed: seed)
        return inputs.map { input in
            var drop = 0.0
            for _ in 0..<repeats {
                var shuffled = features
                var order = Array(0..<features.rows)
                order.shuffle(using: &random)
                for row in 0..<features.rows {
                    switch input {
                    case .field(let field):
                        shuffled.active[row * features.fields + field] = features.active[order[row] * features.fields + field]
                    case .numeric(let index):
                        shuffled.numeric[row * features.numericCount + index] =
                            features.numeric[order[row] * features.numericCount + index]
                    }
                }
                drop += baseline - (Metrics.rocAUC(labels, predict(shuffled)) ?? baseline)
            }
            return drop / Double(repeats)
        }
    }
}

/// Trees and out-of-bag sums gathered from the fitting threads.
private final class TreeResults: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Tree?]
    private var importances: [[Double]]
    private var outOfBagSum: [Double]
    private var outOfBagCount: [Int32]
    private var done = 0

    init(count: Int, rows: Int, features: Int) {
        stored = Array(repeating: nil, count: count)
        importances = Array(repeating: [], count: count)
        outOfBagSum = [Double](repeating: 0, count: rows)
        outOfBagCount = [Int32](repeating: 0, count: rows)
    }

    var finished: Int { lock.withLock { done } }

    func store(_ index: Int, tree: Tree, importance: [Double]) {
        lock.withLock {
            stored[index] = tree
            importances[index] = importance
            done += 1
        }
    }

    func merge(outOfBagSum sum: [Double], outOfBagCount count: [Int32]) {
        lock.withLock {
            for row in sum.indices {
                outOfBagSum[row] += sum[row]
                outOfBagCount[row] += count[row]
            }
        }
    }

    var trees: [Tree] { lock.withLock { stored.map { $0! } } }

    func report(labels: [Bool]) -> FitReport {
        lock.withLock {
            // Per tree normalised (as scikit-learn does), then averaged and normalised.
            var total = [Double](repeating: 0, count: importances.first?.count ?? 0)
            for importance in importances {
                let sum = importance.reduce(0, +)
                guard sum > 0 else { continue }
                for index in importance.indices { total[index] += importance[index] / sum }
            }
            let sum = total.reduce(0, +)
            let normalised = sum > 0 ? total.map { $0 / sum } : total
            let scored = labels.indices.filter { outOfBagCount[$0] > 0 }
            let auc = Metrics.rocAUC(
                scored.map { labels[$0] }, scored.map { outOfBagSum[$0] / Double(outOfBagCount[$0]) })
            return FitReport(outOfBagAUC: auc, impurityImportance: normalised)
        }
    }
}
