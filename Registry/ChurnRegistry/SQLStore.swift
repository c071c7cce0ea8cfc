import Foundation

/// The SQL the registry's stores run, and where: SQLite (the embedded default, one file) or
/// PostgreSQL (a registry shared by several churnd hosts). Statements use `?` placeholders and
/// SQL both engines read; the few differences are asked of ``SQLDialect``.
protocol SQLStore: AnyObject {
    var dialect: SQLDialect { get }
    /// Where the store is, for messages (a file path, or a URL without its password).
    var location: String { get }
    /// Runs statements that return no rows (several, separated by `;`, for schema changes).
    func execute(_ sql: String) throws
    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult func run(_ sql: String, _ values: [SQLValue]) throws -> Int
    /// All rows of a query.
    func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
    /// The first row of a query, if any.
    func queryOne(_ sql: String, _ values: [SQLValue]) throws -> SQLRow?
    /// Runs `sql` once per row of values (in the caller's transaction).
    func runMany(_ sql: String, _ rows: [[SQLValue]]) throws
    /// Runs `body` in a transaction that takes the write lock at once, rolling back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T
}

extension SQLStore {
    @discardableResult func run(_ sql: String) throws -> Int { try run(sql, []) }
    func query(_ sql: String) throws -> [SQLRow] { try query(sql, []) }
    func queryOne(_ sql: String) throws -> SQLRow? { try queryOne(sql, []) }

    /// Runs an INSERT and returns the new row's `id` (both engines read `RETURNING`).
    func insertReturningID(_ sql: String, _ values: [SQLValue]) throws -> Int64 {
        guard let id = try queryOne(sql + " RETURNING id", values)?.int64("id") else {
            throw StorageFailure(backend: dialect.name, code: "", message: "an INSERT returned no id", sql: sql)
        }
        return id
    }
}

/// What differs between the engines.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    var name: String { self == .sqlite ? "SQLite" : "PostgreSQL" }

    /// `column` of the group's rows joined with commas.
    func joined(_ column: String) -> String {
        self == .sqlite ? "group_concat(\(column), ',')" : "string_agg(\(column), ',')"
    }

    /// A subquery of the strings in a JSON array bound at one `?`.
    var jsonStrings: String {
        self == .sqlite ? "SELECT value FROM json_each(?)" : "SELECT json_array_elements_text(CAST(? AS json))"
    }
}

/// A storage failure of either engine, with the statement that caused it.
public struct StorageFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// `SQLite` or `PostgreSQL`.
    public var backend: String
    /// The engine's code (an SQLite result code, a PostgreSQL SQLSTATE).
    public var code: String
    public var message: String
    public var sql: String?
    /// The database is damaged or is not a database.
    public var isCorruption = false
    /// The database server cannot be reached (PostgreSQL down, connection lost).
    public var isUnavailable = false

    public var description: String {
        let base = "\(message) (\(backend)\(code.isEmpty ? "" : " " + code))"
        return sql.map { base + " in: \($0.prefix(120))" } ?? base
    }
}

/// A value bound to, or read from, a statement.
enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
    case null

    static func optional(_ text: String?) -> SQLValue { text.map { .text($0) } ?? .null }
    static func optional(_ number: Int?) -> SQLValue { number.map { .integer(Int64($0)) } ?? .null }
}

/// One result row, by column name.
struct SQLRow {
    var values: [String: SQLValue]

    subscript(column: String) -> SQLValue { values[column] ?? .null }

    func text(_ column: String) -> String? {
        if case .text(let value) = self[column] { return value }
        return nil
    }

    func int(_ column: String) -> Int? {
        int64(column).map(Int.init)
    }

    func double(_ column: String) -> Double? {
        switch self[column] {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    func int64(_ column: String) -> Int64? {
        switch self[column] {
        case .integer(let value): value
        case .real(let value) where value.rounded() == value: Int64(value)
        default: nil
        }
    }

    func blob(_ column: String) -> Data? {
        if case .blob(let value) = self[column] { return value }
        return nil
    }
}

