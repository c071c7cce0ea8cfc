extension DaemonMethod {
    /// Point an alias (default `champion`) at a version.
    public enum ModelsPromote: RPCMethod {
        public static let name = "models.promote"
        public typealias Params = PromoteParams
        public typealias Result = AliasChange
    }

    /// Point an alias (default `champion`) back at the version it named before.
    public enum ModelsRollback: RPCMethod {
        public static let name = "models.rollback"
        public typealias Params = RollbackParams
        public typealias Result = AliasChange
    }
}

/// Params of `models.promote`.
public struct PromoteParams: Codable, Sendable, Hashable {
    /// The version to point the alias at.
    public var model: String
    /// The alias to move (default `champion`).
    public var alias: String?
    public var reason: String?
    /// The person a client acts for (the web UI's signed-in user), recorded next to the Unix user.
    public var onBehalfOf: String?
    /// Create `alias` when the model has no alias of that name. Only `champion` and
    /// `challenger` exist without it, so a typo never creates an alias silently.
    public var createAlias: Bool?

    public init(model: String, alias: String? = nil, reason: String? = nil, onBehalfOf: String? = nil, createAlias: Bool? = nil) {
        self.model = model
        self.alias = alias
        self.reason = reason
        self.onBehalfOf = onBehalfOf
        self.createAlias = createAlias
    }

    enum CodingKeys: String, CodingKey {
        case model, alias, reason
        case onBehalfOf = "on_behalf_of"
        case createAlias = "create_alias"
    }
}

/// Params of `models.rollback`.
public struct RollbackParams: Codable, Sendable, Hashable {
    /// The model name (default `churn`).
    public var name: String?
    /// The alias to move back (default `champion`).
    public var alias: String?
    public var reason: String?
    /// The person a client acts for (the web UI's signed-in user), recorded next to the Unix user.
    public var onBehalfOf: String?

    public init(name: String? = nil, alias: String? = nil, reason: String? = nil, onBehalfOf: String? = nil) {
        self.name = name
        self.alias = alias
        self.reason = reason
        self.onBehalfOf = onBehalfOf
    }

    enum CodingKeys: String, CodingKey {
        case name, alias, reason
        case onBehalfOf = "on_behalf_of"
    }
}

/// An alias move, as `models.promote` and `models.rollback` report it.
public struct AliasChange: Codable, Sendable, Hashable {
    public var name: String
    public var alias: String
    /// The version it named before, if any.
    public var from: Int?
    /// The version it names now, or null when the alias was removed.
    public var to: Int?
    /// Aliases this move removed: promoting the challenger to champion removes the
    /// `challenger` alias (a version is never both). Absent when none.
    public var cleared: [String]?

    public init(name: String, alias: String, from: Int?, to: Int?, cleared: [String]? = nil) {
        self.name = name
        self.alias = alias
        self.from = from
        self.to = to
        self.cleared = cleared
    }
}
