import Foundation

extension PluginMethod {
    /// The handshake: who the plugin is and what it can do.
    public enum Describe: RPCMethod {
        public static let name = "describe"
        public typealias Params = NoParams
        public typealias Result = PluginDescription
    }
}

/// What a plugin says about itself in the handshake.
public struct PluginDescription: Codable, Sendable, Hashable {
    /// The model kind, e.g. `random_forest`; the executable is `churn-plugin-random-forest`.
    public var kind: String
    /// The plugin's own version (semantic versioning).
    public var pluginVersion: String
    /// The wire protocol version it speaks; must equal the daemon's.
    public var protocolVersion: Int
    /// What it can do: `train`, `predict`, `explain`, and extras like `contributions`, `attention`.
    public var capabilities: [String]
    /// One line about the model.
    public var summary: String
    /// The hyperparameters `train` accepts, with defaults.
    public var parameters: [ParameterSpec]

    public init(
        kind: String, pluginVersion: String, protocolVersion: Int = ChurnProtocolVersion.current,
        capabilities: [String], summary: String, parameters: [ParameterSpec] = []
    ) {
        self.kind = kind
        self.pluginVersion = pluginVersion
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
        self.summary = summary
        self.parameters = parameters
    }

    enum CodingKeys: String, CodingKey {
        case kind, capabilities, summary, parameters
        case pluginVersion = "plugin_version"
        case protocolVersion = "protocol_version"
    }
}

/// One hyperparameter a plugin accepts: its type, the values `train` accepts, its default, and
/// the part of it a tuner searches (`search`), so churnd tunes any plugin's model the same way.
public struct ParameterSpec: Codable, Sendable, Hashable {
    public var name: String
    /// `integer`, `number`, `string` or `boolean`.
    public var type: String
    public var defaultValue: JSONValue
    public var help: String
    /// The smallest value `train` accepts (integers and numbers).
    public var minimum: Double?
    /// The largest value `train` accepts (integers and numbers).
    public var maximum: Double?
    /// The values `train` accepts, when it is a closed list (strings and booleans; a parameter
    /// with a range may list extra accepted values, e.g. `max_depth` 0 for unlimited).
    public var choices: [JSONValue]?
    /// How values spread over the range: `linear` (the default) or `log`.
    public var scale: ParameterScale?
    /// The values a tuner explores; absent: the parameter is not tuned (it stays at its default,
    /// or at what the request sets).
    public var search: ParameterSearch?
    /// A part the parameter plays for a tuner: `budget` (it scales the cost of a fit, e.g. trees
    /// or epochs, so a tuner first compares configurations with less of it) or `history` (it only
    /// matters when the data has monthly history).
    public var role: ParameterRole?

    public init(
        name: String, type: String, defaultValue: JSONValue, help: String, minimum: Double? = nil, maximum: Double? = nil,
        choices: [JSONValue]? = nil, scale: ParameterScale? = nil, search: ParameterSearch? = nil, role: ParameterRole? = nil
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.scale = scale
        self.search = search
        self.role = role
    }

    enum CodingKeys: String, CodingKey {
        case name, type, help, minimum, maximum, choices, scale, search, role
        case defaultValue = "default"
    }
}

/// How a numeric parameter's values spread: evenly (`linear`) or by orders of magnitude (`log`).
public struct ParameterScale: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let linear = ParameterScale(rawValue: "linear")
    public static let log = ParameterScale(rawValue: "log")
}

/// A part a parameter plays for a tuner (see ``ParameterSpec/role``).
public struct ParameterRole: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Scales the cost of a fit (trees, epochs): a tuner compares configurations with less of it
    /// first, and gives the survivors the full amount.
    public static let budget = ParameterRole(rawValue: "budget")
    /// Only matters when the data has monthly history (a panel, or history derived from the record).
    public static let history = ParameterRole(rawValue: "history")
}

/// The values a tuner explores for one parameter: a range (`minimum`...`maximum` on `scale`) or a
/// list of `choices`.
public struct ParameterSearch: Codable, Sendable, Hashable {
    public var minimum: Double?
    public var maximum: Double?
    public var choices: [JSONValue]?
    /// `log` explores a range by orders of magnitude; `linear` (the default) evenly.
    public var scale: ParameterScale?

    /// A range to explore.
    public static func range(_ minimum: Double, _ maximum: Double, scale: ParameterScale = .linear) -> ParameterSearch {
        ParameterSearch(minimum: minimum, maximum: maximum, choices: nil, scale: scale)
    }

    /// A list of values to explore.
    public static func choices(_ values: [JSONValue]) -> ParameterSearch {
        ParameterSearch(minimum: nil, maximum: nil, choices: values, scale: nil)
    }

    public init(minimum: Double? = nil, maximum: Double? = nil, choices: [JSONValue]? = nil, scale: ParameterScale? = nil) {
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.scale = scale
    }
}
