import Dispatch

/// A forest laid out for scoring: every node of every tree in one array of 8-byte nodes, so a
/// step down a tree is one load, and leaves made self-loops (they test a sentinel byte that is
/// never <= their threshold and point right at themselves). A row then walks each tree for
/// exactly the tree's depth with no data-dependent branch, so rows overlap in the CPU instead of
/// stalling on mispredictions.
public struct CompiledForest: Sendable {
    struct Node {
        var right: UInt32
        var feature: UInt8
        var threshold: UInt8
        var value: UInt16
    }

    private let nodes: [Node]
    private let roots: [Int]
    private let depths: [Int]
    /// Matrix columns; row bins carry one more, the sentinel.
    public let featureCount: Int

    public init(_ forest: RandomForest) {
        precondition(forest.bins.featureCount < Int(Tree.leaf), "the sentinel needs a free feature index")
        featureCount = forest.bins.featureCount
        var nodes: [Node] = []
        nodes.reserveCapacity(forest.trees.reduce(0) { $0 + $1.nodeCount })
        var roots: [Int] = []
        var depths: [Int] = []
        for tree in forest.trees {
            let base = nodes.count
            roots.append(base)
            for index in 0..<tree.nodeCount {
                let global = UInt32(base + index)
                if tree.feature[index] == Tree.leaf {
                    nodes.append(Node(right: global, feature: UInt8(featureCount), threshold: 0, value: tree.value[index]))
                } else {
                    nodes.append(
                        Node(right: UInt32(base) + tree.right[index], feature: tree.feature[index],
                            threshold: tree.threshold[index], value: tree.value[index]))
                }
            }
            depths.append(Self.depth(of: tree))
        }
        self.nodes = nodes
        self.roots = roots
        self.depths = depths
    }

    private static func depth(of tree: Tree) -> Int {
        var deepest = 0
        var stack = [(0, 0)]
        while let (node, depth) = stack.popLast() {
            if tree.feature[node] == Tree.leaf {
                deepest = max(deepest, depth)
            } else {
                stack.append((node + 1, depth + 1))
                stack.append((Int(tree.right[node]), depth + 1))
            }
        }
        return deepest
    }

    /// Adds each tree's leaf value (× 65535) for rows `range` of `bins` (rows of featureCount + 1).
    /// Level by level: every row of a block takes one step down the tree before any takes the
    /// next, so the steps are independent of each other and the CPU runs many at once.
    func accumulate(bins: UnsafePointer<UInt8>, range: Range<Int>, into sums: UnsafeMutablePointer<Double>) {
        let stride = featureCount + 1
        let blockSize = 256
        withUnsafeTemporaryAllocation(of: Int.self, capacity: blockSize) { positions in
            nodes.withUnsafeBufferPointer { buffer in
                let nodes = buffer.baseAddress!
                for blockStart in Swift.stride(from: range.lowerBound, to: range.upperBound, by: blockSize) {
                    let count = min(blockSize, range.upperBound - blockStart)
                    let blockBins = bins + blockStart * stride
                    for (tree, root) in roots.enumerated() {
                        for index in 0..<count { positions[index] = root }
                        for _ in 0..<depths[tree] {
                            for index in 0..<count {
                                let node = positions[index]
                                let current = nodes[node]
                                let goesRight = blockBins[index &* stride &+ Int(current.feature)] > current.threshold
                                let mask = 0 &- Int(truncatingIfNeeded: unsafeBitCast(goesRight, to: UInt8.self))
                                let left = node &+ 1
                                positions[index] = left ^ ((left ^ Int(current.right)) & mask)
                            }
                        }
                        for index in 0..<count { sums[blockStart + index] += Double(nodes[positions[index]].value) }
                    }
                }
            }
        }
    }

    /// Row bins with the sentinel column.
    func withSentinel(_ bins: [UInt8], rows: Int) -> [UInt8] {
        var output = [UInt8](repeating: 255, count: rows * (featureCount + 1))
        for row in 0..<rows {
            for feature in 0..<featureCount { output[row * (featureCount + 1) + feature] = bins[row * featureCount + feature] }
        }
        return output
    }

    /// The mean leaf probability of each row of row-major `bins`.
    public func predict(bins: [UInt8], rows: Int, threads: Int) -> [Double] {
        let padded = withSentinel(bins, rows: rows)
        var sums = [Double](repeating: 0, count: rows)
        let scale = 1 / (65535 * Double(roots.count))
        padded.withUnsafeBufferPointer { bins in
            sums.withUnsafeMutableBufferPointer { sums in
                nonisolated(unsafe) let binBase = bins.baseAddress!
                nonisolated(unsafe) let sumBase = sums.baseAddress!
                // Below a few thousand rows a second thread costs more than it saves.
                let parts = rows >= 4096 ? max(1, threads) : 1
                if parts == 1 {
                    accumulate(bins: binBase, range: 0..<rows, into: sumBase)
                } else {
                    let chunk = (rows + parts - 1) / parts
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        accumulate(bins: binBase, range: (part * chunk)..<min((part + 1) * chunk, rows), into: sumBase)
                    }
                }
            }
        }
        return sums.map { $0 * scale }
    }
}
