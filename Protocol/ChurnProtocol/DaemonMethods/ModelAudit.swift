extension DaemonMethod {
    /// Check the registry: SQLite's integrity check and every artifact's size and sha256.
    public enum ModelsVerify: RPCMethod {
        public static let name = "models.verify"
        public typealias Params = NoParams
        public typealias Result = VerifyResult
    }

    /// The registry's append-only audit log, newest first.
    public enum ModelsAudit: RPCMethod {
        public static let name = "models.audit"
        public typealias Params = AuditParams
        public typealias Result = AuditResult
    }
}

/// The `models.verify` result.
public struct VerifyResult: Codable, Sendable, Hashable {
    /// True when nothing is wrong.
    public var healthy: Bool
    /// `["ok"]`, or what SQLite's integrity check reported.
    public var databaseIntegrity: [String]
    public var artifactsChecked: Int
    /// One line per artifact that failed, naming the version.
    public var artifactProblems: [String]
    /// Aliases that name a missing version.
    public var aliasProblems: [String]

    public init(
        healthy: Bool, databaseIntegrity: [String], artifactsChecked: Int, artifactProblems: [String],
        aliasProblems: [String]
    ) {
        self.healthy = healthy
        self.databaseIntegrity = databaseIntegrity
        self.artifactsChecked = artifactsChecked
        self.artifactProblems = artifactProblems
        self.aliasProblems = aliasProblems
    }

    enum CodingKeys: String, CodingKey {
        case healthy
        case databaseIntegrity = "database_integrity"
        case artifactsChecked = "artifacts_checked"
        case artifactProblems = "artifact_problems"
        case aliasProblems = "alias_problems"
    }
}

/// Params of `models.audit`.
public struct AuditParams: Codable, Sendable, Hashable {
    /// Entries to return (default 100).
    public var limit: Int?
    public init(limit: Int? = nil) { self.limit = limit }
}

/// The `models.audit` result.
public struct AuditResult: Codable, Sendable, Hashable {
    public var entries: [AuditRecord]
    public init(entries: [AuditRecord]) { self.entries = entries }
}

/// One audit log line.
public struct AuditRecord: Codable, Sendable, Hashable {
    /// ISO 8601, UTC.
    public var at: String
    /// The Unix user, from the socket's peer credentials.
    public var user: String
    /// `register`, `import`, `promote`, `rollback`, `delete`.
    public var action: AuditAction
    public var model: String
    public var fromVersion: Int?
    public var toVersion: Int?
    public var detail: String?

    public init(at: String, user: String, action: AuditAction, model: String, fromVersion: Int?, toVersion: Int?, detail: String?) {
        self.at = at
        self.user = user
        self.action = action
        self.model = model
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case at, user, action, model, detail
        case fromVersion = "from_version"
        case toVersion = "to_version"
    }

    /// Every member is always present; `from_version`, `to_version` and `detail` are null when
    /// the action has none (a registration has no earlier version, a deletion no later one).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(at, forKey: .at)
        try container.encode(user, forKey: .user)
        try container.encode(action, forKey: .action)
        try container.encode(model, forKey: .model)
        try container.encode(fromVersion, forKey: .fromVersion)
        try container.encode(toVersion, forKey: .toVersion)
        try container.encode(detail, forKey: .detail)
    }
}
