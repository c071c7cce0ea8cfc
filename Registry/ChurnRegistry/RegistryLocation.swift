import Foundation

/// Where a registry lives: an SQLite file (the embedded default: one host, zero setup) or a
/// PostgreSQL database shared by several churnd hosts (models, aliases, experiments,
/// campaigns, the prediction log and feedback in one place).
public enum RegistryLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresAddress)

    /// Parses `postgres://...` (or `postgresql://...`), `sqlite:PATH`, or a plain file path.
    public init(parsing text: String) throws(RegistryError) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresAddress(url: text))
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw .invalid(field: "registry", reason: "sqlite: names no file (sqlite:/var/lib/churn/registry.sqlite)") }
            self = .sqlite(path: path)
        } else if text.contains("://") {
            throw .invalid(field: "registry", reason: "\"\(text)\" is neither a postgres:// URL nor an SQLite file (sqlite:PATH)")
        } else {
            self = .sqlite(path: text)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let address): address.description
        }
    }

    /// The location as `--registry` takes it (with a PostgreSQL password, when there is one).
    public var url: String {
        switch self {
        case .sqlite(let path): "sqlite:" + path
        case .postgres(let address):
            address.password.map { password in
                address.description.replacingOccurrences(
                    of: "postgres://\(address.user)@",
                    with: "postgres://\(address.user):\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password)@")
            } ?? address.description
        }
    }

    /// True for a registry several hosts share.
    public var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// A new connection to the store, its schema brought up to date.
    func openStore() throws(RegistryError) -> any SQLStore {
        let store: any SQLStore
        do {
            switch self {
            case .sqlite(let path):
                if path != ":memory:" {
                    let folder = (path as NSString).deletingLastPathComponent
                    if !folder.isEmpty {
                        do {
                            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                        } catch {
                            throw RegistryError.file(path: folder, reason: error.localizedDescription)
                        }
                    }
                }
                store = try SQLiteDatabase(path: path)
            case .postgres(let address):
                store = try PostgresStore(address)
            }
        } catch {
            throw RegistryError.classify(error, location: description)
        }
        try RegistrySchema.migrate(store)
        return store
    }
}
