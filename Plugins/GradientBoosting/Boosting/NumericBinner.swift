/// Cuts one numeric column into at most `maxBins` ordered bins, fitted on training values, so
/// boosting splits on one byte per value. A column with few distinct values gets a bin per value
/// (edges at the midpoints, the thresholds an exact search would pick); one with many gets
/// quantile edges, recomputed on what remains after each cut so a heavy value (a spike of zeros)
/// gets a bin of its own without starving the rest. NaN is missing: code 255, never a bin.
public struct NumericBinner: Sendable, Hashable, Codable {
    /// Ascending upper bounds: a value goes to the first bin whose edge is >= it, or to the last
    /// bin (`edges.count`) when it exceeds every edge.
    public var edges: [Float]

    /// Bins in use: `edges.count + 1`, between 1 and 255.
    public var binCount: Int { edges.count + 1 }

    /// A binner with known edges (e.g. read back from an artifact).
    public init(edges: [Float]) {
        precondition(edges.count < BoostingMatrix.maximumBinCount, "at most 254 edges: code 255 is missing")
        self.edges = edges
    }

    /// Fits edges on training values (NaN ignored). `maxBins` is in 2...255: codes stay below 255,
    /// which means missing.
    public static func fit(_ values: [Float], maxBins: Int = 255) -> NumericBinner {
        precondition((2...BoostingMatrix.maximumBinCount).contains(maxBins), "maxBins must be in 2...255")
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return NumericBinner(edges: []) }
        var distinct: [Float] = []
        var counts: [Int] = []
        for value in sorted {
            if distinct.last == value {
                counts[counts.count - 1] += 1
            } else {
                distinct.append(value)
                counts.append(1)
            }
        }
        if distinct.count <= maxBins {
            return NumericBinner(edges: (1..<distinct.count).map { midpoint(distinct[$0 - 1], distinct[$0]) })
        }
        // Quantiles over what is left: cut after a value once its bin holds its share of the rows
        // not yet binned, spread over the bins not yet used.
        var edges: [Float] = []
        var binned = 0
        var cumulative = 0
        for index in 0..<(distinct.count - 1) {
            cumulative += counts[index]
            let binsLeft = maxBins - edges.count
            guard binsLeft > 1 else { break }
            let share = Double(sorted.count - binned) / Double(binsLeft)
            if Double(cumulative - binned) >= share {
                edges.append(midpoint(distinct[index], distinct[index + 1]))
                binned = cumulative
            }
        }
        return NumericBinner(edges: edges)
    }

    /// A cut between two neighbouring values: `lower <= edge < upper`.
    private static func midpoint(_ lower: Float, _ upper: Float) -> Float {
        let middle = Float((Double(lower) + Double(upper)) / 2)
        return middle < upper && middle >= lower ? middle : lower
    }

    /// The code of `value`: its bin, or ``BoostingMatrix/missing`` for NaN.
    @inline(__always)
    public func bin(_ value: Float) -> UInt8 {
        guard !value.isNaN else { return BoostingMatrix.missing }
        return edges.withUnsafeBufferPointer { cuts in
            var low = 0
            var high = cuts.count
            while low < high {
                let middle = (low + high) >> 1
                if value <= cuts[middle] { high = middle } else { low = middle + 1 }
            }
            return UInt8(low)
        }
    }

    /// The codes of every value, in order.
    public func bin(_ values: [Float]) -> [UInt8] { values.map { bin($0) } }
}
