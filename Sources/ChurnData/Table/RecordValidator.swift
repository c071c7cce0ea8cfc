import ChurnProtocol

/// A problem with one field of one record, by its path (`customers[2].tenure`).
public struct FieldProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var description: String { "\(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

extension FieldProblem: RPCErrorConvertible {
    public var rpcError: RPCError { .invalidParams(field: field, reason) }
}

/// Checks wire records (JSON objects of fields) against a model's schema with the same rules as
/// files: every input field is required unless its blank rule allows a blank, unknown fields are
/// ignored, and label and outcome fields are never read.
public struct RecordValidator: Sendable {
    /// The schema records are checked against (a model's canonical schema).
    public let schema: DatasetSchema
    /// The field records name their customer by.
    public let idField: String
    /// False when the schema's rows were numbered (no id column): records may then come without
    /// an id, and answers name them `record-<index>`.
    public let requiresID: Bool
    let template: RowReader
    /// A table of no rows with the schema's layout, copied for each request (building the layout
    /// again per call was most of a one-row prediction's cost).
    let emptyTable: CustomerTable
    var layout: TableLayout { emptyTable.layout }

    public init(schema: DatasetSchema) {
        let canonical = schema.canonical
        self.schema = canonical
        idField = canonical.id?.name ?? DatasetSchema.generatedIDName
        requiresID = !(canonical.id?.generated ?? true)
        var empty = CustomerTable(schema: canonical)
        template = RowReader(schema: canonical, layout: empty.layout)
        // The readers' vocabularies (a mapped open column's start with its targets): a table
        // whose readers learnt nothing keeps these.
        empty.vocabularies = template.vocabularies
        emptyTable = empty
    }

    /// The names of the input fields, in order.
    public var inputNames: [String] { layout.fields.map(\.name) }

    /// The id of `record` (the `index`-th of its request).
    public func id(of record: CustomerRecord, index: Int) -> String? {
        switch record[idField] {
        case .string(let text)?: text.trimmingSpaces.isEmpty ? nil : text.trimmingSpaces
        case .number(let number)?: FieldValue.number(number).text
        default: requiresID ? nil : "record-\(index)"
        }
    }

    /// The customers of `records`, or the first problem found. `path` prefixes field paths, and
    /// `positions` (when the records are some of a request's) gives each one's index in it.
    public func table(_ records: [CustomerRecord], path: String = "customers", positions: [Int]? = nil) throws(FieldProblem)
        -> CustomerTable
    {
        var table = emptyTable
        table.reserveCapacity(records.count)
        var readers = template
        var codes = [UInt32](repeating: 0, count: layout.categoricalNames.count)
        var numbers = [Double](repeating: 0, count: layout.numberNames.count)
        for (index, record) in records.enumerated() {
            let position = positions?[index] ?? index
            if let problem = read(record, index: position, readers: &readers, codes: &codes, numbers: &numbers, stopAtFirst: true).first {
                throw FieldProblem(field: "\(path)[\(position)].\(problem.field)", reason: problem.reason)
            }
            table.append(id: id(of: record, index: position) ?? "", codes: codes, numbers: numbers)
        }
        if readers.learned { table.vocabularies = readers.vocabularies }
        return table
    }

    /// Checks `records` and returns them as plugins receive them: the id and every input field,
    /// canonical values, nothing else (no label, no stray field). A record that already is
    /// exactly that goes as it came.
    public func canonicalRecords(_ records: [CustomerRecord], path: String = "customers", positions: [Int]? = nil)
        throws(FieldProblem) -> [CustomerRecord]
    {
        // Per record, straight from its fields: no table is built on the serving path.
        var readers = template
        var codes = [UInt32](repeating: 0, count: layout.categoricalNames.count)
        var numbers = [Double](repeating: 0, count: layout.numberNames.count)
        let expected = layout.fields.count + 1
        var canonical: [CustomerRecord] = []
        canonical.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            let position = positions?[index] ?? index
            if let problem = read(record, index: position, readers: &readers, codes: &codes, numbers: &numbers, stopAtFirst: true).first {
                throw FieldProblem(field: "\(path)[\(position)].\(problem.field)", reason: problem.reason)
            }
            if record.fields.count == expected, record[idField] != nil,
                isCanonical(record, readers: readers, codes: codes, numbers: numbers)
            {
                canonical.append(record)
                continue
            }
            var fields: [String: FieldValue] = [idField: .string(id(of: record, index: position) ?? "")]
            fields.reserveCapacity(expected)
            for position in readers.fields.indices {
                fields[readers.fields[position].column.name] = value(of: readers.fields[position], codes: codes, numbers: numbers)
            }
            canonical.append(CustomerRecord(fields))
        }
        return canonical
    }

    /// The canonical wire value of one field read into `codes` and `numbers`.
    private func value(of field: borrowing FieldReader, codes: [UInt32], numbers: [Double]) -> FieldValue {
        if field.column.type == .categorical { return .string(field.vocabulary[Int(codes[field.index])]) }
        return TableLayout.wireValue(numbers[field.index], type: field.column.type)
    }

    /// Every problem of one record (not only the first), each named by its field: what a form
    /// shows beside its inputs. Empty when the record is valid.
    public func problems(_ record: CustomerRecord) -> [FieldProblem] {
        var readers = template
        var codes = [UInt32](repeating: 0, count: layout.categoricalNames.count)
        var numbers = [Double](repeating: 0, count: layout.numberNames.count)
        return read(record, index: 0, readers: &readers, codes: &codes, numbers: &numbers, stopAtFirst: false)
    }

    private func read(
        _ record: CustomerRecord, index: Int, readers: inout RowReader, codes: inout [UInt32], numbers: inout [Double],
        stopAtFirst: Bool
    ) -> [FieldProblem] {
        var found: [FieldProblem] = []
        if requiresID {
            switch record[idField] {
            case nil: found.append(FieldProblem(field: idField, reason: "required field is missing"))
            case .string(let text)? where !text.trimmingSpaces.isEmpty: break
            case .number?: break
            default: found.append(FieldProblem(field: idField, reason: "must be a non-empty string"))
            }
            if stopAtFirst, !found.isEmpty { return found }
        }
        var deferred: [Int] = []
        for position in readers.fields.indices {
            // From the layout: reading a reader's members here would copy the reader.
            let name = layout.fields[position].name
            let target = layout.fields[position].index
            switch readers.read(record[name], field: position) {
            case .code(let code): codes[target] = code
            case .number(let number): numbers[target] = number
            case .deferredBlank: deferred.append(position)
            case .problem(let reason):
                found.append(FieldProblem(field: name, reason: reason))
                if stopAtFirst { return found }
            }
        }
        for (field, condition) in readers.conditions where deferred.contains(field) {
            let reader = readers.fields[field]
            switch reader.resolveBlank(conditionValue: numbers[condition]) {
            case .number(let number): numbers[reader.index] = number
            case .problem(let reason):
                found.append(FieldProblem(field: reader.column.name, reason: reason))
                if stopAtFirst { return found }
            default: break
            }
        }
        return found
    }

    /// True when every field of `record` already holds its canonical value (so it can be
    /// forwarded as it came, parsed there by the same rules).
    private func isCanonical(_ record: CustomerRecord, readers: RowReader, codes: [UInt32], numbers: [Double]) -> Bool {
        for position in readers.fields.indices {
            guard let value = record[readers.fields[position].column.name] else { return false }
            let index = readers.fields[position].index
            switch (readers.fields[position].column.type, value) {
            case (.categorical, .string(let text)): if text != readers.fields[position].vocabulary[Int(codes[index])] { return false }
            case (.numeric, .number): continue
            case (.boolean, .bool): continue
            case (.date, .string): if value != TableLayout.wireValue(numbers[index], type: .date) { return false }
            case (_, .null): if !numbers[index].isNaN { return false }
            default: return false
            }
        }
        return true
    }
}
