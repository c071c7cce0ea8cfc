/// The protocol's named values (arms, experiment modes and statuses, plugin states, audit
/// actions) as open enums, the way LSP's Swift types do it: a `RawRepresentable` string with
/// the known values as static members. Code says `.champion`, not `"champion"`; a value a newer
/// daemon sends that this build does not know still decodes (and shows as itself).
public protocol OpenVocabulary: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension OpenVocabulary {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Which side of routing answered a customer.
public struct Arm: OpenVocabulary {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The version the `champion` alias names (the default answer).
    public static let champion: Arm = "champion"
    /// The challenger of an A/B experiment, for its share of customers.
    public static let challenger: Arm = "challenger"
    /// The challenger of a shadow experiment: scored off the hot path, only logged.
    public static let shadow: Arm = "shadow"
    /// A version named in the request (not through an alias).
    public static let direct: Arm = "direct"
}

/// How an experiment splits traffic.
public struct ExperimentMode: OpenVocabulary {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A sticky share of customers is answered by the challenger.
    public static let ab: ExperimentMode = "ab"
    /// The champion answers everyone; the challenger scores the same requests, logged only.
    public static let shadow: ExperimentMode = "shadow"

    /// The modes this build runs.
    public static let known: [ExperimentMode] = [.ab, .shadow]
}

/// Whether an experiment routes traffic.
public struct ExperimentStatus: OpenVocabulary {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let running: ExperimentStatus = "running"
    public static let stopped: ExperimentStatus = "stopped"
}

/// A plugin process's state, as `plugins.list` and `health` show it.
public struct PluginState: OpenVocabulary {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Launched, not yet through its handshake.
    public static let starting: PluginState = "starting"
    /// Answered its handshake and serves.
    public static let ready: PluginState = "ready"
    /// Died or failed a health check; waiting to start again (with backoff).
    public static let restarting: PluginState = "restarting"
    /// Never used: another protocol version, the wrong kind, or it never started.
    public static let refused: PluginState = "refused"
    /// Stopped with the daemon.
    public static let stopped: PluginState = "stopped"
}

/// What an audit log entry records.
public struct AuditAction: OpenVocabulary {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let register: AuditAction = "register"
    public static let `import`: AuditAction = "import"
    public static let promote: AuditAction = "promote"
    public static let rollback: AuditAction = "rollback"
    public static let delete: AuditAction = "delete"
    /// A call refused for want of the admin role (`detail` names the user and the method).
    public static let refused: AuditAction = "refused"
    public static let campaignStart: AuditAction = "campaign_start"
    public static let campaignStop: AuditAction = "campaign_stop"
    /// The registry was copied here from another one (`churn registry migrate`).
    public static let migrate: AuditAction = "migrate"
}
