/// Customers by column, the form large batches travel in (`predict.batch`, and the plugin
/// `predict` of a plugin with the `columnar` capability): each field name once, then one array
/// of values per field, every array `rows` long.
///
/// ```json
/// {"rows": 3,
///  "fields": ["customerID", "tenure", "Contract"],
///  "columns": [["A-1", "B-2", "C-3"],
///              [1, 34, null],
///              {"values": ["Month-to-month", "Two year"], "codes": [0, 1, 0]}]}
/// ```
/// A column is an array of scalars (strings, numbers, booleans, null), or a dictionary column:
/// its distinct `values` once and, per row, the `code` (index) of its value. Categorical fields
/// sent as dictionary columns are checked once per distinct value, not once per customer.
public struct CustomerBatch: Sendable, Hashable {
    /// Customers in the batch.
    public let rows: Int
    /// Field names, each once; `fields[i]` names `columns[i]`.
    public let fields: [String]
    public let columns: [BatchColumn]

    /// A batch whose columns are checked: as many as fields, each `rows` long, names unique
    /// and non-empty, dictionary codes in range.
    public init(rows: Int, fields: [String], columns: [BatchColumn]) throws(BatchProblem) {
        guard rows >= 0 else { throw BatchProblem(field: "rows", reason: "must be 0 or more, got \(rows)") }
        guard fields.count == columns.count else {
            throw BatchProblem(field: "columns", reason: "has \(columns.count) columns for \(fields.count) fields")
        }
        var seen = Set<String>()
        for (index, name) in fields.enumerated() {
            guard !name.isEmpty else { throw BatchProblem(field: "fields[\(index)]", reason: "is empty") }
            guard seen.insert(name).inserted else {
                throw BatchProblem(field: "fields[\(index)]", reason: "\(name) is listed twice")
            }
        }
        for (index, column) in columns.enumerated() {
            guard column.count == rows else {
                throw BatchProblem(
                    field: "columns[\(index)]", reason: "\(fields[index]) has \(column.count) values, but rows is \(rows)")
            }
            if case .dictionary(let values, let codes) = column, let bad = codes.firstIndex(where: { Int($0) >= values.count }) {
                throw BatchProblem(
                    field: "columns[\(index)].codes[\(bad)]",
                    reason: "\(fields[index]): code \(codes[bad]) is not an index into its \(values.count) values")
            }
        }
        self.rows = rows
        self.fields = fields
        self.columns = columns
    }

    /// A batch its builder already knows to be valid (as many columns as unique, non-empty
    /// field names, each `rows` long, dictionary codes in range): no check is repeated.
    public init(uncheckedRows rows: Int, fields: [String], columns: [BatchColumn]) {
        self.rows = rows
        self.fields = fields
        self.columns = columns
    }

    /// The column of field `name`.
    public func column(_ name: String) -> BatchColumn? {
        fields.firstIndex(of: name).map { columns[$0] }
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> CustomerBatch {
        // Subsets of valid columns are valid.
        try! CustomerBatch(rows: indices.count, fields: fields, columns: columns.map { $0.rows(indices) })
    }

    /// The customer at `row` as a record (for a plugin that takes records).
    public func record(at row: Int) -> CustomerRecord {
        var record: [String: FieldValue] = [:]
        record.reserveCapacity(fields.count)
        for (name, column) in zip(fields, columns) { record[name] = column[row] }
        return CustomerRecord(record)
    }

    /// Every customer as a record.
    public var records: [CustomerRecord] { (0..<rows).map(record(at:)) }

    /// Customers' records as a batch: the union of their fields, in first-seen order; a field a
    /// record lacks is null there.
    public init(records: [CustomerRecord]) {
        var names: [String] = []
        var known = Set<String>()
        for record in records {
            for name in record.fields.keys.sorted() where known.insert(name).inserted { names.append(name) }
        }
        let columns = names.map { name in BatchColumn.values(records.map { $0[name] ?? .null }).compacted }
        try! self.init(rows: records.count, fields: names, columns: columns)
    }
}

/// One field's values in a ``CustomerBatch``.
public enum BatchColumn: Sendable, Hashable {
    /// Numbers; NaN stands for null.
    case numbers([Double])
    /// Text; nil stands for null.
    case strings([String?])
    /// true/false; nil stands for null.
    case booleans([Bool?])
    /// Distinct values once, and per row the index of its value.
    case dictionary(values: [String], codes: [UInt32])
    /// Scalars of mixed types.
    case values([FieldValue])

    /// Values in the column.
    public var count: Int {
        switch self {
        case .numbers(let values): values.count
        case .strings(let values): values.count
        case .booleans(let values): values.count
        case .dictionary(_, let codes): codes.count
        case .values(let values): values.count
        }
    }

    /// The value at `row`, as a record field carries it.
    public subscript(row: Int) -> FieldValue {
        switch self {
        case .numbers(let values): values[row].isNaN ? .null : .number(values[row])
        case .strings(let values): values[row].map(FieldValue.string) ?? .null
        case .booleans(let values): values[row].map(FieldValue.bool) ?? .null
        case .dictionary(let values, let codes): .string(values[Int(codes[row])])
        case .values(let values): values[row]
        }
    }

    /// The values at `indices`, in that order.
    public func rows(_ indices: [Int]) -> BatchColumn {
        switch self {
        case .numbers(let values): .numbers(indices.map { values[$0] })
        case .strings(let values): .strings(indices.map { values[$0] })
        case .booleans(let values): .booleans(indices.map { values[$0] })
        case .dictionary(let values, let codes): .dictionary(values: values, codes: indices.map { codes[$0] })
        case .values(let values): .values(indices.map { values[$0] })
        }
    }

    /// The same values in the narrowest form: numbers, strings or booleans when every non-null
    /// value is of that type.
    var compacted: BatchColumn {
        guard case .values(let values) = self else { return self }
        var numbers: [Double] = []
        var strings: [String?] = []
        var booleans: [Bool?] = []
        var kind: Int?  // 0 numbers, 1 strings, 2 booleans
        for value in values {
            switch value {
            case .null: continue
            case .number: if kind == nil { kind = 0 } else if kind != 0 { return self }
            case .string: if kind == nil { kind = 1 } else if kind != 1 { return self }
            case .bool: if kind == nil { kind = 2 } else if kind != 2 { return self }
            }
        }
        switch kind ?? 0 {
        case 0:
            numbers = values.map { if case .number(let number) = $0 { number } else { .nan } }
            return .numbers(numbers)
        case 1:
            strings = values.map { if case .string(let text) = $0 { text } else { nil } }
            return .strings(strings)
        default:
            booleans = values.map { if case .bool(let flag) = $0 { flag } else { nil } }
            return .booleans(booleans)
        }
    }
}

/// What is wrong with a batch, by its path within it (`columns[3]`, `fields[0]`).
public struct BatchProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var description: String { "\(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

// MARK: JSON

extension CustomerBatch {
    /// A batch from its JSON form; a problem names its place within the batch.
    public init(json: JSONValue) throws(BatchProblem) {
        guard case .object(let members) = json else { throw BatchProblem(field: "", reason: "expected an object") }
        guard case .number(let count)? = members["rows"], let rows = Int(exactly: count) else {
            throw BatchProblem(field: "rows", reason: members["rows"] == nil ? "required field is missing" : "expected an integer")
        }
        guard case .array(let names)? = members["fields"] else {
            throw BatchProblem(field: "fields", reason: members["fields"] == nil ? "required field is missing" : "expected an array of names")
        }
        var fields: [String] = []
        fields.reserveCapacity(names.count)
        for (index, name) in names.enumerated() {
            guard case .string(let text) = name else { throw BatchProblem(field: "fields[\(index)]", reason: "expected a string") }
            fields.append(text)
        }
        guard case .array(let items)? = members["columns"] else {
            throw BatchProblem(field: "columns", reason: members["columns"] == nil ? "required field is missing" : "expected an array of columns")
        }
        var columns: [BatchColumn] = []
        columns.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            columns.append(try BatchColumn(json: item, path: "columns[\(index)]"))
        }
        try self.init(rows: rows, fields: fields, columns: columns)
    }

    /// The batch as a JSON tree.
    public var jsonValue: JSONValue {
        .object([
            "rows": .number(Double(rows)), "fields": .array(fields.map(JSONValue.string)),
            "columns": .array(columns.map(\.jsonValue)),
        ])
    }
}

extension BatchColumn {
    init(json: JSONValue, path: String) throws(BatchProblem) {
        switch json {
        case .array(let elements):
            if let typed = Self.typed(elements) {
                self = typed
                return
            }
            var values: [FieldValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                switch element {
                case .null: values.append(.null)
                case .number(let number): values.append(.number(number))
                case .string(let text): values.append(.string(text))
                case .bool(let flag): values.append(.bool(flag))
                case .array, .object: throw BatchProblem(field: "\(path)[\(index)]", reason: "expected a string, number, boolean or null")
                }
            }
            self = BatchColumn.values(values).compacted
        case .object(let members):
            guard case .array(let valueItems)? = members["values"], case .array(let codeItems)? = members["codes"] else {
                throw BatchProblem(field: path, reason: "a dictionary column is an object of \"values\" and \"codes\" arrays")
            }
            var values: [String] = []
            for (index, item) in valueItems.enumerated() {
                guard case .string(let text) = item else { throw BatchProblem(field: "\(path).values[\(index)]", reason: "expected a string") }
                values.append(text)
            }
            var codes: [UInt32] = []
            codes.reserveCapacity(codeItems.count)
            for (index, item) in codeItems.enumerated() {
                guard case .number(let number) = item, let code = UInt32(exactly: number) else {
                    throw BatchProblem(field: "\(path).codes[\(index)]", reason: "expected an index into values (an integer, 0 or more)")
                }
                codes.append(code)
            }
            self = .dictionary(values: values, codes: codes)
        default:
            throw BatchProblem(field: path, reason: "expected an array of values or a dictionary column")
        }
    }

    /// The column in one pass when every non-null element has the first one's type (the usual
    /// case); nil otherwise.
    private static func typed(_ elements: [JSONValue]) -> BatchColumn? {
        guard let first = elements.first(where: { $0 != .null }) else { return .numbers([Double](repeating: .nan, count: elements.count)) }
        switch first {
        case .number:
            var numbers = [Double](repeating: .nan, count: elements.count)
            for (index, element) in elements.enumerated() {
                switch element {
                case .number(let number): numbers[index] = number
                case .null: continue
                default: return nil
                }
            }
            return .numbers(numbers)
        case .string:
            var strings = [String?](repeating: nil, count: elements.count)
            for (index, element) in elements.enumerated() {
                switch element {
                case .string(let text): strings[index] = text
                case .null: continue
                default: return nil
                }
            }
            return .strings(strings)
        case .bool:
            var flags = [Bool?](repeating: nil, count: elements.count)
            for (index, element) in elements.enumerated() {
                switch element {
                case .bool(let flag): flags[index] = flag
                case .null: continue
                default: return nil
                }
            }
            return .booleans(flags)
        default:
            return nil
        }
    }

    var jsonValue: JSONValue {
        switch self {
        case .dictionary(let values, let codes) where codes.count < values.count:
            // As ``writeJSON(into:)`` writes it: fewer rows than values go as the rows' values.
            .array(codes.map { .string(values[Int($0)]) })
        case .dictionary(let values, let codes):
            .object(["values": .array(values.map(JSONValue.string)), "codes": .array(codes.map { .number(Double($0)) })])
        default:
            .array((0..<count).map { self[$0].jsonValue })
        }
    }
}

extension CustomerBatch: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("rows", first: true, into: &output)
        JSONWriter.writeNumber(Double(rows), into: &output)
        writeKey("fields", into: &output)
        writeList(fields, into: &output) { JSONWriter.writeString($0, into: &$1) }
        writeKey("columns", into: &output)
        writeList(columns, into: &output) { $0.writeJSON(into: &$1) }
        output.append(UInt8(ascii: "}"))
    }
}

extension BatchColumn {
    func writeJSON(into output: inout [UInt8]) {
        func list<T>(_ values: [T], _ write: (T, inout [UInt8]) -> Void) { writeList(values, into: &output, write) }
        switch self {
        case .numbers(let values):
            list(values) { JSONWriter.writeNumber($0, into: &$1) }
        case .strings(let values):
            list(values) { value, output in
                if let value { JSONWriter.writeString(value, into: &output) } else { output.append(contentsOf: "null".utf8) }
            }
        case .booleans(let values):
            list(values) { value, output in output.append(contentsOf: (value.map { $0 ? "true" : "false" } ?? "null").utf8) }
        case .dictionary(let values, let codes) where codes.count < values.count:
            // Fewer rows than values (a single customer): each row's value is shorter than the
            // vocabulary.
            list(codes) { JSONWriter.writeString(values[Int($0)], into: &$1) }
        case .dictionary(let values, let codes):
            output.append(UInt8(ascii: "{"))
            writeKey("values", first: true, into: &output)
            list(values) { JSONWriter.writeString($0, into: &$1) }
            writeKey("codes", into: &output)
            // Codes are small: most are one digit.
            output.reserveCapacity(output.count + codes.count * 2 + 2)
            list(codes) { code, output in
                if code < 10 { output.append(UInt8(48 + code)) } else { JSONWriter.writeNumber(Double(code), into: &output) }
            }
            output.append(UInt8(ascii: "}"))
        case .values(let values):
            list(values) { JSONWriter.write($0.jsonValue, into: &$1) }
        }
    }
}

extension CustomerBatch: Codable {
    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        do {
            try self.init(json: json)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + (error.field.isEmpty ? [] : [BatchPathKey(error.field)]),
                    debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// A path within a batch as one coding key, for error paths (`batch.columns[3]`).
private struct BatchPathKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ path: String) { stringValue = path }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
