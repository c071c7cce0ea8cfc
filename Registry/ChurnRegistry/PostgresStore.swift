import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// A shared registry's database: one PostgreSQL connection (postgres-nio) behind the same
/// synchronous ``SQLStore`` interface as SQLite, so every registry query runs unchanged on both.
///
/// The connection lives on an event loop of its own; callers (the registry actor's storage
/// thread, the prediction log's and history store's threads) wait for each answer without
/// blocking any event loop that serves clients. A lost connection is reopened on the next
/// statement outside a transaction; inside one, the statement fails and the transaction rolls
/// back. `?` placeholders become `$1, $2, ...`.
final class PostgresStore: SQLStore, @unchecked Sendable {
    let dialect = SQLDialect.postgres
    let address: PostgresAddress
    var location: String { address.description }
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var transactionDepth = 0
    private let logger: Logger = {
        var logger = Logger(label: "churn.registry.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// The event loop every PostgreSQL connection of this process lives on.
    static let loop: any EventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    /// Connects to `address` (failing at once with ``StorageFailure/isUnavailable`` when the
    /// server does not answer).
    init(_ address: PostgresAddress) throws {
        self.address = address
        _ = try connected()
    }

    deinit {
        if let connection { Self.close(connection) }
    }

    /// Closes `connection` without waiting, keeping it alive until the close completes
    /// (postgres-nio asserts a connection is closed when it is freed).
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    // MARK: SQLStore

    /// Runs each statement of `sql` in turn (postgres-nio sends one statement per query).
    func execute(_ sql: String) throws {
        for statement in Self.statements(sql) { try run(statement, []) }
    }

    @discardableResult
    func run(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try perform(sql, values).metadata.rows ?? 0
    }

    func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try perform(sql, values).rows.map(Self.row)
    }

    func queryOne(_ sql: String, _ values: [SQLValue]) throws -> SQLRow? {
        try query(sql, values).first
    }

    /// Inserts of many rows become one statement per chunk (`VALUES (...), (...), ...`).
    func runMany(_ sql: String, _ rows: [[SQLValue]]) throws {
        guard let tuple = Self.valuesTuple(in: sql), let width = rows.first?.count, width > 0 else {
            for values in rows { try run(sql, values) }
            return
        }
        let chunk = max(1, min(1_000, 60_000 / width))
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let part = rows[start..<min(start + chunk, rows.count)]
            let tuples = Array(repeating: String(sql[tuple]), count: part.count).joined(separator: ", ")
            try run(sql.replacingCharacters(in: tuple, with: tuples), part.flatMap { $0 })
        }
    }

    /// Write transactions take one advisory lock first, so they run one at a time across every
    /// host, as SQLite's `BEGIN IMMEDIATE` makes them on one (the registry's read-then-write
    /// steps rely on it).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        transactionDepth += 1
        do {
            _ = try queryOne("SELECT pg_advisory_xact_lock(7263011) AS locked", [])
        } catch {
            transactionDepth -= 1
            try? execute("ROLLBACK")
            throw error
        }
        defer { transactionDepth -= 1 }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Connection

    private func connected() throws -> PostgresConnection {
        if let connection = lock.withLock({ self.connection }), !connection.isClosed { return connection }
        guard transactionDepth == 0 else {
            throw StorageFailure(
                backend: "PostgreSQL", code: "", message: "the connection closed during a transaction", isUnavailable: true)
        }
        // postgres-nio's own connect timeout fires first, so no opened connection is left behind.
        let opened = try wait(
            PostgresConnection.connect(on: Self.loop, configuration: try address.configuration, id: 1, logger: logger), sql: nil,
            patience: address.connectTimeout + .seconds(5))
        lock.withLock { self.connection = opened }
        return opened
    }

    private func perform(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        let connection = try connected()
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .integer(let number): bindings.append(number)
            case .real(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .blob(let data): bindings.append(ByteBuffer(bytes: data))
            case .null: bindings.appendNull()
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
        return try wait(connection.query(query, logger: logger), sql: sql)
    }

    /// Waits for `future` on the calling thread (never an event loop of this store), turning
    /// PostgreSQL's errors into ``StorageFailure``s.
    ///
    /// A server that does not answer within ``PostgresAddress/answerTimeout`` (stopped, frozen,
    /// or behind a network that dropped the connection without telling) fails the statement as
    /// unavailable, and the connection is closed so the next statement opens a new one: a caller
    /// such as the prediction log's writer then spools instead of waiting forever.
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>, sql: String?, patience: Duration? = nil) throws -> T {
        let patience = patience ?? address.answerTimeout
        let semaphore = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLock { $0 = result }
            semaphore.signal()
        }
        if semaphore.wait(timeout: .now() + .seconds(Int(patience.components.seconds))) == .timedOut {
            let stale = lock.withLock { () -> PostgresConnection? in
                defer { connection = nil }
                return connection
            }
            // Closing fails the statement still waiting on it.
            if let stale { Self.close(stale) }
            throw StorageFailure(
                backend: "PostgreSQL", code: "",
                message: "the server did not answer within \(patience.components.seconds) s (timeout_s in the registry URL)",
                sql: sql, isUnavailable: true)
        }
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error): throw Self.failure(error, sql: sql)
        }
    }

    static func failure(_ error: any Error, sql: String?) -> StorageFailure {
        if case .server(let message)? = error as? PostgresError {
            return StorageFailure(
                backend: "PostgreSQL", code: message.fields[.sqlState] ?? "", message: message.fields[.message] ?? "\(message)", sql: sql)
        }
        guard let error = error as? PSQLError else {
            return StorageFailure(backend: "PostgreSQL", code: "", message: "\(error)", sql: sql, isUnavailable: true)
        }
        if let server = error.serverInfo {
            let state = server[.sqlState] ?? ""
            return StorageFailure(
                backend: "PostgreSQL", code: state, message: server[.message] ?? "\(error.code)", sql: sql,
                isCorruption: state.hasPrefix("XX00"), isUnavailable: state.hasPrefix("08") || state.hasPrefix("57P"))
        }
        // No answer from a server: the connection could not be made or was lost.
        return StorageFailure(
            backend: "PostgreSQL", code: "", message: error.underlying.map { "\($0)" } ?? "\(error.code)", sql: sql, isUnavailable: true)
    }

    // MARK: SQL

    /// `sql` with each `?` outside quotes numbered `$1`, `$2`, ...
    static func numbered(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.count + 16)
        var quote: Character?
        var index = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                index += 1
                output += "$\(index)"
            } else {
                output.append(character)
            }
        }
        return output
    }

    /// The statements of a script, split at `;` outside quotes and `$$` bodies.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var dollar = false
        var previous: Character?
        for character in sql {
            if dollar {
                if character == "$" && previous == "$" { dollar = false }
            } else if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "$" && previous == "$" {
                dollar = true
            } else if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                previous = nil
                continue
            }
            current.append(character)
            previous = character == "$" && previous == "$" ? nil : character
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    /// The `(?, ?, ...)` after the `VALUES` keyword of an INSERT, if it has one (a column
    /// named "values" is passed over: the keyword is the one followed by the tuple).
    static func valuesTuple(in sql: String) -> Range<String.Index>? {
        guard sql.uppercased().hasPrefix("INSERT") else { return nil }
        var searchFrom = sql.startIndex
        while let keyword = sql.range(of: "VALUES", options: .caseInsensitive, range: searchFrom..<sql.endIndex) {
            searchFrom = keyword.upperBound
            guard let open = sql[keyword.upperBound...].firstIndex(where: { !$0.isWhitespace }), sql[open] == "(",
                let close = sql[open...].firstIndex(of: ")")
            else { continue }
            let inside = sql[sql.index(after: open)..<close]
            guard inside.contains("?"),
                inside.allSatisfy({ $0 == "?" || $0 == "," || $0 == " " || $0 == "'" || $0.isLetter || $0.isNumber })
            else { continue }
            return open..<sql.index(after: close)
        }
        return nil
    }

    /// A result row as the registry reads rows: integers, reals, text, bytes, null.
    static func row(_ row: PostgresRow) -> SQLRow {
        var values: [String: SQLValue] = [:]
        for cell in row {
            values[cell.columnName] = value(cell)
        }
        return SQLRow(values: values)
    }

    private static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
            case .float4, .float8: return .real(try cell.decode(Double.self))
            case .numeric: return .real(Double(try cell.decode(String.self)) ?? .nan)
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea: return .blob(Data(buffer: try cell.decode(ByteBuffer.self)))
            default: return .text(try cell.decode(String.self))
            }
        } catch {
            return .null
        }
    }
}

/// Where a shared registry's PostgreSQL database is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
/// with `?host=/run/postgresql` for a Unix socket folder, `max_artifact_mb=N` for the largest
/// compressed artifact it stores (default 256; PostgreSQL's own limit for one value is 1 GB), and
/// `sslmode=require` for TLS with the server's certificate verified against the system's trust
/// store and host name (`disable`, the default, for a Unix socket or a private network), and
/// `timeout_s=N` for how long a statement waits for the server's answer before it fails as
/// unavailable (default 30; a connection attempt waits at most 10 s of it).
public struct PostgresAddress: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// The folder of the server's Unix socket, when connecting through one.
    public var socketDirectory: String?
    /// The largest compressed artifact stored, in bytes.
    public var maximumArtifactBytes: Int
    /// TLS to the server (`sslmode=require`), its certificate fully verified.
    public var requiresTLS = false
    /// How long a statement waits for the server's answer (`timeout_s=N`, default 30 s).
    public var answerTimeout: Duration = .seconds(30)

    /// The socket file in ``socketDirectory``.
    var socketPath: String? { socketDirectory.map { ($0 as NSString).appendingPathComponent(".s.PGSQL.\(port)") } }

    /// Parses a `postgres://` or `postgresql://` URL, saying what is wrong with one that is not.
    public init(url text: String) throws(RegistryError) {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"), let url = URLComponents(string: text) else {
            throw .invalid(field: "registry", reason: "\"\(text)\" is not a postgres://USER@HOST[:PORT]/DATABASE URL")
        }
        guard let user = url.user, !user.isEmpty else {
            throw .invalid(field: "registry", reason: "\(text) names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw .invalid(field: "registry", reason: "\(text) names no database (postgres://USER@HOST/DATABASE)")
        }
        self.user = user
        self.password = url.password
        self.host = url.host?.isEmpty == false ? url.host! : "localhost"
        self.port = url.port ?? 5432
        self.database = database
        var maximum = 256
        for item in url.queryItems ?? [] {
            switch item.name {
            case "host":
                guard let value = item.value, value.hasPrefix("/") else {
                    throw .invalid(field: "registry", reason: "host= must be the folder of the server's Unix socket, e.g. /run/postgresql")
                }
                socketDirectory = value
            case "sslmode":
                switch item.value {
                case "disable": requiresTLS = false
                case "require", "verify-full": requiresTLS = true
                default:
                    throw .invalid(field: "registry", reason: "sslmode must be disable or require (TLS, the server's certificate verified), got \(item.value ?? "")")
                }
            case "max_artifact_mb":
                guard let value = item.value.flatMap(Int.init), (1...1_000).contains(value) else {
                    throw .invalid(field: "registry", reason: "max_artifact_mb must be a whole number from 1 to 1000 (PostgreSQL stores at most 1 GB in one value)")
                }
                maximum = value
            case "timeout_s":
                guard let value = item.value.flatMap(Int.init), (1...3_600).contains(value) else {
                    throw .invalid(field: "registry", reason: "timeout_s must be a whole number of seconds from 1 to 3600, got \(item.value ?? "")")
                }
                answerTimeout = .seconds(value)
            default:
                throw .invalid(field: "registry", reason: "unknown setting \(item.name) in \(text): use host=, sslmode=, max_artifact_mb= or timeout_s=")
            }
        }
        maximumArtifactBytes = maximum << 20
    }

    /// Creates an empty database `name` on this server (as this URL's user, who needs the
    /// CREATEDB right) and returns its address.
    public func creatingDatabase(named name: String) throws(RegistryError) -> PostgresAddress {
        guard let first = name.first, first.isLetter || first == "_", name.count <= 63,
            name.allSatisfy({ ($0.isLetter && $0.isASCII && $0.isLowercase) || ($0.isNumber && $0.isASCII) || $0 == "_" })
        else {
            throw .invalid(field: "database", reason: "\"\(name)\" is not a database name: lower-case letters, digits and _ (at most 63)")
        }
        do {
            let store = try PostgresStore(self)
            try store.run("CREATE DATABASE \(name)")
        } catch {
            throw RegistryError.classify(error, location: description)
        }
        var created = self
        created.database = name
        return created
    }

    /// How long a connection attempt waits: the answer timeout, at most 10 s.
    var connectTimeout: Duration { min(answerTimeout, .seconds(10)) }

    /// How postgres-nio connects to it.
    var configuration: PostgresConnection.Configuration {
        get throws {
            var configuration: PostgresConnection.Configuration
            if let socketPath {
                configuration = .init(unixSocketPath: socketPath, username: user, password: password, database: database)
            } else {
                let tls: PostgresConnection.Configuration.TLS =
                    requiresTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
                configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
            }
            configuration.options.connectTimeout = .seconds(connectTimeout.components.seconds)
            return configuration
        }
    }

    /// The URL without its password.
    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)"
        var settings: [String] = []
        if let socketDirectory { settings.append("host=\(socketDirectory)") }
        if requiresTLS { settings.append("sslmode=require") }
        if maximumArtifactBytes != 256 << 20 { settings.append("max_artifact_mb=\(maximumArtifactBytes >> 20)") }
        if answerTimeout != .seconds(30) { settings.append("timeout_s=\(answerTimeout.components.seconds)") }
        if !settings.isEmpty { text += "?" + settings.joined(separator: "&") }
        return text
    }
}

/// Changes to a shared registry as they happen: every promotion, rollback, registration and
/// experiment start or stop on any host sends a PostgreSQL notification on
/// ``RegistryNotifications/channel`` when its transaction commits.
public enum RegistryNotifications {
    /// The notification channel.
    static let channel = "churn_registry"

    /// Calls `onChange` for every notification until the task is cancelled, reconnecting (after
    /// `retry`) whenever the connection is lost. Returns at once for an SQLite registry (one host:
    /// nothing changes behind its back).
    public static func listen(
        _ location: RegistryLocation, retry: Duration = .seconds(1), onChange: @escaping @Sendable () -> Void
    ) async {
        guard case .postgres(let address) = location else { return }
        var logger = Logger(label: "churn.registry.notifications")
        logger.logLevel = .critical
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: PostgresStore.loop, configuration: try address.configuration, id: 2, logger: logger)
                // Whatever happened while not listening is found by the caller's next poll.
                onChange()
                do {
                    for try await _ in try await connection.listen(channel) { onChange() }
                } catch {}
                try? await connection.close()
            } catch {
                // Lost or refused: try again shortly (the caller's polling covers the gap).
            }
            try? await Task.sleep(for: retry)
        }
    }
}
