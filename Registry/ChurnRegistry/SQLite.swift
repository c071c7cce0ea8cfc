import CSQLite
import Foundation

/// A failure of the SQLite C API, with the statement that caused it.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CORRUPT`, ...).
    public var code: Int32
    public var message: String
    public var sql: String?

    public var description: String {
        sql.map { "\(message) (SQLite code \(code)) in: \($0.prefix(120))" } ?? "\(message) (SQLite code \(code))"
    }

    /// The database file is damaged or is not a database.
    public var isCorruption: Bool { code == SQLITE_CORRUPT || code == SQLITE_NOTADB }
    /// A constraint (UNIQUE, FOREIGN KEY, trigger) refused the change.
    public var isConstraint: Bool { code == SQLITE_CONSTRAINT }

    /// The failure as the registry reports it.
    var failure: StorageFailure {
        StorageFailure(backend: "SQLite", code: String(code), message: message, sql: sql, isCorruption: isCorruption, isUnavailable: false)
    }
}

/// A thin, tested wrapper over one SQLite connection: open, execute, prepared statements,
/// transactions. Not thread-safe by itself; ``ModelRegistry`` serialises access.
final class SQLiteDatabase: SQLStore {
    let dialect = SQLDialect.sqlite
    var location: String { path }

    private(set) var handle: OpaquePointer?
    let path: String

    /// Opens (creating if needed) the database at `path`; `:memory:` for a private in-memory one.
    init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        self.path = path
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteError(code: status & 0xff, message: message, sql: nil)
        }
        sqlite3_extended_result_codes(handle, 0)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard status == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(code: status & 0xff, message: message, sql: sql)
        }
    }

    /// Prepares a statement with `?` parameters bound to `values`.
    func prepare(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else {
            throw SQLiteError(code: status & 0xff, message: lastMessage, sql: sql)
        }
        let prepared = SQLiteStatement(statement: statement, database: self, sql: sql)
        try prepared.bind(values)
        return prepared
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepare(sql, values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// All rows of a query.
    func query(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> [SQLRow] {
        let statement = try prepare(sql, values)
        var rows: [SQLRow] = []
        while try statement.step() { rows.append(statement.row()) }
        return rows
    }

    /// The first row of a query, if any.
    func queryOne(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> SQLRow? {
        let statement = try prepare(sql, values)
        return try statement.step() ? statement.row() : nil
    }

    /// Runs `sql` once per row of values, on one prepared statement.
    func runMany(_ sql: String, _ rows: [[SQLValue]]) throws(SQLiteError) {
        let statement = try prepare(sql)
        for values in rows {
            try statement.reset()
            try statement.bind(values)
            while try statement.step() {}
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    var lastMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection" }
}

/// A prepared statement; finalized when released.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase
    let sql: String

    init(statement: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.statement = statement
        self.database = database
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// SQLite copies bound text and blobs at once.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ values: [SQLValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 =
                switch value {
                case .integer(let number): sqlite3_bind_int64(statement, index, number)
                case .real(let number): sqlite3_bind_double(statement, index, number)
                case .text(let text): sqlite3_bind_text(statement, index, text, -1, Self.transient)
                case .blob(let data):
                    data.withUnsafeBytes { raw in
                        sqlite3_bind_blob64(statement, index, raw.baseAddress, sqlite3_uint64(raw.count), Self.transient)
                    }
                case .null: sqlite3_bind_null(statement, index)
                }
            guard status == SQLITE_OK else {
                throw SQLiteError(code: status & 0xff, message: database.lastMessage, sql: sql)
            }
        }
    }

    /// Readies the statement to run again with new bindings.
    func reset() throws(SQLiteError) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    /// Advances to the next row; false when done.
    func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(statement)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: status & 0xff, message: database.lastMessage, sql: sql)
        }
    }

    /// The current row.
    func row() -> SQLRow {
        var values: [String: SQLValue] = [:]
        for column in 0..<sqlite3_column_count(statement) {
            let name = String(cString: sqlite3_column_name(statement, column))
            values[name] =
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
                case SQLITE_TEXT: .text(String(cString: sqlite3_column_text(statement, column)))
                case SQLITE_BLOB:
                    .blob(
                        Data(
                            bytes: sqlite3_column_blob(statement, column),
                            count: Int(sqlite3_column_bytes(statement, column))))
                default: .null
                }
        }
        return SQLRow(values: values)
    }
}
