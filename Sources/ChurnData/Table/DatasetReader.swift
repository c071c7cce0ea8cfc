import Foundation

/// How to read a customer file.
public struct DatasetReadOptions: Sendable {
    /// Fail when the file has no label column (training needs one).
    public var requireLabel: Bool
    /// Read the label column when there is one. Off for prediction: a label is never an input,
    /// so its values cannot make a file unreadable.
    public var readLabel: Bool
    /// Drop bad rows and report them, instead of rejecting the file.
    public var skipBadRows: Bool
    /// How many issues to keep for the report (all are counted).
    public var maximumIssues: Int

    public init(requireLabel: Bool = false, readLabel: Bool = true, skipBadRows: Bool = false, maximumIssues: Int = 100) {
        self.requireLabel = requireLabel
        self.readLabel = readLabel
        self.skipBadRows = skipBadRows
        self.maximumIssues = maximumIssues
    }
}

/// What reading a file found.
public struct DatasetReadReport: Sendable, CustomStringConvertible {
    public var file: String
    public var schema: String
    /// Data rows in the file.
    public var rows: Int
    /// Rows kept.
    public var kept: Int
    /// Rows dropped (skip policy) or rejected.
    public var badRows: Int
    /// The first issues, with line and column.
    public var issues: [DataIssue]
    /// File columns no schema column reads.
    public var unreadColumns: [String]
    /// True when the file has no id column and rows were named `row-<n>`.
    public var generatedIDs: Bool

    public var description: String {
        var text = "\(file): \(rows) rows, \(kept) kept, \(badRows) with errors (schema \(schema))"
        if generatedIDs { text += "; no id column: rows are named row-<n> by their data row number" }
        for issue in issues.prefix(20) { text += "\n  " + issue.description }
        if badRows > 20 { text += "\n  ... and more" }
        return text
    }
}

/// Reads customer CSV files under a ``DatasetSchema``, checking every cell. Every bad row is
/// reported with file, line, column and value; nothing is coerced silently (surrounding spaces
/// in a cell are ignored; blanks mean what the schema's blank rule says).
public enum DatasetReader {
    /// Reads the CSV file at `path`.
    public static func read(_ path: String, schema: DatasetSchema, options: DatasetReadOptions = DatasetReadOptions())
        throws(DataError) -> (Dataset, DatasetReadReport)
    {
        try read(CSVReader(path: path), schema: schema, options: options)
    }

    /// Reads CSV bytes in memory; `name` is what errors call them.
    public static func read(
        bytes: [UInt8], name: String, schema: DatasetSchema, options: DatasetReadOptions = DatasetReadOptions()
    ) throws(DataError) -> (Dataset, DatasetReadReport) {
        try read(CSVReader(bytes: bytes, name: name), schema: schema, options: options)
    }

    /// Reads the CSV file at `path` in chunks of `options.chunkRows` customers, calling `body`
    /// with each in file order; memory holds one chunk, whatever the file's size. Bad rows are
    /// not fatal: each chunk lists those read since the previous one. The label column is never
    /// read, and ids are not checked for duplicates (that would hold every id). Errors from
    /// `body` end the read and are rethrown as they are.
    public static func stream(
        _ path: String, name: String? = nil, schema: DatasetSchema, options: DatasetStreamOptions,
        _ body: (DatasetChunk) throws -> Void
    ) throws -> DatasetStreamSummary {
        let reader = CSVReader(path: path, name: name)
        var state = DatasetReadState(file: reader.file, schema: schema, options: DatasetReadOptions(readLabel: false, skipBadRows: true))
        try withoutActuallyEscaping(body) { body in
            state.stream = StreamHooks(options: options, body: body)
            // The hooks hold `body`: they must be gone when this block ends, thrown out or not.
            defer { state.stream = nil }
            try reader.forEachRecord { record in try state.consume(record) }
            guard state.columns != nil else { throw DataError.empty(file: reader.file) }
            try state.emitChunk()
        }
        guard let columns = state.columns else { throw DataError.empty(file: reader.file) }
        return DatasetStreamSummary(
            rows: state.rows, badRows: state.badRows, unreadColumns: columns.unread, generatedIDs: columns.id == nil,
            header: columns.header)
    }

    static func read(_ reader: CSVReader, schema: DatasetSchema, options: DatasetReadOptions) throws(DataError)
        -> (Dataset, DatasetReadReport)
    {
        var state = DatasetReadState(file: reader.file, schema: schema, options: options)
        state.fileBytes = reader.fileBytes
        do {
            try reader.forEachRecord { record in try state.consume(record) }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: reader.file, reason: "\(error)")
        }
        guard let columns = state.columns else { throw .empty(file: reader.file) }
        guard state.rows > 0 else { throw .headerOnly(file: reader.file) }
        let report = DatasetReadReport(
            file: reader.file, schema: schema.name, rows: state.rows, kept: state.table.count, badRows: state.badRows,
            issues: state.issues, unreadColumns: columns.unread, generatedIDs: columns.id == nil)
        if state.badRows > 0, !options.skipBadRows {
            throw .badRows(issues: state.issues, total: state.badRows, rows: state.rows)
        }
        state.table.vocabularies = state.readers.vocabularies
        let dataset = Dataset(
            schema: schema, customers: state.table, churned: columns.label == nil ? nil : state.labels,
            churnReasons: columns.reason == nil ? nil : state.reasons, lines: state.lines)
        return (dataset, report)
    }
}

/// How to stream a customer file (``DatasetReader/stream(_:name:schema:options:_:)``).
public struct DatasetStreamOptions: Sendable {
    /// Customers per chunk.
    public var chunkRows: Int
    /// Data rows at the start of the file to pass over unread (a resumed run's done rows).
    public var skipRows: Int
    /// File columns whose text each chunk carries through, by header name.
    public var keepColumns: [String]
    /// Which customers (by id) to read; the rest are passed over unchecked. Nil: all.
    public var include: (@Sendable (String) -> Bool)?

    public init(chunkRows: Int, skipRows: Int = 0, keepColumns: [String] = [], include: (@Sendable (String) -> Bool)? = nil) {
        self.chunkRows = max(1, chunkRows)
        self.skipRows = max(0, skipRows)
        self.keepColumns = keepColumns
        self.include = include
    }
}

/// Customers read from a stretch of a file while streaming.
public struct DatasetChunk: Sendable {
    /// 0 for the first chunk, then 1, 2, ...
    public var index: Int
    /// The good rows, checked under the schema.
    public var customers: CustomerTable
    /// The physical line of each good row.
    public var lines: [Int]
    /// Per kept column, each good row's text.
    public var kept: [[String]]
    /// The bad rows read since the previous chunk, in file order.
    public var rejected: [RejectedRow]
    /// Data rows of the file read through the end of this chunk (good, bad, skipped).
    public var rowsThrough: Int
    /// About how many bytes of data rows were read through the end of this chunk.
    public var bytesThrough: Int
}

/// A row that could not be read, and why.
public struct RejectedRow: Sendable, Hashable {
    public var line: Int
    /// Every problem of the row, by column.
    public var issues: [DataIssue]

    public init(line: Int, issues: [DataIssue]) {
        self.line = line
        self.issues = issues
    }
}

/// What a streaming read found.
public struct DatasetStreamSummary: Sendable {
    /// Data rows in the file.
    public var rows: Int
    /// Rows rejected (of those not passed over).
    public var badRows: Int
    public var unreadColumns: [String]
    /// True when the file has no id column and rows are named `row-<n>`.
    public var generatedIDs: Bool
    public var header: [String]
}

/// Column positions of one file under a schema.
struct ResolvedFileColumns {
    let id: Int?
    let inputs: [Int]
    let label: Int?
    let reason: Int?
    let header: [String]
    let unread: [String]

    init(header: [String], schema: DatasetSchema, file: String, options: DatasetReadOptions) throws(DataError) {
        var positions: [String: Int] = [:]
        for (index, name) in header.enumerated() where positions[name] == nil { positions[name] = index }
        var missing: [String] = []
        func position(_ column: String, or name: String) -> Int {
            if let index = positions[column] ?? positions[name] { return index }
            missing.append(column)
            return -1
        }
        id = schema.id.map { position($0.column, or: $0.name) }
        inputs = schema.inputs.map { position($0.fileColumn, or: $0.name) }
        guard missing.isEmpty else { throw .missingColumns(file: file, columns: missing, mapping: schema.name) }
        label = options.readLabel ? positions[schema.label.column] ?? positions[schema.label.name] : nil
        if options.requireLabel, label == nil {
            throw .missingColumns(file: file, columns: [schema.label.column], mapping: schema.name)
        }
        reason = schema.reason.flatMap { positions[$0.column] ?? positions[$0.name] }
        self.header = header
        let read = Set([id, label, reason].compactMap { $0 } + inputs)
        unread = header.indices.filter { !read.contains($0) }.map { header[$0] }
    }
}

/// What a streaming read does with its chunks, and the file columns it passes through.
private struct StreamHooks {
    let options: DatasetStreamOptions
    let body: (DatasetChunk) throws -> Void
    var keptColumns: [Int] = []

    mutating func resolveKept(header: [String], file: String) throws(DataError) {
        var positions: [Int] = []
        var missing: [String] = []
        for name in options.keepColumns {
            if let index = header.firstIndex(of: name) { positions.append(index) } else { missing.append(name) }
        }
        guard missing.isEmpty else {
            throw .invalidMapping(
                file: file, reason: "no column \(missing.joined(separator: ", ")) to keep; the header has \(header.joined(separator: ", "))")
        }
        keptColumns = positions
    }
}

/// The reader's running state: header, accumulated columns, issues.
private struct DatasetReadState {
    let file: String
    let schema: DatasetSchema
    let options: DatasetReadOptions
    var columns: ResolvedFileColumns?
    var readers: RowReader
    var table: CustomerTable
    let positive: [[UInt8]]
    let negative: [[UInt8]]
    /// The file's size, to size the columns once the first rows show how long a row is.
    var fileBytes: Int?
    private var sampledBytes = 0
    var labels: [Bool] = []
    var reasons: [String?] = []
    var lines: [Int] = []
    var seen: [String: Int] = [:]
    var rows = 0
    var badRows = 0
    var issues: [DataIssue] = []
    var rowCodes: [UInt32]
    var rowNumbers: [Double]
    var deferred: [Bool]
    /// Set when the file is read in chunks (``DatasetReader/stream(_:schema:options:_:)``).
    var stream: StreamHooks?
    var kept: [[String]] = []
    var rejected: [RejectedRow] = []
    var chunks = 0
    /// Bytes of the data rows read so far (about: line ends count one byte).
    var bytesRead = 0

    init(file: String, schema: DatasetSchema, options: DatasetReadOptions) {
        self.file = file
        self.schema = schema
        self.options = options
        table = CustomerTable(schema: schema)
        readers = RowReader(schema: schema, layout: table.layout)
        positive = schema.label.positive.map { Array($0.utf8) }
        negative = schema.label.negative.map { Array($0.utf8) }
        rowCodes = [UInt32](repeating: 0, count: table.layout.categoricalNames.count)
        rowNumbers = [Double](repeating: 0, count: table.layout.numberNames.count)
        deferred = [Bool](repeating: false, count: schema.inputs.count)
    }

    mutating func consume(_ record: borrowing CSVRecord) throws {
        guard let columns else {
            try readHeader(record)
            if stream != nil {
                try stream!.resolveKept(header: self.columns!.header, file: file)
                kept = stream!.keptColumns.map { _ in [] }
            }
            return
        }
        rows += 1
        bytesRead += record.byteCount + 1
        if let stream, rows <= stream.options.skipRows { return }
        if rows <= 256, let fileBytes {
            sampledBytes += record.byteCount
            if rows == 256 { reserve(rows: Int(Double(fileBytes) / Double(max(sampledBytes, 1)) * 256 * 1.05)) }
        }
        let line = record.line
        guard record.count == columns.header.count else {
            let header = columns.header
            let column = record.count < header.count ? header[record.count] : "field \(header.count + 1)"
            let problems = [DataIssue(file: file, line: line, column: column, problem: "row has \(record.count) fields, the header has \(header.count)")]
            report(problems)
            if stream != nil { try streamRejected(problems, line: line) }
            return
        }
        var problems: [DataIssue] = []
        func issue(_ column: Int, _ problem: String) {
            problems.append(
                DataIssue(file: file, line: line, column: columns.header[column], value: record.lossyString(column), problem: problem))
        }

        // Identifier (or the data row number).
        var id: String
        if let idColumn = columns.id {
            let text = record.withField(idColumn) { String(validating: CellParser.trimmed($0), as: UTF8.self) }
            id = text ?? ""
            if text == nil {
                issue(idColumn, "not valid UTF-8")
            } else if id.isEmpty {
                issue(idColumn, "\(schema.id!.name) is empty")
            } else if stream == nil, let first = seen[id] {
                issue(idColumn, "duplicate \(schema.id!.name) (first on line \(first))")
            }
        } else {
            id = "row-\(rows)"
        }
        if let include = stream?.options.include, problems.isEmpty, !include(id) { return }

        // Inputs.
        for (position, column) in columns.inputs.enumerated() {
            let reading = record.withField(column) { readers.fields[position].read(CellParser.trimmed($0)) }
            deferred[position] = false
            let target = readers.fields[position].index
            switch reading {
            case .code(let code): rowCodes[target] = code
            case .number(let number): rowNumbers[target] = number
            case .deferredBlank: deferred[position] = true
            case .problem(let problem): issue(column, problem)
            }
        }
        for (field, condition) in readers.conditions where deferred[field] {
            switch readers.fields[field].resolveBlank(conditionValue: rowNumbers[condition]) {
            case .number(let number): rowNumbers[readers.fields[field].index] = number
            case .problem(let problem): issue(columns.inputs[field], problem)
            default: break
            }
        }

        // Label.
        var churned = false
        if let labelColumn = columns.label {
            let value = record.withField(labelColumn) { Self.match(CellParser.trimmed($0), positive: positive, negative: negative) }
            if value == true {
                churned = true
            } else if value == nil {
                let expected = (schema.label.positive + schema.label.negative).joined(separator: ", ")
                issue(labelColumn, "unknown label value: expected one of \(expected)")
            }
        }

        guard problems.isEmpty else {
            report(problems)
            if stream != nil { try streamRejected(problems, line: line) }
            return
        }
        if stream == nil { seen[id] = line }
        table.append(id: id, codes: rowCodes, numbers: rowNumbers)
        labels.append(churned)
        lines.append(line)
        if let reasonColumn = columns.reason {
            let reason = record.withField(reasonColumn) { String(decoding: CellParser.trimmed($0), as: UTF8.self) }
            reasons.append(reason.isEmpty ? nil : reason)
        }
        if let stream {
            for (index, column) in stream.keptColumns.enumerated() { kept[index].append(record.lossyString(column)) }
            if table.count >= stream.options.chunkRows { try emitChunk() }
        }
    }

    // MARK: Streaming

    /// A rejected row while streaming: its issues travel with the chunk they fall in.
    private mutating func streamRejected(_ problems: [DataIssue], line: Int) throws {
        rejected.append(RejectedRow(line: line, issues: problems))
        // A run of bad rows must not grow without bound while no good row closes a chunk.
        if rejected.count >= stream!.options.chunkRows { try emitChunk() }
    }

    /// Hands the rows read since the last chunk to the consumer and starts a new chunk.
    mutating func emitChunk() throws {
        guard let stream, table.count > 0 || !rejected.isEmpty else { return }
        var customers = table
        customers.vocabularies = readers.vocabularies
        let chunk = DatasetChunk(
            index: chunks, customers: customers, lines: lines, kept: kept, rejected: rejected, rowsThrough: rows,
            bytesThrough: bytesRead)
        chunks += 1
        // An open field's values start afresh with each chunk (its codes are the chunk's own),
        // so a field of many distinct values (cities, handsets) cannot grow with the file.
        for field in readers.fields.indices where readers.fields[field].column.open {
            readers.fields[field] = FieldReader(column: readers.fields[field].column, index: readers.fields[field].index)
        }
        table = CustomerTable(schema: schema)
        table.vocabularies = readers.vocabularies
        table.reserveCapacity(stream.options.chunkRows)
        labels.removeAll(keepingCapacity: true)
        reasons.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        kept = kept.map { _ in [] }
        rejected.removeAll()
        try stream.body(chunk)
    }

    /// True for a positive label value, false for a negative one, nil for anything else.
    @inline(__always)
    private static func match(_ bytes: UnsafeBufferPointer<UInt8>, positive: [[UInt8]], negative: [[UInt8]]) -> Bool? {
        func equal(_ value: [UInt8]) -> Bool { value.count == bytes.count && value.elementsEqual(bytes) }
        if positive.contains(where: equal) { return true }
        if negative.contains(where: equal) { return false }
        return nil
    }

    /// Sizes the columns for about `rows` rows.
    private mutating func reserve(rows: Int) {
        guard rows > self.rows, rows < 500_000_000 else { return }
        table.reserveCapacity(rows)
        seen.reserveCapacity(columns?.id == nil ? 0 : rows)
        labels.reserveCapacity(rows)
        lines.reserveCapacity(rows)
    }

    private mutating func report(_ problems: [DataIssue]) {
        badRows += 1
        for problem in problems where issues.count < options.maximumIssues { issues.append(problem) }
    }

    private mutating func readHeader(_ record: borrowing CSVRecord) throws(DataError) {
        var header: [String] = []
        for index in 0..<record.count {
            guard let name = record.string(index) else {
                throw .malformed(DataIssue(file: file, line: record.line, column: "field \(index + 1)", problem: "header is not valid UTF-8"))
            }
            header.append(name.trimmingCharacters(in: .whitespaces))
        }
        columns = try ResolvedFileColumns(header: header, schema: schema, file: file, options: options)
    }
}
