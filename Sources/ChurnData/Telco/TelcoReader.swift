import Foundation

/// How to read a telco file.
public struct TelcoReadOptions: Sendable {
    /// The column mapping; detected from the header (kaggle or ibm) when nil.
    public var mapping: ColumnMapping?
    /// Drop bad rows and report them, instead of rejecting the file.
    public var skipBadRows: Bool
    /// Fail when the file has no label column (training needs one).
    public var requireLabel: Bool
    /// Do not read the label column at all (prediction: a label is never an input, so its values
    /// cannot make a file unreadable).
    public var ignoreLabel: Bool
    /// How many issues to keep for the report (all are counted).
    public var maximumIssues: Int

    public init(
        mapping: ColumnMapping? = nil, skipBadRows: Bool = false, requireLabel: Bool = false, ignoreLabel: Bool = false,
        maximumIssues: Int = 100
    ) {
        self.mapping = mapping
        self.skipBadRows = skipBadRows
        self.requireLabel = requireLabel
        self.ignoreLabel = ignoreLabel
        self.maximumIssues = maximumIssues
    }
}

/// What reading a file found.
public struct TelcoReadReport: Sendable, CustomStringConvertible {
    public var file: String
    public var mapping: String
    /// Data rows in the file.
    public var rows: Int
    /// Rows kept.
    public var kept: Int
    /// Rows dropped (skip policy) or rejected.
    public var badRows: Int
    /// The first issues, with line and column.
    public var issues: [DataIssue]

    public var description: String {
        var text = "\(file): \(rows) rows, \(kept) kept, \(badRows) with errors (mapping \(mapping))"
        for issue in issues.prefix(20) { text += "\n  " + issue.description }
        if badRows > 20 { text += "\n  ... \(issues.count > 20 ? "and more" : "")" }
        return text
    }
}

/// Reads telco customer files through a column mapping, checking every cell. Every bad row is
/// reported with file, line, column and value; nothing is coerced silently (surrounding spaces
/// in a cell are ignored, and a blank `TotalCharges` is read as "not yet billed" only for a
/// tenure-0 customer).
public enum TelcoReader {
    /// Reads the CSV file at `path`.
    public static func read(_ path: String, options: TelcoReadOptions = TelcoReadOptions()) throws(DataError)
        -> (TelcoDataset, TelcoReadReport)
    {
        try read(CSVReader(path: path), options: options)
    }

    /// Reads CSV bytes in memory; `name` is what errors call them.
    public static func read(bytes: [UInt8], name: String, options: TelcoReadOptions = TelcoReadOptions()) throws(DataError)
        -> (TelcoDataset, TelcoReadReport)
    {
        try read(CSVReader(bytes: bytes, name: name), options: options)
    }

    static func read(_ reader: CSVReader, options: TelcoReadOptions) throws(DataError) -> (TelcoDataset, TelcoReadReport) {
        let file = reader.file
        var state = ReadState(file: file, options: options)
        do {
            try reader.forEachRecord { record in try state.consume(record) }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: file, reason: "\(error)")
        }
        guard let columns = state.columns else { throw .empty(file: file) }
        guard state.rows > 0 else { throw .headerOnly(file: file) }
        let report = TelcoReadReport(
            file: file, mapping: state.mappingName, rows: state.rows, kept: state.table.count, badRows: state.badRows,
            issues: state.issues)
        if state.badRows > 0, !options.skipBadRows {
            throw .badRows(issues: state.issues, total: state.badRows, rows: state.rows)
        }
        let dataset = TelcoDataset(
            customers: state.table, churned: columns.label == nil ? nil : state.labels,
            churnReasons: columns.churnReason == nil ? nil : state.reasons, lines: state.lines)
        return (dataset, report)
    }
}

/// The reader's running state: header, accumulated columns, issues.
private struct ReadState {
    let file: String
    let options: TelcoReadOptions
    var columns: ResolvedColumns?
    var mappingName = ""
    var labelChurned: Set<[UInt8]> = []
    var labelStayed: Set<[UInt8]> = []
    var table = CustomerTable()
    var labels: [Bool] = []
    var reasons: [String?] = []
    var lines: [Int] = []
    var seen: [String: Int] = [:]
    var rows = 0
    var badRows = 0
    var issues: [DataIssue] = []
    var rowCodes = [UInt8](repeating: 0, count: CategoricalField.allCases.count)
    var rowNumbers = [Double](repeating: 0, count: NumericField.allCases.count)

    init(file: String, options: TelcoReadOptions) {
        self.file = file
        self.options = options
    }

    mutating func consume(_ record: borrowing CSVRecord) throws(DataError) {
        guard let columns else {
            try readHeader(record)
            return
        }
        rows += 1
        let line = record.line
        guard record.count == columns.headerNames.count else {
            let header = columns.headerNames
            let column = record.count < header.count ? header[record.count] : "field \(header.count + 1)"
            report(
                DataIssue(
                    file: file, line: line, column: column,
                    problem: "row has \(record.count) fields, the header has \(header.count)"))
            return
        }
        var problems: [DataIssue] = []
        func issue(_ column: Int, _ problem: String) {
            problems.append(
                DataIssue(file: file, line: line, column: columns.headerNames[column], value: record.lossyString(column), problem: problem))
        }

        // Identifier.
        let id = record.withField(columns.id) { String(validating: CellParser.trimmed($0), as: UTF8.self) }
        if id == nil {
            issue(columns.id, "not valid UTF-8")
        } else if id!.isEmpty {
            issue(columns.id, "customerID is empty")
        } else if let first = seen[id!] {
            issue(columns.id, "duplicate customerID (first on line \(first))")
        }

        // Categorical fields.
        for field in CategoricalField.allCases {
            let column = columns.categorical[field.rawValue]
            let code = record.withField(column) {
                CellParser.category(CellParser.trimmed($0), field: field, translation: columns.translations[field.rawValue])
            }
            if let code { rowCodes[field.rawValue] = code } else { issue(column, FieldRules.unknownCategory(field)) }
        }

        // Numeric fields; TotalCharges may be blank only at tenure 0.
        var blank: [NumericField] = []
        for field in NumericField.allCases {
            let column = columns.numeric[field.rawValue]
            let parsed: Double?? = record.withField(column) { bytes in
                let cell = CellParser.trimmed(bytes)
                return cell.isEmpty ? .some(nil) : CellParser.number(cell).map { .some($0) }
            }
            switch parsed {
            case .none: issue(column, "not a number")
            case .some(.none):
                blank.append(field)
                rowNumbers[field.rawValue] = .nan
            case .some(.some(let value)):
                if let problem = FieldRules.problem(field, value) { issue(column, problem) } else { rowNumbers[field.rawValue] = value }
            }
        }
        for field in blank {
            if let problem = FieldRules.missingProblem(field, tenure: rowNumbers[NumericField.tenure.rawValue]) {
                issue(columns.numeric[field.rawValue], problem)
            }
        }

        // Label.
        var churned = false
        if let labelColumn = columns.label {
            let value = record.withField(labelColumn) { Array(CellParser.trimmed($0)) }
            if labelChurned.contains(value) {
                churned = true
            } else if !labelStayed.contains(value) {
                let expected = (labelChurned.map { String(decoding: $0, as: UTF8.self) } + labelStayed.map { String(decoding: $0, as: UTF8.self) }).sorted()
                issue(labelColumn, "unknown label value: expected one of \(expected.joined(separator: ", "))")
            }
        }

        guard problems.isEmpty else {
            badRows += 1
            for problem in problems where issues.count < options.maximumIssues { issues.append(problem) }
            return
        }
        seen[id!] = line
        rowCodes.withUnsafeBufferPointer { codes in
            rowNumbers.withUnsafeBufferPointer { numbers in table.appendRow(id: id!, codes: codes, numbers: numbers) }
        }
        labels.append(churned)
        lines.append(line)
        if let reasonColumn = columns.churnReason {
            let reason = record.withField(reasonColumn) { String(decoding: CellParser.trimmed($0), as: UTF8.self) }
            reasons.append(reason.isEmpty ? nil : reason)
        }
    }

    private mutating func report(_ issue: DataIssue) {
        badRows += 1
        if issues.count < options.maximumIssues { issues.append(issue) }
    }

    private mutating func readHeader(_ record: borrowing CSVRecord) throws(DataError) {
        var header: [String] = []
        for index in 0..<record.count {
            guard let name = record.string(index) else {
                throw .malformed(DataIssue(file: file, line: record.line, column: "field \(index + 1)", problem: "header is not valid UTF-8"))
            }
            header.append(name.trimmingCharacters(in: .whitespaces))
        }
        var mapping = options.mapping ?? ColumnMapping.detect(header: header) ?? .kaggle
        if options.ignoreLabel { mapping.label = nil }
        columns = try ResolvedColumns(header: header, mapping: mapping, file: file, requireLabel: options.requireLabel)
        mappingName = mapping.name
        labelChurned = Set((mapping.label?.churned ?? []).map { Array($0.utf8) })
        labelStayed = Set((mapping.label?.stayed ?? []).map { Array($0.utf8) })
    }
}
