import Foundation

/// Grows one regression tree on gradient pairs from histograms, as LightGBM does: the rows of
/// each leaf are a range of one index array kept in ascending row order (a data partition); a
/// leaf that may split holds per-feature histograms; when it splits, only the smaller child's
/// histograms are built from rows and the larger child's are the parent's minus the smaller's.
/// Leaf-wise growth splits the leaf with the best gain until `maxLeaves`; depth-wise growth
/// splits every leaf it can, level by level. Both stop at `maxDepth`.
final class TreeGrower {
    /// Where one leaf's rows are: `order[begin..<begin + count]`.
    struct Leaf {
        var node: Int
        var begin: Int
        var count: Int
    }

    /// A leaf of the growing tree.
    private struct OpenLeaf {
        var node: Int
        var begin: Int
        var count: Int
        var sums: NodeSums
        var depth: Int
        /// Its histograms' pool block, while it may still split.
        var histogram: Int?
        var split: SplitCandidate?
    }

    /// The row indices, partitioned by leaf. The caller writes the round's rows (ascending) to
    /// `order[0..<count]` before ``grow(gradients:count:features:)``.
    let order: UnsafeMutablePointer<Int32>
    private let spill: UnsafeMutablePointer<Int32>
    private let ordered: UnsafeMutablePointer<GradientPair>
    private let codes: UnsafePointer<UInt8>
    private let rows: Int
    private let binCounts: [Int]
    private let finder: SplitFinder
    private let options: BoostingOptions
    private let threads: Int
    private let pool: HistogramPool

    /// A grower over the column-major `codes` of a `rows`-row matrix; `codes` must outlive it.
    init(codes: UnsafePointer<UInt8>, rows: Int, features: [BoostingFeature], options: BoostingOptions, threads: Int) {
        self.codes = codes
        self.rows = rows
        binCounts = features.map(\.binCount)
        finder = SplitFinder(features: features, options: options)
        self.options = options
        self.threads = threads
        pool = HistogramPool(features: features.count)
        order = .allocate(capacity: max(rows, 1))
        spill = .allocate(capacity: max(rows, 1))
        ordered = .allocate(capacity: max(rows, 1))
    }

    deinit {
        order.deallocate()
        spill.deallocate()
        ordered.deallocate()
    }

    /// Grows a tree on the rows `order[0..<count]`, splitting on `features` (ascending) only.
    /// Returns the tree and its leaves' row ranges in `order`.
    func grow(gradients: UnsafePointer<GradientPair>, count: Int, features: [Int]) -> (BoostedTree, [Leaf]) {
        var draft = TreeDraft(lambda: options.lambdaL2, learningRate: options.learningRate)
        var total = NodeSums()
        for position in 0..<count {
            let pair = gradients[Int(order[position])]
            total.gradient += pair.gradient
            total.hessian += pair.hessian
        }
        total.count = count
        var root = OpenLeaf(node: draft.addLeaf(total), begin: 0, count: count, sums: total, depth: 0)
        if splittable(root) {
            let block = pool.acquire()
            build(block, for: root, gradients: gradients, features: features)
            root.histogram = block
            findSplit(&root, features: features)
        }
        var open = [root]
        var leafCount = 1

        while options.growth == .depthWise || leafCount < options.maxLeaves, let index = next(open) {
            let parent = open.remove(at: index)
            let split = parent.split!
            let leftCount = partition(parent, by: split)
            precondition(leftCount == split.left.count, "the partition disagrees with the histogram")
            let leftNode = draft.addLeaf(split.left)
            let rightNode = draft.addLeaf(split.right)
            draft.split(parent.node, by: split, left: leftNode, right: rightNode)
            leafCount += 1

            var left = OpenLeaf(
                node: leftNode, begin: parent.begin, count: leftCount, sums: split.left, depth: parent.depth + 1)
            var right = OpenLeaf(
                node: rightNode, begin: parent.begin + leftCount, count: parent.count - leftCount, sums: split.right,
                depth: parent.depth + 1)
            let more = options.growth == .depthWise || leafCount < options.maxLeaves
            let leftMaySplit = more && splittable(left)
            let rightMaySplit = more && splittable(right)
            if left.count <= right.count {
                shareHistograms(
                    parent.histogram!, smaller: &left, larger: &right, smallerMaySplit: leftMaySplit,
                    largerMaySplit: rightMaySplit, gradients: gradients, features: features)
            } else {
                shareHistograms(
                    parent.histogram!, smaller: &right, larger: &left, smallerMaySplit: rightMaySplit,
                    largerMaySplit: leftMaySplit, gradients: gradients, features: features)
            }
            findSplit(&left, features: features)
            findSplit(&right, features: features)
            open.append(left)
            open.append(right)
        }

        for leaf in open { if let block = leaf.histogram { pool.release(block) } }
        return (draft.tree(), open.map { Leaf(node: $0.node, begin: $0.begin, count: $0.count) })
    }

    /// Whether a leaf has the rows, hessian and depth left to split.
    private func splittable(_ leaf: OpenLeaf) -> Bool {
        leaf.count >= 2 * options.minDataInLeaf && leaf.sums.hessian >= 2 * options.minChildWeight
            && (options.maxDepth == 0 || leaf.depth < options.maxDepth)
    }

    /// The leaf to split next: depth-wise the oldest, leaf-wise the best gain (the oldest on ties).
    private func next(_ open: [OpenLeaf]) -> Int? {
        var chosen: Int?
        for index in open.indices {
            guard let split = open[index].split else { continue }
            guard let current = chosen else {
                chosen = index
                continue
            }
            let best = open[current]
            switch options.growth {
            case .depthWise:
                if open[index].node < best.node { chosen = index }
            case .leafWise:
                if split.gain > best.split!.gain || (split.gain == best.split!.gain && open[index].node < best.node) {
                    chosen = index
                }
            }
        }
        return chosen
    }

    /// The leaf's best split from its histograms; a leaf without one gives its block back.
    private func findSplit(_ leaf: inout OpenLeaf, features: [Int]) {
        guard let block = leaf.histogram else { return }
        leaf.split = finder.best(histograms: pool.block(block), candidates: features, total: leaf.sums)
        if leaf.split == nil {
            pool.release(block)
            leaf.histogram = nil
        }
    }

    /// Gives the children of a split leaf their histograms: the smaller child's built from its
    /// rows, the larger's derived in the parent's block. Only children that may split keep one.
    private func shareHistograms(
        _ parentBlock: Int, smaller: inout OpenLeaf, larger: inout OpenLeaf, smallerMaySplit: Bool, largerMaySplit: Bool,
        gradients: UnsafePointer<GradientPair>, features: [Int]
    ) {
        switch (smallerMaySplit, largerMaySplit) {
        case (false, false):
            pool.release(parentBlock)
        case (true, false):
            build(parentBlock, for: smaller, gradients: gradients, features: features)
            smaller.histogram = parentBlock
        case (false, true):
            let block = pool.acquire()
            build(block, for: smaller, gradients: gradients, features: features)
            Histogram.subtract(pool.block(block), from: pool.block(parentBlock), features: features, binCounts: binCounts)
            pool.release(block)
            larger.histogram = parentBlock
        case (true, true):
            let block = pool.acquire()
            build(block, for: smaller, gradients: gradients, features: features)
            Histogram.subtract(pool.block(block), from: pool.block(parentBlock), features: features, binCounts: binCounts)
            smaller.histogram = block
            larger.histogram = parentBlock
        }
    }

    /// Builds a leaf's histograms into a pool block: its gradient pairs gathered in row order once,
    /// then every feature summed over them.
    private func build(_ block: Int, for leaf: OpenLeaf, gradients: UnsafePointer<GradientPair>, features: [Int]) {
        nonisolated(unsafe) let rowsOfLeaf = order + leaf.begin
        nonisolated(unsafe) let ordered = ordered
        nonisolated(unsafe) let gradients = gradients
        let chunk = Self.parallelRows / 2
        Parallel.forEach((leaf.count + chunk - 1) / chunk, threads: leaf.count >= Self.parallelRows ? threads : 1) { index in
            for position in (index * chunk)..<min(leaf.count, (index + 1) * chunk) {
                ordered[position] = gradients[Int(rowsOfLeaf[position])]
            }
        }
        Histogram.build(
            into: pool.block(block), features: features, binCounts: binCounts, codes: codes, matrixRows: rows,
            rows: rowsOfLeaf, ordered: ordered, count: leaf.count, threads: threads)
    }

    /// Below this many rows a leaf is partitioned and gathered by one thread.
    private static let parallelRows = 1 << 16

    /// Moves the leaf's rows that go left to the front of its range, keeping both sides in
    /// ascending row order; returns how many went left. A large leaf is cut into one segment per
    /// thread, each partitioned in place, then the segments' left rows are moved together ahead
    /// of their right rows: the same order as one pass.
    private func partition(_ leaf: OpenLeaf, by split: SplitCandidate) -> Int {
        let column = codes + split.feature * rows
        let parts = leaf.count >= Self.parallelRows ? threads : 1
        guard parts > 1 else {
            return Self.partition(order + leaf.begin, leaf.count, column: column, by: split, spill: spill)
        }
        let bounds = (0...parts).map { leaf.begin + $0 * leaf.count / parts }
        var lefts = [Int](repeating: 0, count: parts)
        lefts.withUnsafeMutableBufferPointer { lefts in
            nonisolated(unsafe) let lefts = lefts.baseAddress!
            nonisolated(unsafe) let order = order
            nonisolated(unsafe) let spill = spill
            nonisolated(unsafe) let column = column
            Parallel.forEach(parts, threads: parts) { part in
                let begin = bounds[part]
                lefts[part] = Self.partition(
                    order + begin, bounds[part + 1] - begin, column: column, by: split, spill: spill + (begin - bounds[0]))
            }
        }
        // The right rows of every segment, in segment order, set aside; then the left rows closed up.
        var rights = 0
        for part in 0..<parts {
            let rightBegin = bounds[part] + lefts[part]
            (spill + rights).update(from: order + rightBegin, count: bounds[part + 1] - rightBegin)
            rights += bounds[part + 1] - rightBegin
        }
        var write = leaf.begin
        for part in 0..<parts {
            if write != bounds[part] { memmove(order + write, order + bounds[part], lefts[part] * MemoryLayout<Int32>.stride) }
            write += lefts[part]
        }
        (order + write).update(from: spill, count: rights)
        return write - leaf.begin
    }

    /// The stable partition of `rows[0..<count]` by `split` on `column`, with `spill` as scratch
    /// for the right rows; returns how many went left.
    private static func partition(
        _ rows: UnsafeMutablePointer<Int32>, _ count: Int, column: UnsafePointer<UInt8>, by split: SplitCandidate,
        spill: UnsafeMutablePointer<Int32>
    ) -> Int {
        var write = 0
        var spilled = 0
        for position in 0..<count {
            let row = rows[position]
            if split.goesLeft(column[Int(row)]) {
                rows[write] = row
                write += 1
            } else {
                spill[spilled] = row
                spilled += 1
            }
        }
        (rows + write).update(from: spill, count: spilled)
        return write
    }
}

/// The node arrays of a tree being grown.
private struct TreeDraft {
    let lambda: Double
    let learningRate: Double
    var feature: [UInt16] = []
    var isCategorical: [Bool] = []
    var threshold: [UInt8] = []
    var categorySet: [Int32] = []
    var defaultLeft: [Bool] = []
    var left: [Int32] = []
    var right: [Int32] = []
    var value: [Double] = []
    var cover: [Double] = []
    var count: [UInt32] = []
    var gain: [Float] = []
    var sets: [CategorySet] = []

    init(lambda: Double, learningRate: Double) {
        self.lambda = lambda
        self.learningRate = learningRate
    }

    /// A new leaf for rows with `sums`; returns its index.
    mutating func addLeaf(_ sums: NodeSums) -> Int {
        feature.append(0)
        isCategorical.append(false)
        threshold.append(0)
        categorySet.append(-1)
        defaultLeft.append(false)
        left.append(-1)
        right.append(-1)
        value.append(SplitFinder.leafValue(sums, lambda: lambda) * learningRate)
        cover.append(sums.hessian)
        count.append(UInt32(sums.count))
        gain.append(0)
        return value.count - 1
    }

    /// Turns a leaf into an internal node.
    mutating func split(_ node: Int, by split: SplitCandidate, left leftChild: Int, right rightChild: Int) {
        feature[node] = UInt16(split.feature)
        isCategorical[node] = split.isCategorical
        defaultLeft[node] = split.defaultLeft
        if split.isCategorical {
            categorySet[node] = Int32(sets.count)
            sets.append(split.categories)
        } else {
            threshold[node] = split.threshold
        }
        left[node] = Int32(leftChild)
        right[node] = Int32(rightChild)
        gain[node] = Float(split.gain)
    }

    func tree() -> BoostedTree {
        BoostedTree(
            feature: feature, isCategorical: isCategorical, threshold: threshold, categorySet: categorySet,
            defaultLeft: defaultLeft, left: left, right: right, value: value, cover: cover, count: count, gain: gain,
            categorySets: sets)
    }
}
