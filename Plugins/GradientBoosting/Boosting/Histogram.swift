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
            for index in first..<last {
                let feature = features[index]
                buildFeature(
                    bins + feature * binsPerFeature, binCount: binCounts[feature], column: codes + feature * matrixRows,
                    rows: rows, ordered: ordered, count: count)
            }
        }
    }

    /// One feature's bins: zeroed, then every row added in order.
    @inline(__always)
    private static func buildFeature(
        _ bins: UnsafeMutablePointer<NodeSums>, binCount: Int, column: UnsafePointer<UInt8>, rows: UnsafePointer<Int32>,
        ordered: UnsafePointer<GradientPair>, count: Int
    ) {
        for bin in 0..<binCount { bins[bin] = NodeSums() }
        bins[Int(BoostingMatrix.missing)] = NodeSums()
        for position in 0..<count {
            let code = Int(column[Int(rows[position])])
            let pair = ordered[position]
            bins[code].gradient += pair.gradient
            bins[code].hessian += pair.hessian
            bins[code].count += 1
        }
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
