import ChurnProtocol

/// One problem in one place of an input: the file, the physical line, the column and the value.
public struct DataIssue: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based physical line where the record starts (0 when not from a file).
    public var line: Int
    /// The column (by the file's own header name) or field, when the problem has one.
    public var column: String?
    /// The offending value, shortened.
    public var value: String?
    public var problem: String

    public init(file: String, line: Int, column: String? = nil, value: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.value = value.map { $0.count > 60 ? String($0.prefix(57)) + "..." : $0 }
        self.problem = problem
    }

    /// The issue as a `data.errors` record of a -32013 error: `file`, `line` (0 when not from a
    /// file), `column` and `value` (null when the problem has none), and `message`.
    public var jsonValue: JSONValue {
        .object([
            "file": .string(file), "line": .number(Double(line)), "column": column.map { .string($0) } ?? .null,
            "value": value.map { .string($0) } ?? .null, "message": .string(problem),
        ])
    }

    public var description: String {
        var text = line > 0 ? "\(file):\(line)" : file
        if let column { text += ": column \(column)" }
        if let value { text += ": \"\(value)\"" }
        return text + ": " + problem
    }
}

/// Why data could not be read. Every case says where.
public enum DataError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file cannot be opened or read.
    case unreadable(file: String, reason: String)
    /// The file has no header line.
    case empty(file: String)
    /// The file has a header and no data rows.
    case headerOnly(file: String)
    /// Required columns are absent under the mapping in use.
    case missingColumns(file: String, columns: [String], mapping: String)
    /// The CSV itself is malformed at a place (unclosed quote, record too long, bad bytes).
    case malformed(DataIssue)
    /// Rows with bad values; `total` counts them all, `issues` holds the first ones.
    case badRows(issues: [DataIssue], total: Int, rows: Int)
    /// Rows of a monthly panel with bad values (a panel is read whole or not at all).
    case badPanelRows(issues: [DataIssue], total: Int, rows: Int)
    /// A mapping file or option is wrong.
    case invalidMapping(file: String, reason: String)
    /// A dataset schema is wrong: `field` is the member's path (`columns[3].type`).
    case invalidSchema(source: String, field: String, reason: String)
    /// The data cannot train a model: one class only, too few rows of a class.
    case unusableLabels(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "cannot read \(file): \(reason)"
        case .empty(let file): "\(file) is empty: expected a header line and customer rows"
        case .headerOnly(let file): "\(file) has a header but no customer rows"
        case .missingColumns(let file, let columns, let mapping) where mapping == "panel":
            "the monthly panel \(file) lacks column\(columns.count == 1 ? "" : "s") \(columns.joined(separator: ", ")): add them, or name the file's columns in the panel schema (history in the dataset schema)"
        case .missingColumns(let file, let columns, let mapping) where mapping == "uplift":
            "the uplift training file \(file) lacks the treatment column \(columns.joined(separator: ", ")) that says who was given the offer"
        case .missingColumns(let file, let columns, let mapping):
            "\(file) lacks required column\(columns.count == 1 ? "" : "s") \(columns.joined(separator: ", ")) under the \(mapping) mapping: pass --mapping or a mapping file that names them"
        case .malformed(let issue): issue.description
        case .badRows(let issues, let total, let rows):
            "\(total) of \(rows) rows have errors (reject policy; use --skip-bad-rows to drop them):\n"
                + issues.prefix(20).map { "  " + $0.description }.joined(separator: "\n")
                + (total > 20 ? "\n  ... and \(total - 20) more" : "")
        case .badPanelRows(let issues, let total, let rows):
            "\(total) of \(rows) rows of the monthly panel have errors (nothing was read):\n"
                + issues.prefix(20).map { "  " + $0.description }.joined(separator: "\n")
                + (total > 20 ? "\n  ... and \(total - 20) more" : "")
        case .invalidMapping(let file, let reason): "mapping \(file): \(reason)"
        case .invalidSchema(let source, let field, let reason):
            "schema \(source)\(field.isEmpty ? "" : ": " + field): \(reason)"
        case .unusableLabels(let file, let reason): "\(file): \(reason)"
        }
    }

    /// The issues, for machine-readable error data.
    public var issues: [DataIssue] {
        switch self {
        case .malformed(let issue): [issue]
        case .badRows(let issues, _, _), .badPanelRows(let issues, _, _): issues
        default: []
        }
    }
}

extension DataError: RPCErrorConvertible {
    public var rpcError: RPCError {
        let errors = JSONValue.array(issues.prefix(100).map(\.jsonValue))
        switch self {
        case .unreadable(let file, _):
            return RPCError(.fileError, description, data: ["path": .string(file)])
        case .badRows(_, let total, let rows):
            return RPCError(
                .invalidData, "\(total) of \(rows) rows have errors", data: ["errors": errors, "total": .number(Double(total))])
        case .badPanelRows(_, let total, let rows):
            return RPCError(
                .invalidData, "\(total) of \(rows) rows of the monthly panel have errors",
                data: ["errors": errors, "total": .number(Double(total))])
        case .invalidSchema(let source, let field, let reason):
            return RPCError(
                .invalidData, description,
                data: ["errors": .array([DataIssue(file: source, line: 0, column: field.isEmpty ? nil : field, problem: reason).jsonValue])])
        default:
            return RPCError(.invalidData, description, data: ["errors": errors])
        }
    }
}
