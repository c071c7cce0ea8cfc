/// The gradient and hessian of one row, kept together so a node's rows are gathered once and
/// then read in order by every feature.
struct GradientPair: Sendable {
    var gradient: Double
    var hessian: Double
}

/// Sums over a set of rows: of gradients, hessians, and the rows themselves.
struct NodeSums: Sendable, Hashable {
    var gradient = 0.0
    var hessian = 0.0
    var count = 0

    static func + (a: NodeSums, b: NodeSums) -> NodeSums {
        NodeSums(gradient: a.gradient + b.gradient, hessian: a.hessian + b.hessian, count: a.count + b.count)
    }

    static func - (a: NodeSums, b: NodeSums) -> NodeSums {
        NodeSums(gradient: a.gradient - b.gradient, hessian: a.hessian - b.hessian, count: a.count - b.count)
    }
}

/// A node's histograms: for every feature, 256 bins of sums indexed by code (the bin or
/// category, and 255 for missing), `bins[feature * 256 + code]`.
enum Histogram {
    static let binsPerFeature = 256

    /// Builds the histograms of `features` over the rows `rows[0..<count]`, whose gradient pairs
    /// are `ordered[0..<count]` (gathered in the same order). Features are shared out across up to
    /// `threads` threads; each feature's bins are summed by one thread in row order, so the sums
    /// are the same whatever the thread count.
    static func build(
        into bins: UnsafeMutablePointer<NodeSums>, features: [Int], binCounts: [Int], codes: UnsafePointer<UInt8>,
        matrixRows: Int, rows: UnsafePointer<Int32>, ordered: UnsafePointer<GradientPair>, count: Int, threads: Int
    ) {
        // Below this much work a second thread costs more than it saves.
        let parts = count * features.count >= 1 << 14 ? min(threads, features.count) : 1
        nonisolated(unsafe) let bins = bins
        nonisolated(unsafe) let codes = codes
        nonisolated(unsafe) let rows = rows
        nonisolated(unsafe) let ordered = ordered
        Parallel.forEach(parts, threads: parts) { part in
            let first = part * features.count / parts
            let last = (part + 1) * features.count / parts
            var index = first
            // Four features a pass: each row's index and gradient pair are read once for all four.
            while index + 4 <= last {
                let group = (features[index], features[index + 1], features[index + 2], features[index + 3])
                buildFourFeatures(
                    (bins + group.0 * binsPerFeature, bins + group.1 * binsPerFeature, bins + group.2 * binsPerFeature,
                     bins + group.3 * binsPerFeature),
                    binCounts: (binCounts[group.0], binCounts[group.1], binCounts[group.2], binCounts[group.3]),
                    columns: (codes + group.0 * matrixRows, codes + group.1 * matrixRows, codes + group.2 * matrixRows,
                              codes + group.3 * matrixRows),
                    rows: rows, ordered: ordered, count: count)
                index += 4
            }
            while index < last {
                let feature = features[index]
                buildFeature(
                    bins + feature * binsPerFeature, binCount: binCounts[feature], column: codes + feature * matrixRows,
                    rows: rows, ordered: ordered, count: count)
                index += 1
            }
        }
    }

    /// Zeroes the bins in use and the missing bin.
    @inline(__always)
    private static func clear(_ bins: UnsafeMutablePointer<NodeSums>, binCount: Int) {
        for bin in 0..<binCount { bins[bin] = NodeSums() }
        bins[Int(BoostingMatrix.missing)] = NodeSums()
    }

    /// Adds one row's pair to a bin.
    @inline(__always)
    private static func add(_ pair: GradientPair, to bin: UnsafeMutablePointer<NodeSums>) {
        bin.pointee.gradient += pair.gradient
        bin.pointee.hessian += pair.hessian
        bin.pointee.count += 1
    }

    /// Four features' bins in one pass over the rows; each feature's bins get the rows in row
    /// order, so the sums are exactly those of four single passes.
    @inline(__always)
    private static func buildFourFeatures(
        _ bins: (UnsafeMutablePointer<NodeSums>, UnsafeMutablePointer<NodeSums>, UnsafeMutablePointer<NodeSums>, UnsafeMutablePointer<NodeSums>),
        binCounts: (Int, Int, Int, Int),
        columns: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        rows: UnsafePointer<Int32>, ordered: UnsafePointer<GradientPair>, count: Int
    ) {
        clear(bins.0, binCount: binCounts.0)
        clear(bins.1, binCount: binCounts.1)
        clear(bins.2, binCount: binCounts.2)
        clear(bins.3, binCount: binCounts.3)
        for position in 0..<count {
            let row = Int(rows[position])
            let pair = ordered[position]
            add(pair, to: bins.0 + Int(columns.0[row]))
            add(pair, to: bins.1 + Int(columns.1[row]))
            add(pair, to: bins.2 + Int(columns.2[row]))
            add(pair, to: bins.3 + Int(columns.3[row]))
        }
    }

    /// One feature's bins: zeroed, then every row added in order.
    @inline(__always)
    private static func buildFeature(
        _ bins: UnsafeMutablePointer<NodeSums>, binCount: Int, column: UnsafePointer<UInt8>, rows: UnsafePointer<Int32>,
        ordered: UnsafePointer<GradientPair>, count: Int
    ) {
        clear(bins, binCount: binCount)
        for position in 0..<count { add(ordered[position], to: bins + Int(column[Int(rows[position])])) }
    }

    /// `larger = parent − smaller`, in place over the parent's histograms: the sibling built for
    /// free (only the bins in use and the missing bin).
    static func subtract(
        _ smaller: UnsafePointer<NodeSums>, from parent: UnsafeMutablePointer<NodeSums>, features: [Int], binCounts: [Int]
    ) {
        for feature in features {
            let base = feature * binsPerFeature
            for bin in 0..<binCounts[feature] { parent[base + bin] = parent[base + bin] - smaller[base + bin] }
            let missing = base + Int(BoostingMatrix.missing)
            parent[missing] = parent[missing] - smaller[missing]
        }
    }
}

/// Histogram blocks for one fit, one per leaf that may still split, reused across nodes and
/// trees.
final class HistogramPool {
    private let size: Int
    private var blocks: [UnsafeMutablePointer<NodeSums>] = []
    private var free: [Int] = []

    init(features: Int) {
        size = features * Histogram.binsPerFeature
    }

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// A block to build into (its contents are stale until built).
    func acquire() -> Int {
        if let index = free.popLast() { return index }
        let block = UnsafeMutablePointer<NodeSums>.allocate(capacity: size)
        block.initialize(repeating: NodeSums(), count: size)
        blocks.append(block)
        return blocks.count - 1
    }

    func release(_ index: Int) { free.append(index) }

    func block(_ index: Int) -> UnsafeMutablePointer<NodeSums> { blocks[index] }
}
