import ChurnProtocol

/// Turns wire records (JSON objects of telco fields) into typed customers, with the same rules
/// as files. Every input field is required (a missing one is an error naming it, never a
/// silent default); unknown fields are ignored; label fields are never read.
public enum TelcoRecords {
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

    /// The customers of `records`, or the first problem found. `path` prefixes field paths.
    public static func table(_ records: [CustomerRecord], path: String = "customers") throws(FieldProblem) -> CustomerTable {
        var table = CustomerTable()
        table.reserveCapacity(records.count)
        var codes = [UInt8](repeating: 0, count: CategoricalField.allCases.count)
        var numbers = [Double](repeating: 0, count: NumericField.allCases.count)
        for (index, record) in records.enumerated() {
            let id = try parse(record, codes: &codes, numbers: &numbers, path: { "\(path)[\(index)]" })
            codes.withUnsafeBufferPointer { codes in
                numbers.withUnsafeBufferPointer { numbers in table.appendRow(id: id, codes: codes, numbers: numbers) }
            }
        }
        return table
    }

    /// One typed customer, or the first problem found.
    public static func customer(_ record: CustomerRecord, path: String = "customer") throws(FieldProblem) -> Customer {
        var codes = [UInt8](repeating: 0, count: CategoricalField.allCases.count)
        var numbers = [Double](repeating: 0, count: NumericField.allCases.count)
        let id = try parse(record, codes: &codes, numbers: &numbers, path: { path })
        return Customer(id: id, codes: codes, numbers: numbers)
    }

    /// Every problem of one record (not only the first), each named by its field: what a form
    /// shows beside its inputs. Empty when the record is valid.
    public static func problems(_ record: CustomerRecord) -> [FieldProblem] {
        var codes = [UInt8](repeating: 0, count: CategoricalField.allCases.count)
        var numbers = [Double](repeating: 0, count: NumericField.allCases.count)
        var found: [FieldProblem] = []
        var checked: Set<String> = []
        // Parse repeatedly, each time taking the field that failed out of the next pass.
        var remaining = record
        while true {
            do {
                _ = try parse(remaining, codes: &codes, numbers: &numbers, path: { "" }, skipping: checked)
                return found
            } catch {
                let field = error.field.hasPrefix(".") ? String(error.field.dropFirst()) : error.field
                guard !checked.contains(field) else { return found }
                found.append(FieldProblem(field: field, reason: error.reason))
                checked.insert(field)
                remaining[field] = nil
            }
        }
    }

    /// Checks one record into `codes` and `numbers`, returning its id. `path` is only built
    /// when there is a problem to name. Fields in `skipping` are not checked.
    private static func parse(
        _ record: CustomerRecord, codes: inout [UInt8], numbers: inout [Double], path: () -> String,
        skipping: Set<String> = []
    ) throws(FieldProblem) -> String {
        func problem(_ field: String, _ reason: String) -> FieldProblem {
            FieldProblem(field: "\(path()).\(field)", reason: reason)
        }
        var id = ""
        if !skipping.contains(TelcoSchema.idField) {
            guard let rawID = record[TelcoSchema.idField] else { throw problem(TelcoSchema.idField, "required field is missing") }
            guard let text = rawID.text?.trimmingSpaces, !text.isEmpty else {
                throw problem(TelcoSchema.idField, "must be a non-empty string")
            }
            id = text
        }
        let lookup = CategoricalField.codes
        for field in CategoricalField.allCases where !skipping.contains(field.name) {
            guard let value = record[field.name] else { throw problem(field.name, "required field is missing") }
            let code: UInt8?
            switch value {
            case .string(let text):
                // Byte comparison against the few allowed values beats hashing the string.
                code =
                    text.utf8.withContiguousStorageIfAvailable {
                        CellParser.category(CellParser.trimmed($0), field: field, translation: nil)
                    } ?? lookup[field.rawValue][text.trimmingSpaces]
            case .number, .bool, .null: code = value.text.flatMap { lookup[field.rawValue][$0] }
            }
            guard let code else {
                throw problem(field.name, FieldRules.unknownCategory(field) + ", got \(value.jsonValue.brief)")
            }
            codes[field.rawValue] = code
        }
        var blank: [NumericField] = []
        for field in NumericField.allCases where !skipping.contains(field.name) {
            guard let value = record[field.name] else { throw problem(field.name, "required field is missing") }
            switch value {
            case .number(let number):
                if let reason = FieldRules.problem(field, number) { throw problem(field.name, reason) }
                numbers[field.rawValue] = number
            case .string(let text):
                let trimmed = text.trimmingSpaces
                if trimmed.isEmpty {
                    blank.append(field)
                    numbers[field.rawValue] = .nan
                } else {
                    let parsed = Array(trimmed.utf8).withUnsafeBufferPointer { CellParser.number($0) }
                    guard let number = parsed else { throw problem(field.name, "expected a number, got \"\(text)\"") }
                    if let reason = FieldRules.problem(field, number) { throw problem(field.name, reason) }
                    numbers[field.rawValue] = number
                }
            case .null:
                blank.append(field)
                numbers[field.rawValue] = .nan
            case .bool:
                throw problem(field.name, "expected a number, got \(value.jsonValue.brief)")
            }
        }
        for field in blank where !skipping.contains(NumericField.tenure.name) {
            if let reason = FieldRules.missingProblem(field, tenure: numbers[NumericField.tenure.rawValue]) {
                throw problem(field.name, reason)
            }
        }
        return id
    }
}

extension TelcoRecords.FieldProblem: RPCErrorConvertible {
    public var rpcError: RPCError { .invalidParams(field: field, reason) }
}

extension String {
    /// Without surrounding spaces and tabs (itself, uncopied, when it has none).
    var trimmingSpaces: String {
        guard let first = utf8.first, let last = utf8.last,
            first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
        else { return self }
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
