import ChurnProtocol

extension RecordValidator {
    /// The customers of a batch sent by column, checked by the same rules as records and files,
    /// column by column: a dictionary column's values are read once each, not once per row, and
    /// no record is built. A problem names the first bad row (by its place in the request:
    /// `positions[row]` when the batch is part of one) and field, `batch[12].tenure`; a field
    /// the batch has no column for is named `batch.fields`.
    public func table(_ batch: CustomerBatch, path: String = "batch", positions: [Int]? = nil) throws(FieldProblem) -> CustomerTable {
        let rows = batch.rows
        var firstProblem: (row: Int, field: String, reason: String)?
        func note(_ row: Int, _ field: String, _ reason: String) {
            if firstProblem == nil || row < firstProblem!.row { firstProblem = (row, field, reason) }
        }
        func position(_ row: Int) -> Int { positions?[row] ?? row }

        var table = emptyTable
        table.ids = try ids(of: batch, path: path, position: position, note: note)

        var readers = template
        var deferred = [[Int]](repeating: [], count: readers.fields.count)
        table.codes = table.codes.map { _ in [UInt32](repeating: 0, count: rows) }
        table.numbers = table.numbers.map { _ in [Double](repeating: .nan, count: rows) }
        for field in readers.fields.indices {
            // From the layout: reading a reader's members here would copy the reader.
            let name = layout.fields[field].name
            guard let column = batch.column(name) else {
                throw FieldProblem(field: "\(path).fields", reason: "required field \(name) is missing (the batch has no column for it)")
            }
            let target = layout.fields[field].index
            func apply(_ reading: FieldReader.Reading, _ row: Int) {
                switch reading {
                case .code(let code): table.codes[target][row] = code
                case .number(let number): table.numbers[target][row] = number
                case .deferredBlank: deferred[field].append(row)
                case .problem(let reason): note(row, name, reason)
                }
            }
            switch column {
            case .dictionary(let values, let codes):
                // Each distinct value is read once (a value no row uses is never judged).
                var readings = [FieldReader.Reading?](repeating: nil, count: values.count)
                for row in 0..<rows {
                    let code = Int(codes[row])
                    if readings[code] == nil { readings[code] = readers.read(.string(values[code]), field: field) }
                    apply(readings[code]!, row)
                }
            case .numbers(let values):
                for row in 0..<rows { apply(readers.read(values[row].isNaN ? .null : .number(values[row]), field: field), row) }
            default:
                for row in 0..<rows { apply(readers.read(column[row], field: field), row) }
            }
        }
        for (field, condition) in readers.conditions {
            let reader = readers.fields[field]
            for row in deferred[field] {
                switch reader.resolveBlank(conditionValue: table.numbers[condition][row]) {
                case .number(let number): table.numbers[reader.index][row] = number
                case .problem(let reason): note(row, reader.column.name, reason)
                default: break
                }
            }
        }
        if let firstProblem {
            throw FieldProblem(field: "\(path)[\(position(firstProblem.row))].\(firstProblem.field)", reason: firstProblem.reason)
        }
        if readers.learned { table.vocabularies = readers.vocabularies }
        return table
    }

    /// Each row's id, as ``id(of:index:)`` reads a record's (empty when it has none: checking
    /// the batch names the problem).
    public func ids(of batch: CustomerBatch) -> [String] {
        (try? ids(of: batch, path: "batch", position: { $0 }, note: { _, _, _ in })) ?? Array(repeating: "", count: batch.rows)
    }

    /// Each row's id, as ``id(of:index:)`` reads a record's.
    private func ids(
        of batch: CustomerBatch, path: String, position: (Int) -> Int, note: (Int, String, String) -> Void
    ) throws(FieldProblem) -> [String] {
        guard let column = batch.column(idField) else {
            guard !requiresID else {
                throw FieldProblem(field: "\(path).fields", reason: "required field \(idField) is missing (the batch has no column for it)")
            }
            return (0..<batch.rows).map { "record-\(position($0))" }
        }
        return (0..<batch.rows).map { row in
            switch column[row] {
            case .string(let text):
                let id = text.trimmingSpaces
                // Blank: "" as for a record (``id(of:index:)``), refused where ids are required.
                if !id.isEmpty || !requiresID { return id }
            case .number(let number):
                return FieldValue.number(number).text ?? ""
            default:
                break
            }
            if requiresID {
                note(row, idField, "must be a non-empty string")
                return ""
            }
            return "record-\(position(row))"
        }
    }
}

extension CustomerTable {
    /// The table as a batch in canonical form, as plugins receive it: the id field, then every
    /// input field in schema order; categories as dictionary columns (the vocabulary and the
    /// codes), booleans as true/false, dates as `YYYY-MM-DD`, numbers as numbers, null for a
    /// missing value.
    public func batch(idField: String) -> CustomerBatch {
        var columns: [BatchColumn] = [.strings(ids)]
        columns.reserveCapacity(layout.fields.count + 1)
        for field in layout.fields {
            if field.isCategorical {
                columns.append(.dictionary(values: vocabularies[field.index], codes: codes[field.index]))
                continue
            }
            let values = numbers[field.index]
            switch field.type {
            case .boolean: columns.append(.booleans(values.map { $0.isNaN ? nil : $0 != 0 }))
            case .date: columns.append(.strings(values.map { $0.isNaN ? nil : CalendarDay.text(days: Int($0)) }))
            default: columns.append(.numbers(values))
            }
        }
        // Built from a table: one column per field, all of its length, codes within the vocabularies.
        return CustomerBatch(uncheckedRows: count, fields: [idField] + layout.names, columns: columns)
    }
}
