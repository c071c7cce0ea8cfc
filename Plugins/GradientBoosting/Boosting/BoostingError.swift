/// Why boosting refused to fit: each case names the option, matrix, row or feature at fault.
public enum BoostingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An option outside its range, named as in ``BoostingOptions``' coding keys.
    case invalidOption(name: String, value: String, allowed: String)
    /// The training matrix has no rows.
    case noTrainingRows
    /// Two inputs that must match in size do not (labels vs rows, weights vs rows, ...).
    case sizeMismatch(what: String, expected: Int, found: Int)
    /// A feature declares a bin or category count outside 1...255.
    case invalidFeature(feature: Int, binCount: Int)
    /// A code that is neither a bin or category of its feature nor the missing code.
    case invalidCode(matrix: String, feature: Int, row: Int, code: UInt8, binCount: Int)
    /// A row weight that is negative or not finite, or weights that sum to zero (`row` -1).
    case invalidWeight(row: Int, weight: Double)
    /// The validation matrix describes its features differently from the training matrix.
    case validationFeaturesDiffer(feature: Int)

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let allowed):
            return "\(name) = \(value) is out of range: \(allowed)"
        case .noTrainingRows:
            return "the training matrix has no rows"
        case .sizeMismatch(let what, let expected, let found):
            return "\(what): expected \(expected), found \(found)"
        case .invalidFeature(let feature, let binCount):
            return "feature \(feature) declares \(binCount) bins or categories; a feature has 1...255"
        case .invalidCode(let matrix, let feature, let row, let code, let binCount):
            return "\(matrix) matrix, feature \(feature), row \(row): code \(code) is not in 0..<\(binCount) nor 255 (missing)"
        case .invalidWeight(let row, let weight):
            return row < 0
                ? "the row weights sum to \(weight); at least one row needs a positive weight"
                : "row \(row) has weight \(weight); weights must be finite and >= 0"
        case .validationFeaturesDiffer(let feature):
            return "the validation matrix's feature \(feature) differs from the training matrix's (kind or bin count)"
        }
    }
}
