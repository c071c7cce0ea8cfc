import ChurnProtocol

/// What went wrong in the registry, with the version, alias or file involved.
public enum RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No version matches the reference.
    case versionNotFound(reference: String)
    /// The alias is not set (e.g. no champion yet).
    case aliasNotSet(name: String, alias: String)
    /// The alias names a version that no longer exists.
    case danglingAlias(name: String, alias: String, version: Int)
    /// An artifact failed its size or sha256 check; nothing is served from it.
    case integrity(version: String, detail: String)
    /// The database file is damaged or not a database.
    case corrupt(path: String, detail: String)
    /// The database was written by a newer churn.
    case newerSchema(path: String, found: Int, supported: Int)
    /// The change conflicts with the current state.
    case conflict(String)
    /// A parameter is unacceptable.
    case invalid(field: String, reason: String)
    /// A file could not be read or written.
    case file(path: String, reason: String)
    /// The shared registry's database server cannot be reached.
    case unavailable(location: String, detail: String)
    /// Any other storage failure.
    case storage(StorageFailure)

    public var description: String {
        switch self {
        case .versionNotFound(let reference):
            "no model version matches \(reference): list them with `churn models`"
        case .aliasNotSet(let name, let alias) where alias == ModelReference.champion:
            "model \(name) has no champion yet: train one with `churn train` and promote it with `churn promote`"
        case .aliasNotSet(let name, let alias):
            "model \(name) has no \(alias) alias: set it with `churn promote VERSION --alias \(alias)`"
        case .danglingAlias(let name, let alias, let version):
            "alias \(name)@\(alias) points at version \(version), which does not exist: promote another version"
        case .integrity(let version, let detail):
            "artifact of \(version) failed its integrity check (\(detail)); nothing is served from it: run `churn verify`"
        case .corrupt(let path, let detail):
            "the registry \(path) is damaged (\(detail)): restore it from a backup or move it aside to start fresh"
        case .newerSchema(let path, let found, let supported):
            "the registry \(path) has schema version \(found), newer than the \(supported) this churn reads: upgrade churn"
        case .conflict(let detail):
            detail
        case .invalid(let field, let reason):
            "\(field): \(reason)"
        case .file(let path, let reason):
            "cannot use \(path): \(reason)"
        case .unavailable(let location, let detail):
            "the shared registry \(location) cannot be reached (\(detail)): check that PostgreSQL runs and accepts churnd's connections"
        case .storage(let error):
            "registry storage error: \(error)"
        }
    }
}

extension RegistryError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .versionNotFound(let reference):
            RPCError(.modelNotFound, description, data: ["model": .string(reference)])
        case .aliasNotSet(let name, let alias) where alias == ModelReference.champion:
            RPCError(.noChampion, description, data: ["model": .string(name)])
        case .aliasNotSet(let name, let alias), .danglingAlias(let name, let alias, _):
            RPCError(.modelNotFound, description, data: ["model": .string(name), "alias": .string(alias)])
        case .integrity(let version, _):
            RPCError(.integrityFailure, description, data: ["model": .string(version)])
        case .corrupt, .newerSchema, .storage, .unavailable:
            RPCError(.internalError, description)
        case .conflict:
            RPCError(.conflict, description)
        case .invalid(let field, let reason):
            .invalidParams(field: field, reason)
        case .file(let path, _):
            RPCError(.fileError, description, data: ["path": .string(path)])
        }
    }
}

extension RegistryError {
    /// A failure of a store at `location` as the registry reports it: damage, an unreachable
    /// server, or another storage failure; registry errors pass through.
    static func classify(_ error: any Error, location: String) -> RegistryError {
        switch error {
        case let error as RegistryError:
            return error
        case let error as SQLiteError:
            if error.isCorruption { return .corrupt(path: location, detail: error.message) }
            if let reason = SQLiteFileProblem.reason(error, file: location) { return .file(path: location, reason: reason) }
            return .storage(error.failure)
        case let failure as StorageFailure:
            if failure.isCorruption { return .corrupt(path: location, detail: failure.message) }
            if failure.isUnavailable { return .unavailable(location: location, detail: failure.message) }
            return .storage(failure)
        default:
            return .conflict("\(error)")
        }
    }
}
