import ChurnProtocol

/// Customers' input fields, stored by column: one byte per categorical value (its code in
/// ``CategoricalField/values``) and one `Double` per number. It holds no label, so anything
/// that takes a `CustomerTable` (the sequence builders, the encoders) cannot see the outcome.
public struct CustomerTable: Sendable, Hashable {
    /// Customer ids, one per row.
    public private(set) var ids: [String] = []
    /// `codes[field.rawValue][row]`.
    public private(set) var codes: [[UInt8]] = Array(repeating: [], count: CategoricalField.allCases.count)
    /// `numbers[field.rawValue][row]`; NaN only for a blank `TotalCharges` of a tenure-0 customer.
    public private(set) var numbers: [[Double]] = Array(repeating: [], count: NumericField.allCases.count)

    public init() {}

    /// Rows.
    public var count: Int { ids.count }

    public mutating func reserveCapacity(_ rows: Int) {
        ids.reserveCapacity(rows)
        for index in codes.indices { codes[index].reserveCapacity(rows) }
        for index in numbers.indices { numbers[index].reserveCapacity(rows) }
    }

    /// Appends one customer.
    public mutating func append(_ customer: Customer) {
        ids.append(customer.id)
        for index in codes.indices { codes[index].append(customer.codes[index]) }
        for index in numbers.indices { numbers[index].append(customer.numbers[index]) }
    }

    /// Appends one row from already-validated parts.
    mutating func appendRow(id: String, codes rowCodes: UnsafeBufferPointer<UInt8>, numbers rowNumbers: UnsafeBufferPointer<Double>) {
        ids.append(id)
        for index in codes.indices { codes[index].append(rowCodes[index]) }
        for index in numbers.indices { numbers[index].append(rowNumbers[index]) }
    }

    /// The customer at `row`.
    public func customer(at row: Int) -> Customer {
        Customer(
            id: ids[row], codes: codes.map { $0[row] }, numbers: numbers.map { $0[row] })
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> CustomerTable {
        var table = CustomerTable()
        table.ids = indices.map { ids[$0] }
        table.codes = codes.map { column in indices.map { column[$0] } }
        table.numbers = numbers.map { column in indices.map { column[$0] } }
        return table
    }

    /// The code of `field` at `row`.
    @inline(__always) public func code(_ field: CategoricalField, _ row: Int) -> UInt8 {
        codes[field.rawValue][row]
    }

    /// The number of `field` at `row` (NaN when missing).
    @inline(__always) public func number(_ field: NumericField, _ row: Int) -> Double {
        numbers[field.rawValue][row]
    }

    /// The customer at `row` in canonical wire form (what the daemon sends plugins).
    public func record(at row: Int) -> CustomerRecord {
        customer(at: row).record
    }

    /// Every row in canonical wire form.
    public var records: [CustomerRecord] { (0..<count).map(record(at:)) }
}

/// One customer's input fields, typed. Build one from a record with ``TelcoRecords``.
public struct Customer: Sendable, Hashable {
    public var id: String
    /// Codes by ``CategoricalField/rawValue``.
    public var codes: [UInt8]
    /// Numbers by ``NumericField/rawValue`` (NaN: missing).
    public var numbers: [Double]

    public init(id: String, codes: [UInt8], numbers: [Double]) {
        precondition(codes.count == CategoricalField.allCases.count && numbers.count == NumericField.allCases.count)
        self.id = id
        self.codes = codes
        self.numbers = numbers
    }

    /// The value of a categorical field.
    public subscript(field: CategoricalField) -> String {
        get { field.values[Int(codes[field.rawValue])] }
    }

    /// The value of a numeric field (nil when missing).
    public subscript(field: NumericField) -> Double? {
        get { numbers[field.rawValue].isNaN ? nil : numbers[field.rawValue] }
    }

    /// Sets a categorical field; false when `value` is not one of its values.
    @discardableResult
    public mutating func set(_ field: CategoricalField, to value: String) -> Bool {
        guard let code = field.code(of: value) else { return false }
        codes[field.rawValue] = code
        return true
    }

    /// The customer in canonical wire form: categorical fields as strings (SeniorCitizen as
    /// the number 0 or 1), numbers as numbers, a missing TotalCharges as null.
    public var record: CustomerRecord {
        var fields: [String: FieldValue] = [TelcoSchema.idField: .string(id)]
        for field in CategoricalField.allCases {
            let value = self[field]
            fields[field.name] = field == .seniorCitizen ? .number(value == "1" ? 1 : 0) : .string(value)
        }
        for field in NumericField.allCases {
            let number = numbers[field.rawValue]
            fields[field.name] = number.isNaN ? .null : .number(number)
        }
        return CustomerRecord(fields)
    }
}

/// Customers as read from a file: inputs, and the outcome when the file has one.
public struct TelcoDataset: Sendable {
    public var customers: CustomerTable
    /// Whether each customer churned, when the file has a label column.
    public var churned: [Bool]?
    /// IBM's `Churn Reason` per customer, when present: evidence for the retention page, never an input.
    public var churnReasons: [String?]?
    /// The physical line each row came from.
    public var lines: [Int]

    public init(customers: CustomerTable, churned: [Bool]?, churnReasons: [String?]? = nil, lines: [Int]) {
        self.customers = customers
        self.churned = churned
        self.churnReasons = churnReasons
        self.lines = lines
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> TelcoDataset {
        TelcoDataset(
            customers: customers.rows(indices), churned: churned.map { labels in indices.map { labels[$0] } },
            churnReasons: churnReasons.map { reasons in indices.map { reasons[$0] } },
            lines: indices.map { lines[$0] })
    }

    /// The labels, or an error saying the file has none.
    public func requireLabels(file: String) throws(DataError) -> [Bool] {
        guard let churned else {
            throw .missingColumns(file: file, columns: [TelcoSchema.labelField], mapping: "this")
        }
        return churned
    }
}
