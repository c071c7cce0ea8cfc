import ChurnProtocol

/// Where a schema's input fields live in a ``CustomerTable``: each categorical field in a column
/// of codes, each numeric, boolean or date field in a column of numbers, both in schema order.
public struct TableLayout: Sendable, Hashable {
    /// One input field.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var type: ColumnType
        /// Its column among the categorical or the number columns.
        public var index: Int
        public var isCategorical: Bool { type == .categorical }
    }

    /// Every input field, in schema order.
    public let fields: [Field]
    public let categoricalNames: [String]
    public let numberNames: [String]
    /// Every input field's name, in schema order.
    public let names: [String]
    private let byName: [String: Int]

    public init(_ schema: DatasetSchema) {
        var fields: [Field] = []
        var categorical: [String] = []
        var numbers: [String] = []
        for column in schema.inputs {
            if column.type == .categorical {
                fields.append(Field(name: column.name, type: column.type, index: categorical.count))
                categorical.append(column.name)
            } else {
                fields.append(Field(name: column.name, type: column.type, index: numbers.count))
                numbers.append(column.name)
            }
        }
        self.fields = fields
        self.names = fields.map(\.name)
        self.categoricalNames = categorical
        self.numberNames = numbers
        self.byName = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1.name, $0) })
    }

    /// The field named `name`.
    public func field(_ name: String) -> Field? { byName[name].map { fields[$0] } }

    /// A number column's value as records carry it: true/false for booleans, `YYYY-MM-DD` for
    /// dates, the number otherwise, null when missing (NaN).
    public static func wireValue(_ number: Double, type: ColumnType) -> FieldValue {
        guard !number.isNaN else { return .null }
        switch type {
        case .boolean: return .bool(number != 0)
        case .date: return .string(CalendarDay.text(days: Int(number)))
        default: return .number(number)
        }
    }
}

/// Customers' input fields, stored by column: one code per categorical value (an index into that
/// field's vocabulary) and one `Double` per number (NaN: missing). It holds no label, so anything
/// that takes a `CustomerTable` (the encoders, the sequence builders) cannot see the outcome.
public struct CustomerTable: Sendable, Hashable {
    public let layout: TableLayout
    /// Customer ids, one per row.
    public internal(set) var ids: [String] = []
    /// Per categorical field: its values in code order (the schema's, then any new ones an open
    /// field met).
    public internal(set) var vocabularies: [[String]]
    /// `codes[categoricalIndex][row]`.
    public internal(set) var codes: [[UInt32]]
    /// `numbers[numberIndex][row]`; NaN when missing.
    public internal(set) var numbers: [[Double]]

    /// An empty table for `schema`'s inputs.
    public init(schema: DatasetSchema) {
        layout = TableLayout(schema)
        vocabularies = schema.inputs.filter { $0.type == .categorical }.map { $0.values ?? [] }
        codes = Array(repeating: [], count: layout.categoricalNames.count)
        numbers = Array(repeating: [], count: layout.numberNames.count)
    }

    /// Rows.
    public var count: Int { ids.count }

    public mutating func reserveCapacity(_ rows: Int) {
        ids.reserveCapacity(rows)
        for index in codes.indices { codes[index].reserveCapacity(rows) }
        for index in numbers.indices { numbers[index].reserveCapacity(rows) }
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> CustomerTable {
        var table = self
        table.ids = indices.map { ids[$0] }
        table.codes = codes.map { column in indices.map { column[$0] } }
        table.numbers = numbers.map { column in indices.map { column[$0] } }
        return table
    }

    /// The number column of field `name` (numeric, boolean or date), if there is one.
    public func numberColumn(_ name: String) -> [Double]? {
        guard let field = layout.field(name), !field.isCategorical else { return nil }
        return numbers[field.index]
    }

    /// The value of a categorical field at `row`.
    @inline(__always) public func category(_ categoricalIndex: Int, _ row: Int) -> String {
        vocabularies[categoricalIndex][Int(codes[categoricalIndex][row])]
    }

    /// A field's value at `row`, as records carry it: text for categories, true/false for
    /// booleans, `YYYY-MM-DD` for dates, numbers for numbers, null for a missing value.
    public func value(of name: String, at row: Int) -> FieldValue {
        guard let field = layout.field(name) else { return .null }
        if field.isCategorical { return .string(category(field.index, row)) }
        return TableLayout.wireValue(numbers[field.index][row], type: field.type)
    }

    /// The customer at `row` in canonical wire form: the id field and every input field by name.
    public func record(at row: Int, idField: String) -> CustomerRecord {
        var fields: [String: FieldValue] = [idField: .string(ids[row])]
        fields.reserveCapacity(layout.fields.count + 1)
        for field in layout.fields { fields[field.name] = value(of: field.name, at: row) }
        return CustomerRecord(fields)
    }

    /// Tables of one layout, one after another (at least one). An open field that met new
    /// values in several tables gets one vocabulary: each table's codes are mapped into it.
    public static func joined(_ tables: [CustomerTable]) -> CustomerTable {
        var joined = tables[0]
        guard tables.count > 1 else { return joined }
        joined.reserveCapacity(tables.reduce(0) { $0 + $1.count })
        for table in tables.dropFirst() {
            precondition(table.layout.fields.count == joined.layout.fields.count, "tables of different layouts cannot be joined")
            joined.ids.append(contentsOf: table.ids)
            for field in joined.codes.indices {
                // Tables checked by one validator share its vocabulary unless a request met new values.
                if table.vocabularies[field] == joined.vocabularies[field] {
                    joined.codes[field].append(contentsOf: table.codes[field])
                    continue
                }
                var known = [String: UInt32](minimumCapacity: joined.vocabularies[field].count)
                for (code, value) in joined.vocabularies[field].enumerated() { known[value] = UInt32(code) }
                let mapped: [UInt32] = table.vocabularies[field].map { value in
                    if let code = known[value] { return code }
                    let code = UInt32(joined.vocabularies[field].count)
                    joined.vocabularies[field].append(value)
                    known[value] = code
                    return code
                }
                joined.codes[field].append(contentsOf: table.codes[field].map { mapped[Int($0)] })
            }
            for field in joined.numbers.indices { joined.numbers[field].append(contentsOf: table.numbers[field]) }
        }
        return joined
    }

    /// Appends one row of already-checked values.
    mutating func append(id: String, codes rowCodes: [UInt32], numbers rowNumbers: [Double]) {
        ids.append(id)
        for index in codes.indices { codes[index].append(rowCodes[index]) }
        for index in numbers.indices { numbers[index].append(rowNumbers[index]) }
    }
}

/// Customers as read from a file under a schema: inputs, and the outcome when the file has it.
public struct Dataset: Sendable {
    public var schema: DatasetSchema
    public var customers: CustomerTable
    /// Whether each customer churned, when the file has its label column.
    public var churned: [Bool]?
    /// The churn reason per customer, when the schema names a reason column: evidence for the
    /// retention page, never an input.
    public var churnReasons: [String?]?
    /// The physical line each row came from.
    public var lines: [Int]

    public init(schema: DatasetSchema, customers: CustomerTable, churned: [Bool]?, churnReasons: [String?]? = nil, lines: [Int]) {
        self.schema = schema
        self.customers = customers
        self.churned = churned
        self.churnReasons = churnReasons
        self.lines = lines
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Dataset {
        Dataset(
            schema: schema, customers: customers.rows(indices), churned: churned.map { labels in indices.map { labels[$0] } },
            churnReasons: churnReasons.map { reasons in indices.map { reasons[$0] } }, lines: indices.map { lines[$0] })
    }

    /// The id field records carry (the schema's, or `row_id` when rows were numbered).
    public var idField: String { schema.canonical.id?.name ?? DatasetSchema.generatedIDName }

    /// The customer at `row` in canonical wire form.
    public func record(at row: Int) -> CustomerRecord { customers.record(at: row, idField: idField) }

    /// Every row in canonical wire form.
    public var records: [CustomerRecord] { (0..<customers.count).map(record(at:)) }

    /// The labels, or an error saying the file has none.
    public func requireLabels(file: String) throws(DataError) -> [Bool] {
        guard let churned else {
            throw .missingColumns(file: file, columns: [schema.label.column], mapping: schema.name)
        }
        return churned
    }
}

/// Calendar days as numbers: days since 1970-01-01 (proleptic Gregorian), for date columns.
public enum CalendarDay {
    /// Days since 1970-01-01 of `YYYY-MM-DD` (a time after it, `T...` or ` ...`, is ignored), or nil.
    public static func days(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        if bytes.count > 10, bytes[10] != UInt8(ascii: "T"), bytes[10] != UInt8(ascii: " ") { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10), (1...12).contains(month) else {
            return nil
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        return daysFromCivil(year: year, month: month, day: day)
    }

    /// Days since 1970-01-01 of a text date, or nil.
    public static func days(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { days($0) }
    }

    /// `YYYY-MM-DD` of a day number.
    public static func text(days: Int) -> String {
        let (year, month, day) = civil(days: days)
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + (month < 10 ? "0" : "") + String(month)
            + "-" + (day < 10 ? "0" : "") + String(day)
    }

    // Howard Hinnant's algorithms (days_from_civil, civil_from_days).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
