import ChurnData

/// Grows one CART classification tree on binned features with Gini impurity: at each node it
/// draws `maxFeatures` candidate features (more when none of them can split, as scikit-learn
/// does), builds a weighted class histogram per candidate over its bins, and takes the
/// threshold with the largest impurity decrease that leaves at least `minSamplesLeaf` rows on
/// each side.
struct TreeBuilder: @unchecked Sendable {  // read-only views of arrays that outlive every use
    /// Feature-major bins: `bins[feature * rows + row]`.
    let bins: UnsafeBufferPointer<UInt8>
    let rows: Int
    let features: Int
    /// Bins per feature.
    let binCounts: [Int]
    /// 1 for a churner.
    let labels: UnsafeBufferPointer<UInt8>
    let options: ForestOptions
    let classWeights: (stayed: Double, churned: Double)

    /// Scratch, reused for every node of one tree.
    private final class Scratch {
        var order: [Int32]
        var weight: [Double]
        var histogramWeight = [Double](repeating: 0, count: 256)
        var histogramChurned = [Double](repeating: 0, count: 256)
        var histogramRows = [Int32](repeating: 0, count: 256)
        var candidates: [Int]
        var tree = Tree()
        var importance: [Double]
        /// Per row: count | churned count << 21 | 1 << 42, when weights are whole numbers.
        var packedPointer: UnsafeMutablePointer<UInt64>?
        let packedHistogramPointer = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)

        deinit {
            packedPointer?.deallocate()
            packedHistogramPointer.deallocate()
        }

        init(rows: Int, features: Int) {
            order = []
            order.reserveCapacity(rows)
            weight = [Double](repeating: 0, count: rows)
            candidates = Array(0..<features)
            importance = [Double](repeating: 0, count: features)
        }
    }

    private static let fieldMask: UInt64 = (1 << 21) - 1

    /// Grows a tree on the rows with a non-zero `counts` (bootstrap multiplicities).
    func grow(counts: [Int32], random: inout SeededRandom) -> (tree: Tree, importance: [Double]) {
        let scratch = Scratch(rows: rows, features: features)
        for row in 0..<rows where counts[row] > 0 {
            scratch.order.append(Int32(row))
            scratch.weight[row] = Double(counts[row]) * (labels[row] == 1 ? classWeights.churned : classWeights.stayed)
        }
        // Whole weights that fit 21 bits per node sum: histograms of packed integers.
        if classWeights == (1, 1), rows < (1 << 21) {
            let packed = UnsafeMutablePointer<UInt64>.allocate(capacity: rows)
            for row in 0..<rows {
                let count = UInt64(counts[row])
                packed[row] = count | (labels[row] == 1 ? count << 21 : 0) | (count > 0 ? 1 << 42 : 0)
            }
            scratch.packedPointer = packed
        }
        var totalWeight = 0.0, churnedWeight = 0.0
        for row in scratch.order {
            totalWeight += scratch.weight[Int(row)]
            if labels[Int(row)] == 1 { churnedWeight += scratch.weight[Int(row)] }
        }
        split(
            start: 0, end: scratch.order.count, depth: 0, weight: totalWeight, churned: churnedWeight, rootWeight: totalWeight,
            scratch: scratch, random: &random)
        return (scratch.tree, scratch.importance)
    }

    @inline(__always) private static func gini(_ weight: Double, _ churned: Double) -> Double {
        guard weight > 0 else { return 0 }
        let p = churned / weight
        return 2 * p * (1 - p)
    }

    private func split(
        start: Int, end: Int, depth: Int, weight: Double, churned: Double, rootWeight: Double, scratch: Scratch,
        random: inout SeededRandom
    ) {
        let node = scratch.tree.nodeCount
        scratch.tree.feature.append(Tree.leaf)
        scratch.tree.threshold.append(0)
        scratch.tree.right.append(0)
        scratch.tree.value.append(Tree.quantize(weight > 0 ? churned / weight : 0))
        scratch.tree.cover.append(Float(weight))
        let count = end - start
        let impurity = Self.gini(weight, churned)
        guard impurity > 1e-12, count >= options.minSamplesSplit, count >= 2 * options.minSamplesLeaf,
            options.maxDepth == 0 || depth < options.maxDepth
        else { return }

        // Find the best split among the candidate features.
        var best = (feature: -1, threshold: 0, gain: 0.0, leftWeight: 0.0, leftChurned: 0.0)
        var inspected = 0
        var drawn = 0
        let minimumLeaf = Int32(options.minSamplesLeaf)
        let packedRows = scratch.packedPointer
        let packedHistogram = scratch.packedHistogramPointer
        scratch.order.withUnsafeBufferPointer { order in
            scratch.weight.withUnsafeBufferPointer { weights in
                scratch.histogramWeight.withUnsafeMutableBufferPointer { histogramWeight in
                    scratch.histogramChurned.withUnsafeMutableBufferPointer { histogramChurned in
                        scratch.histogramRows.withUnsafeMutableBufferPointer { histogramRows in
                            while drawn < features && (inspected < options.maxFeatures || best.feature < 0) {
                                // Draw the next candidate without replacement.
                                let pick = drawn + random.below(features - drawn)
                                scratch.candidates.swapAt(drawn, pick)
                                let feature = scratch.candidates[drawn]
                                drawn += 1
                                let binCount = binCounts[feature]
                                guard binCount > 1 else { continue }
                                let column = bins.baseAddress! + feature * rows
                                if let packedRows {
                                    // Integer weights: one add per row into a packed histogram.
                                    for bin in 0..<binCount { packedHistogram[bin] = 0 }
                                    for position in start..<end {
                                        let row = Int(order[position])
                                        packedHistogram[Int(column[row])] &+= packedRows[row]
                                    }
                                    for bin in 0..<binCount {
                                        let cell = packedHistogram[bin]
                                        histogramWeight[bin] = Double(cell & Self.fieldMask)
                                        histogramChurned[bin] = Double((cell >> 21) & Self.fieldMask)
                                        histogramRows[bin] = Int32(cell >> 42)
                                    }
                                } else {
                                    for bin in 0..<binCount {
                                        histogramWeight[bin] = 0
                                        histogramChurned[bin] = 0
                                        histogramRows[bin] = 0
                                    }
                                    for position in start..<end {
                                        let row = Int(order[position])
                                        let bin = Int(column[row])
                                        let rowWeight = weights[row]
                                        histogramWeight[bin] += rowWeight
                                        histogramChurned[bin] += labels[row] == 1 ? rowWeight : 0
                                        histogramRows[bin] += 1
                                    }
                                }
                                // A feature constant in this node does not count towards max_features.
                                var occupied = 0
                                for bin in 0..<binCount where histogramRows[bin] > 0 { occupied += 1 }
                                guard occupied > 1 else { continue }
                                inspected += 1
                                var leftWeight = 0.0, leftChurned = 0.0
                                var leftRows: Int32 = 0
                                for bin in 0..<(binCount - 1) {
                                    leftWeight += histogramWeight[bin]
                                    leftChurned += histogramChurned[bin]
                                    leftRows += histogramRows[bin]
                                    guard histogramRows[bin] > 0 else { continue }
                                    let rightRows = Int32(count) - leftRows
                                    if leftRows < minimumLeaf { continue }
                                    if rightRows < minimumLeaf { break }
                                    let rightWeight = weight - leftWeight
                                    let rightChurned = churned - leftChurned
                                    let gain =
                                        weight * impurity - leftWeight * Self.gini(leftWeight, leftChurned)
                                        - rightWeight * Self.gini(rightWeight, rightChurned)
                                    if gain > best.gain + 1e-12 {
                                        best = (feature, bin, gain, leftWeight, leftChurned)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard best.feature >= 0 else { return }

        // Partition the node's rows: bin <= threshold to the left.
        let column = bins.baseAddress! + best.feature * rows
        let threshold = UInt8(best.threshold)
        var middle = start
        scratch.order.withUnsafeMutableBufferPointer { order in
            for position in start..<end where column[Int(order[position])] <= threshold {
                order.swapAt(position, middle)
                middle += 1
            }
        }
        scratch.importance[best.feature] += best.gain / rootWeight
        scratch.tree.feature[node] = UInt8(best.feature)
        scratch.tree.threshold[node] = threshold
        split(
            start: start, end: middle, depth: depth + 1, weight: best.leftWeight, churned: best.leftChurned,
            rootWeight: rootWeight, scratch: scratch, random: &random)
        scratch.tree.right[node] = UInt32(scratch.tree.nodeCount)
        split(
            start: middle, end: end, depth: depth + 1, weight: weight - best.leftWeight, churned: churned - best.leftChurned,
            rootWeight: rootWeight, scratch: scratch, random: &random)
    }
}
