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
///   `unknown` column for any other value;
/// - each number (numeric, boolean, date) standardised with the training mean and standard
///   deviation; a missing number is filled with the training mean, and when training had missing
///   values of that field a `<field> (missing)` column marks them;
/// - optionally (the random forest) three aggregates of the derived monthly history: the last
///   charge, the mean charge and the charge slope over the window, standardised.
public struct FeatureSchema: Codable, Sendable, Hashable {
    /// The version of this encoding; a stored schema of another version is refused (version 1,
    /// churn's first telco-only encoding, is read and converted).
    public static let currentVersion = 2

    public var version: Int
    public var categorical: [CategoricalEncoding]
    public var numeric: [NumericEncoding]
    /// The derived-history aggregates, when the model reads them.
    public var history: HistoryAggregates?

    /// One categorical field's columns.
    public struct CategoricalEncoding: Codable, Sendable, Hashable {
        public var field: String
        /// Values seen in training; each has a column, then one `unknown` column.
        public var seen: [String]
        /// Each seen value's share of the training rows (absent from older artifacts): the
        /// average customer's encoding, which occlusion explanations replace a field with.
        public var shares: [Double]?

        public init(field: String, seen: [String], shares: [Double]? = nil) {
            self.field = field
            self.seen = seen
            self.shares = shares
        }

        /// The average training customer's columns of this field: each seen value's share, then
        /// 0 for `unknown` (an even split without recorded shares).
        public var averageColumns: [Float] {
            let fractions = shares ?? Array(repeating: 1 / Double(max(seen.count, 1)), count: seen.count)
            return fractions.map { Float($0) } + [0]
        }
    }

    /// One standardised number.
    public struct NumericEncoding: Codable, Sendable, Hashable {
        public var field: String
        public var mean: Double
        public var standardDeviation: Double
        /// The raw value a missing number is read as.
        public var fill: Double
        /// Whether a `(missing)` indicator column follows the numbers.
        public var indicator: Bool

        enum CodingKeys: String, CodingKey {
            case field, mean, fill, indicator
            case standardDeviation = "std"
        }
    }

    /// The derived-history aggregates and their scaling.
    public struct HistoryAggregates: Codable, Sendable, Hashable {
        public var window: Int
        /// The fields the history is derived from.
        public var fields: DerivedHistoryFields
        /// Mean and standard deviation of last, mean and slope, in that order.
        public var means: [Double]
        public var standardDeviations: [Double]

        enum CodingKeys: String, CodingKey {
            case window, fields, means
            case standardDeviations = "stds"
        }
    }

    /// Names of the three derived-history aggregate columns.
    public static let historyNames = ["history.charge_last", "history.charge_mean", "history.charge_slope"]

    /// Fits the encoding on `table`. `derivedHistory` adds the history aggregates (the fields
    /// they are derived from must be number fields of the table).
    public static func fit(
        _ table: CustomerTable, derivedHistory: DerivedHistoryFields? = nil, window: Int = DerivedHistory.defaultWindow
    ) -> FeatureSchema {
        let categorical = table.layout.categoricalNames.enumerated().map { index, name in
            let vocabulary = table.vocabularies[index]
            var counts = [Int](repeating: 0, count: vocabulary.count)
            for code in table.codes[index] { counts[Int(code)] += 1 }
            let present = counts.indices.filter { counts[$0] > 0 }
            return CategoricalEncoding(
                field: name, seen: present.map { vocabulary[$0] },
                shares: present.map { Double(counts[$0]) / Double(max(table.count, 1)) })
        }
        let numeric = table.layout.numberNames.enumerated().map { index, name in
            let column = table.numbers[index]
            let present = column.filter { !$0.isNaN }
            let (mean, deviation) = meanAndDeviation(present)
            return NumericEncoding(
                field: name, mean: mean, standardDeviation: deviation, fill: mean, indicator: present.count < column.count)
        }
        var history: HistoryAggregates?
        if let fields = derivedHistory, let tenure = table.numberColumn(fields.tenure),
            let monthly = table.numberColumn(fields.monthlyCharge), let total = table.numberColumn(fields.totalCharges)
        {
            var columns: [[Double]] = [[], [], []]
            for row in 0..<table.count {
                let aggregate = DerivedHistory.aggregates(tenure: tenure[row], monthly: monthly[row], total: total[row], window: window)
                columns[0].append(aggregate.last)
                columns[1].append(aggregate.mean)
                columns[2].append(aggregate.slope)
            }
            let fitted = columns.map(meanAndDeviation)
            history = HistoryAggregates(window: window, fields: fields, means: fitted.map(\.0), standardDeviations: fitted.map(\.1))
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

    private var indicatorCount: Int { numeric.filter(\.indicator).count }

    /// Columns of the encoded matrix.
    public var width: Int {
        categorical.reduce(0) { $0 + $1.seen.count + 1 } + numeric.count + indicatorCount + (history == nil ? 0 : 3)
    }

    /// A name per column: `Contract=Two year`, `Contract=unknown`, `tenure`, `tenure (missing)`,
    /// `history.charge_slope`.
    public var featureNames: [String] {
        var names: [String] = []
        for encoding in categorical {
            names += encoding.seen.map { "\(encoding.field)=\($0)" }
            names.append("\(encoding.field)=unknown")
        }
        names += numeric.map(\.field)
        names += numeric.filter(\.indicator).map { "\($0.field) (missing)" }
        if history != nil { names += Self.historyNames }
        return names
    }

    /// The input field each column comes from, for folding contributions back onto fields.
    public var columnFields: [String] {
        var fields: [String] = []
        for encoding in categorical { fields += Array(repeating: encoding.field, count: encoding.seen.count + 1) }
        fields += numeric.map(\.field)
        fields += numeric.filter(\.indicator).map(\.field)
        if history != nil { fields += Self.historyNames }
        return fields
    }

    /// The fields the model reads, one name each: categorical, numeric, then history aggregates.
    public var inputFields: [String] {
        categorical.map(\.field) + numeric.map(\.field) + (history == nil ? [] : Self.historyNames)
    }

    // MARK: Encoding

    /// Below this many rows, ``encode(_:)`` looks each row's categorical values up in the
    /// field's seen values directly instead of building a lookup table per field.
    static let rowsForLookupTable = 16

    /// Encodes every row of `table` (whose layout must have this schema's fields).
    public func encode(_ table: CustomerTable) -> EncodedFeatures {
        let fields = categorical.count
        let numericCount = numeric.count + indicatorCount + (history == nil ? 0 : 3)
        var active = [UInt16](repeating: 0, count: table.count * fields)
        var numbers = [Float](repeating: 0, count: table.count * numericCount)
        var offset = 0
        for (index, encoding) in categorical.enumerated() {
            let unknown = offset + encoding.seen.count
            if let field = table.layout.field(encoding.field), field.isCategorical {
                let vocabulary = table.vocabularies[field.index]
                let codes = table.codes[field.index]
                if table.count < Self.rowsForLookupTable {
                    // A few rows (a prediction): find only their values, no table built per call.
                    for row in 0..<table.count {
                        let value = vocabulary[Int(codes[row])]
                        active[row * fields + index] = UInt16(encoding.seen.firstIndex(of: value).map { offset + $0 } ?? unknown)
                    }
                } else {
                    // Table codes → matrix columns, once per value of the table's vocabulary.
                    let position = Dictionary(uniqueKeysWithValues: encoding.seen.enumerated().map { ($1, $0) })
                    let columns = vocabulary.map { value in UInt16(position[value].map { offset + $0 } ?? unknown) }
                    for row in 0..<table.count { active[row * fields + index] = columns[Int(codes[row])] }
                }
            } else {
                for row in 0..<table.count { active[row * fields + index] = UInt16(unknown) }
            }
            offset += encoding.seen.count + 1
        }
        var indicatorColumn = numeric.count
        for (index, encoding) in numeric.enumerated() {
            let column = table.numberColumn(encoding.field) ?? Array(repeating: .nan, count: table.count)
            for row in 0..<table.count {
                let raw = column[row]
                let value = raw.isNaN ? encoding.fill : raw
                numbers[row * numericCount + index] = Float((value - encoding.mean) / encoding.standardDeviation)
                if encoding.indicator, raw.isNaN { numbers[row * numericCount + indicatorColumn] = 1 }
            }
            if encoding.indicator { indicatorColumn += 1 }
        }
        if let history {
            let base = numeric.count + indicatorCount
            let tenure = table.numberColumn(history.fields.tenure) ?? []
            let monthly = table.numberColumn(history.fields.monthlyCharge) ?? []
            let total = table.numberColumn(history.fields.totalCharges) ?? []
            for row in 0..<min(table.count, tenure.count, monthly.count, total.count) {
                let aggregate = DerivedHistory.aggregates(
                    tenure: tenure[row], monthly: monthly[row], total: total[row], window: history.window)
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

    /// Reads a serialised schema, converting version 1 and refusing others.
    public static func deserialize(_ bytes: [UInt8]) throws -> FeatureSchema {
        let schema = try JSONValueDecoder.decode(FeatureSchema.self, fromJSON: bytes)
        guard schema.version == currentVersion else {
            throw IncompatibleSchema(
                description: "feature schema version \(schema.version); this build reads versions 1 and \(currentVersion)")
        }
        return schema
    }

    public init(version: Int, categorical: [CategoricalEncoding], numeric: [NumericEncoding], history: HistoryAggregates?) {
        self.version = version
        self.categorical = categorical
        self.numeric = numeric
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case version, categorical, numeric, history
    }

    /// Decodes the current version, or converts version 1 (fields by the telco enums' positions;
    /// their names come from the built-in telco schema, in the same order).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        guard version == 1 else {
            categorical = try container.decode([CategoricalEncoding].self, forKey: .categorical)
            numeric = try container.decode([NumericEncoding].self, forKey: .numeric)
            history = try container.decodeIfPresent(HistoryAggregates.self, forKey: .history)
            return
        }
        let legacy = try LegacyFeatureSchema(from: decoder)
        let telco = BuiltInSchemas.kaggle
        let categoricalNames = telco.inputs.filter { $0.type == .categorical }.map(\.name)
        let numberNames = telco.inputs.filter { $0.type != .categorical }.map(\.name)
        categorical = try legacy.categorical.map { encoding in
            guard categoricalNames.indices.contains(encoding.field) else {
                throw IncompatibleSchema(description: "feature schema version 1 names categorical field \(encoding.field)")
            }
            return CategoricalEncoding(field: categoricalNames[encoding.field], seen: encoding.seen)
        }
        numeric = try legacy.numeric.map { encoding in
            guard numberNames.indices.contains(encoding.field) else {
                throw IncompatibleSchema(description: "feature schema version 1 names numeric field \(encoding.field)")
            }
            return NumericEncoding(
                field: numberNames[encoding.field], mean: encoding.mean, standardDeviation: encoding.standardDeviation,
                fill: encoding.missingValue, indicator: false)
        }
        history = legacy.history.map {
            HistoryAggregates(window: $0.window, fields: telco.derivedHistory!, means: $0.means, standardDeviations: $0.standardDeviations)
        }
        version = Self.currentVersion
    }
}

/// Version 1 of the feature schema (churn's first, telco-only release), read for conversion.
private struct LegacyFeatureSchema: Decodable {
    struct Categorical: Decodable {
        var field: Int
        var seen: [String]
    }

    struct Numeric: Decodable {
        var field: Int
        var mean: Double
        var standardDeviation: Double
        var missingValue: Double

        enum CodingKeys: String, CodingKey {
            case field, mean
            case standardDeviation = "std"
            case missingValue = "missing_value"
        }
    }

    struct History: Decodable {
        var window: Int
        var means: [Double]
        var standardDeviations: [Double]

        enum CodingKeys: String, CodingKey {
            case window, means
            case standardDeviations = "stds"
        }
    }

    var categorical: [Categorical]
    var numeric: [Numeric]
    var history: History?
}

extension FeatureSchema {
    /// A customer's value of an input field, as explanations show it: the table's value, or the
    /// raw aggregate for a derived-history input.
    public func inputValue(of field: String, in table: CustomerTable, row: Int) -> FieldValue {
        if table.layout.field(field) != nil { return table.value(of: field, at: row) }
        guard let history, let index = Self.historyNames.firstIndex(of: field),
            let tenure = table.numberColumn(history.fields.tenure), let monthly = table.numberColumn(history.fields.monthlyCharge),
            let total = table.numberColumn(history.fields.totalCharges)
        else { return .null }
        let aggregate = DerivedHistory.aggregates(tenure: tenure[row], monthly: monthly[row], total: total[row], window: history.window)
        return .number([aggregate.last, aggregate.mean, aggregate.slope][index])
    }
}
