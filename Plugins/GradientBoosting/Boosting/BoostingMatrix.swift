/// One input column of a ``BoostingMatrix``: how its codes are read.
public struct BoostingFeature: Sendable, Hashable, Codable {
    /// How a split reads a feature's codes.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Codes are ordered bins: a split sends `code <= threshold` left.
        case numeric
        /// Codes are categories without an order: a split sends a set of them left.
        case categorical
    }

    public var kind: Kind
    /// Bins (numeric) or categories (categorical): codes are `0..<binCount`, at most 255, so the
    /// code 255 always means missing.
    public var binCount: Int

    public init(kind: Kind, binCount: Int) {
        self.kind = kind
        self.binCount = binCount
    }

    /// A numeric feature with `bins` ordered bins.
    public static func numeric(bins: Int) -> BoostingFeature { BoostingFeature(kind: .numeric, binCount: bins) }

    /// A categorical feature with `categories` unordered categories.
    public static func categorical(categories: Int) -> BoostingFeature {
        BoostingFeature(kind: .categorical, binCount: categories)
    }
}

/// The rows boosting learns from or scores: one byte per row and feature, column-major.
///
/// `codes[feature * rows + row]` is a numeric feature's bin (`0..<binCount`, ordered) or a
/// categorical feature's category (`0..<binCount`, unordered); ``missing`` (255) is a missing
/// value. Numeric columns are usually binned with a ``NumericBinner``.
public struct BoostingMatrix: Sendable {
    /// The code of a missing value.
    public static let missing: UInt8 = 255
    /// The most bins or categories a feature may have (every code but ``missing``).
    public static let maximumBinCount = 255

    public let rows: Int
    public let features: [BoostingFeature]
    /// Column-major codes: `codes[feature * rows + row]`.
    public var codes: [UInt8]

    /// A matrix of `rows` rows; `codes` holds `rows * features.count` column-major codes.
    public init(rows: Int, features: [BoostingFeature], codes: [UInt8]) {
        precondition(rows >= 0 && codes.count == rows * features.count, "codes must hold rows × features values")
        self.rows = rows
        self.features = features
        self.codes = codes
    }

    /// The code of one cell.
    @inline(__always)
    public func code(row: Int, feature: Int) -> UInt8 { codes[feature * rows + row] }

    /// The given rows, in the given order (e.g. to split off validation rows).
    public func rows(_ indices: [Int]) -> BoostingMatrix {
        var picked = [UInt8](repeating: 0, count: indices.count * features.count)
        for feature in features.indices {
            let source = feature * rows
            let target = feature * indices.count
            for (position, row) in indices.enumerated() { picked[target + position] = codes[source + row] }
        }
        return BoostingMatrix(rows: indices.count, features: features, codes: picked)
    }

    /// Throws if a feature's declared size is out of range or a code is neither in `0..<binCount`
    /// nor ``missing``; `name` says which matrix ("training", "validation") in the error.
    func checkCodes(name: String) throws {
        for (feature, description) in features.enumerated() {
            guard (1...Self.maximumBinCount).contains(description.binCount) else {
                throw BoostingError.invalidFeature(feature: feature, binCount: description.binCount)
            }
            let limit = description.binCount
            let column = feature * rows
            for row in 0..<rows {
                let code = codes[column + row]
                if Int(code) >= limit && code != Self.missing {
                    throw BoostingError.invalidCode(matrix: name, feature: feature, row: row, code: code, binCount: limit)
                }
            }
        }
    }
}
