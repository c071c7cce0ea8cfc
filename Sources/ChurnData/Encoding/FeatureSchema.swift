import ChurnProtocol
import Foundation

/// Rows of encoded features, row-major: `values[row * columns + column]`.
public struct FeatureMatrix: Sendable, Hashable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns)
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// One row's values.
    public func row(_ index: Int) -> ArraySlice<Float> {
        values[(index * columns)..<((index + 1) * columns)]
    }
}

/// Encoded customers in compact form: the one-hot part as the index of each field's single
/// active column (as sparse one-hot encoders store it), the numeric part as floats. The same
/// matrix as ``dense()`` in a fraction of the memory (44 bytes a row instead of 248), and what
/// models read directly: a tree tests one index, a dense layer adds one weight column per field.
public struct EncodedFeatures: Sendable, Hashable {
    public let rows: Int
    /// Columns of the full (dense) matrix.
    public let width: Int
    /// Categorical fields per row.
    public let fields: Int
    /// Numeric columns per row; they are the last `numericCount` columns of the matrix.
    public let numericCount: Int
    /// `active[row * fields + field]`: the matrix column that is 1 for that field.
    public var active: [UInt16]
    /// `numeric[row * numericCount + index]`: the value of column `width - numericCount + index`.
    public var numeric: [Float]

    public var numericOffset: Int { width - numericCount }

    /// The value at a matrix cell.
    @inline(__always) public func value(_ row: Int, _ column: Int) -> Float {
        if column >= numericOffset { return numeric[row * numericCount + column - numericOffset] }
        for field in 0..<fields where Int(active[row * fields + field]) == column { return 1 }
        return 0
    }

    /// Writes one row of the full matrix into `output` (which must hold ``width`` zeros or more).
    public func writeRow(_ row: Int, into output: UnsafeMutableBufferPointer<Float>) {
        for column in 0..<width { output[column] = 0 }
        for field in 0..<fields { output[Int(active[row * fields + field])] = 1 }
        for index in 0..<numericCount { output[numericOffset + index] = numeric[row * numericCount + index] }
    }

    /// The full row-major matrix.
    public func dense() -> FeatureMatrix {
        var values = [Float](repeating: 0, count: rows * width)
        values.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<rows {
                writeRow(row, into: UnsafeMutableBufferPointer(rebasing: buffer[(row * width)..<((row + 1) * width)]))
            }
        }
        return FeatureMatrix(rows: rows, columns: width, values: values)
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> EncodedFeatures {
        var subset = EncodedFeatures(rows: indices.count, width: width, fields: fields, numericCount: numericCount, active: [], numeric: [])
        subset.active.reserveCapacity(indices.count * fields)
        subset.numeric.reserveCapacity(indices.count * numericCount)
        for row in indices {
            subset.active += active[(row * fields)..<((row + 1) * fields)]
            subset.numeric += numeric[(row * numericCount)..<((row + 1) * numericCount)]
        }
        return subset
    }

    public init(rows: Int, width: Int, fields: Int, numericCount: Int, active: [UInt16], numeric: [Float]) {
        self.rows = rows
        self.width = width
        self.fields = fields
        self.numericCount = numericCount
        self.active = active
        self.numeric = numeric
    }
}

/// How customers become numbers, fitted on training data and stored inside every artifact so a
/// model encodes its own inputs the same way months later:
///
/// - each categorical field one-hot over the values seen in training, plus an explicit
///   `unknown` column for any other value of the schema;
/// - each number standardised with the training mean and standard deviation; a missing
///   `TotalCharges` (only possible at tenure 0) is 0 (nothing billed yet) before scaling;
/// - optionally (the random forest) three aggregates of the derived monthly history:
///   the last charge, the mean charge and the charge slope over the window, standardised.
public struct FeatureSchema: Codable, Sendable, Hashable {
    /// The version of this encoding; a stored schema of another version is refused.
    public static let currentVersion = 1

    public var version: Int
    public var categorical: [CategoricalEncoding]
    public var numeric: [NumericEncoding]
    /// The derived-history aggregates, when the model reads them.
    public var history: HistoryAggregates?

    /// One categorical field's columns.
    public struct CategoricalEncoding: Codable, Sendable, Hashable {
        public var field: CategoricalField
        /// Values seen in training, in schema order; each has a column, then one `unknown` column.
        public var seen: [String]
    }

    /// One standardised number.
    public struct NumericEncoding: Codable, Sendable, Hashable {
        public var field: NumericField
        public var mean: Double
        public var standardDeviation: Double
        /// The raw value used when the number is missing.
        public var missingValue: Double

        enum CodingKeys: String, CodingKey {
            case field, mean
            case standardDeviation = "std"
            case missingValue = "missing_value"
        }
    }

    /// The derived-history aggregates and their scaling.
    public struct HistoryAggregates: Codable, Sendable, Hashable {
        public var window: Int
        /// Mean and standard deviation of last, mean and slope, in that order.
        public var means: [Double]
        public var standardDeviations: [Double]

        enum CodingKeys: String, CodingKey {
            case window, means
            case standardDeviations = "stds"
        }
    }

    /// Fits the encoding on `table`.
    public static func fit(_ table: CustomerTable, historyAggregates: Bool = false, window: Int = DerivedHistory.defaultWindow)
        -> FeatureSchema
    {
        let categorical = CategoricalField.allCases.map { field in
            var present = [Bool](repeating: false, count: field.values.count)
            for code in table.codes[field.rawValue] { present[Int(code)] = true }
            return CategoricalEncoding(field: field, seen: field.values.enumerated().filter { present[$0.offset] }.map(\.element))
        }
        let numeric = NumericField.allCases.map { field in
            let missingValue = 0.0
            let values = table.numbers[field.rawValue].map { $0.isNaN ? missingValue : $0 }
            let (mean, deviation) = meanAndDeviation(values)
            return NumericEncoding(field: field, mean: mean, standardDeviation: deviation, missingValue: missingValue)
        }
        var history: HistoryAggregates?
        if historyAggregates {
            var columns: [[Double]] = [[], [], []]
            for row in 0..<table.count {
                let aggregate = DerivedHistory.aggregates(
                    tenure: table.number(.tenure, row), monthly: table.number(.monthlyCharges, row),
                    total: table.number(.totalCharges, row), window: window)
                columns[0].append(aggregate.last)
                columns[1].append(aggregate.mean)
                columns[2].append(aggregate.slope)
            }
            let fitted = columns.map(meanAndDeviation)
            history = HistoryAggregates(window: window, means: fitted.map(\.0), standardDeviations: fitted.map(\.1))
        }
        return FeatureSchema(version: currentVersion, categorical: categorical, numeric: numeric, history: history)
    }

    private static func meanAndDeviation(_ values: [Double]) -> (Double, Double) {
        guard !values.isEmpty else { return (0, 1) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        let deviation = variance.squareRoot()
        return (mean, deviation > 1e-12 ? deviation : 1)
    }

    // MARK: Layout

    /// Columns of the encoded matrix.
    public var width: Int {
        categorical.reduce(0) { $0 + $1.seen.count + 1 } + numeric.count + (history == nil ? 0 : 3)
    }

    /// A name per column: `Contract=Two year`, `Contract=unknown`, `tenure`, `history.charge_slope`.
    public var featureNames: [String] {
        var names: [String] = []
        for encoding in categorical {
            names += encoding.seen.map { "\(encoding.field.name)=\($0)" }
            names.append("\(encoding.field.name)=unknown")
        }
        names += numeric.map(\.field.name)
        if history != nil { names += ["history.charge_last", "history.charge_mean", "history.charge_slope"] }
        return names
    }

    /// The input field each column comes from, for folding contributions back onto fields.
    public var columnFields: [String] {
        var fields: [String] = []
        for encoding in categorical { fields += Array(repeating: encoding.field.name, count: encoding.seen.count + 1) }
        fields += numeric.map(\.field.name)
        if history != nil { fields += ["history.charge_last", "history.charge_mean", "history.charge_slope"] }
        return fields
    }

    // MARK: Encoding

    /// Column offsets, and per field a code → column lookup (-1: the unknown column).
    private struct Plan {
        var offsets: [Int] = []
        var lookups: [[Int]] = []
    }

    private var plan: Plan {
        var plan = Plan()
        var offset = 0
        for encoding in categorical {
            plan.offsets.append(offset)
            plan.lookups.append(
                encoding.field.values.map { value in encoding.seen.firstIndex(of: value) ?? encoding.seen.count })
            offset += encoding.seen.count + 1
        }
        return plan
    }

    /// Encodes every row of `table`.
    public func encode(_ table: CustomerTable) -> EncodedFeatures {
        let plan = self.plan
        let fields = categorical.count
        let numericCount = numeric.count + (history == nil ? 0 : 3)
        var active = [UInt16](repeating: 0, count: table.count * fields)
        var numbers = [Float](repeating: 0, count: table.count * numericCount)
        for (index, encoding) in categorical.enumerated() {
            let column = table.codes[encoding.field.rawValue]
            let offset = plan.offsets[index]
            let lookup = plan.lookups[index]
            for row in 0..<table.count {
                active[row * fields + index] = UInt16(offset + lookup[Int(column[row])])
            }
        }
        for (index, encoding) in numeric.enumerated() {
            let column = table.numbers[encoding.field.rawValue]
            for row in 0..<table.count {
                let value = column[row].isNaN ? encoding.missingValue : column[row]
                numbers[row * numericCount + index] = Float((value - encoding.mean) / encoding.standardDeviation)
            }
        }
        if let history {
            let base = numeric.count
            for row in 0..<table.count {
                let aggregate = DerivedHistory.aggregates(
                    tenure: table.number(.tenure, row), monthly: table.number(.monthlyCharges, row),
                    total: table.number(.totalCharges, row), window: history.window)
                numbers[row * numericCount + base] = Float((aggregate.last - history.means[0]) / history.standardDeviations[0])
                numbers[row * numericCount + base + 1] = Float((aggregate.mean - history.means[1]) / history.standardDeviations[1])
                numbers[row * numericCount + base + 2] = Float((aggregate.slope - history.means[2]) / history.standardDeviations[2])
            }
        }
        return EncodedFeatures(
            rows: table.count, width: width, fields: fields, numericCount: numericCount, active: active, numeric: numbers)
    }

    // MARK: Storage

    /// Why a stored schema cannot be used.
    public struct IncompatibleSchema: Error, CustomStringConvertible {
        public var description: String
    }

    /// The schema as JSON bytes (what artifacts embed).
    public func serialized() -> [UInt8] {
        (try? JSONValueEncoder.encodeJSON(self)) ?? []
    }

    /// The schema as a JSON value (what the registry records).
    public var jsonValue: JSONValue {
        (try? JSONValueEncoder.encode(self)) ?? .null
    }

    /// Reads a serialised schema, refusing other versions.
    public static func deserialize(_ bytes: [UInt8]) throws -> FeatureSchema {
        let schema = try JSONValueDecoder.decode(FeatureSchema.self, fromJSON: bytes)
        guard schema.version == currentVersion else {
            throw IncompatibleSchema(
                description: "feature schema version \(schema.version); this build reads version \(currentVersion)")
        }
        return schema
    }
}
