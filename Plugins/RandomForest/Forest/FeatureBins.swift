import ChurnData

/// Each feature cut into at most 256 ordered bins, so trees split on one byte per value.
/// A feature with few distinct values gets a bin per value and edges at the midpoints between
/// them (the thresholds an exact CART would pick); one with many gets quantile edges.
public struct FeatureBins: Sendable, Hashable, Codable {
    /// `edges[feature]`: ascending upper bounds; a value goes to the first bin whose edge is >= it.
    public var edges: [[Float]]

    public var featureCount: Int { edges.count }

    /// Fits edges on the rows of a compact encoding.
    public static func fit(_ features: EncodedFeatures, maximumBins: Int = 256) -> FeatureBins {
        precondition((2...256).contains(maximumBins))
        var edges: [[Float]] = []
        for column in 0..<features.width {
            if column < features.numericOffset {
                edges.append([0.5])  // one-hot: 0 or 1
                continue
            }
            var values = (0..<features.rows).map { features.numeric[$0 * features.numericCount + column - features.numericOffset] }
            values.sort()
            var distinct: [Float] = []
            for value in values where distinct.last != value { distinct.append(value) }
            if distinct.count <= maximumBins {
                edges.append(zip(distinct, distinct.dropFirst()).map { ($0 + $1) / 2 })
            } else {
                var cuts: [Float] = []
                for index in 1..<maximumBins {
                    let position = Int((Double(index) / Double(maximumBins) * Double(values.count - 1)).rounded())
                    let cut = values[position]
                    if cuts.last.map({ cut > $0 }) ?? true, cut < distinct.last! { cuts.append(cut) }
                }
                edges.append(cuts)
            }
        }
        return FeatureBins(edges: edges)
    }

    /// The bin of `value` for `feature`.
    @inline(__always)
    public func bin(_ feature: Int, _ value: Float) -> UInt8 {
        edges[feature].withUnsafeBufferPointer { cuts in
            var low = 0
            var high = cuts.count
            while low < high {
                let middle = (low + high) >> 1
                if value <= cuts[middle] { high = middle } else { low = middle + 1 }
            }
            return UInt8(low)
        }
    }

    /// Every row binned, feature-major: `result[feature * rows + row]`.
    public func binColumns(_ features: EncodedFeatures) -> [UInt8] {
        let rows = features.rows
        var result = [UInt8](repeating: 0, count: rows * featureCount)
        result.withUnsafeMutableBufferPointer { output in
            features.active.withUnsafeBufferPointer { active in
                for row in 0..<rows {
                    for field in 0..<features.fields { output[Int(active[row * features.fields + field]) * rows + row] = 1 }
                }
            }
            for index in 0..<features.numericCount {
                let feature = features.numericOffset + index
                for row in 0..<rows {
                    output[feature * rows + row] = bin(feature, features.numeric[row * features.numericCount + index])
                }
            }
        }
        return result
    }

    /// Every row binned, row-major: `result[row * featureCount + feature]` (for prediction).
    public func binRows(_ features: EncodedFeatures) -> [UInt8] {
        let width = featureCount
        var result = [UInt8](repeating: 0, count: features.rows * width)
        result.withUnsafeMutableBufferPointer { output in
            for row in 0..<features.rows {
                let base = row * width
                for field in 0..<features.fields { output[base + Int(features.active[row * features.fields + field])] = 1 }
                for index in 0..<features.numericCount {
                    let feature = features.numericOffset + index
                    output[base + feature] = bin(feature, features.numeric[row * features.numericCount + index])
                }
            }
        }
        return result
    }
}
