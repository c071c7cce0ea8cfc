extension DaemonMethod {
    /// Who answers: the daemon's name and version, its protocol version and its methods.
    public enum Describe: RPCMethod {
        public static let name = "describe"
        public typealias Params = NoParams
        public typealias Result = DaemonDescription
    }

    /// Liveness and a summary of the daemon's state.
    public enum Health: RPCMethod {
        public static let name = "health"
        public typealias Params = NoParams
        public typealias Result = HealthResult
    }

    /// The discovered plugins and their state.
    public enum PluginsList: RPCMethod {
        public static let name = "plugins.list"
        public typealias Params = NoParams
        public typealias Result = PluginsListResult
    }
}

/// The daemon's `describe` result: what a client learns before its first real call.
public struct DaemonDescription: Codable, Sendable, Hashable {
    /// `churnd`.
    public var name: String
    public var daemonVersion: String
    /// The wire protocol version it speaks (``ChurnProtocolVersion/current``).
    public var protocolVersion: Int
    /// Every method it answers, sorted; `describe` among them.
    public var methods: [String]

    public init(name: String, daemonVersion: String, protocolVersion: Int = ChurnProtocolVersion.current, methods: [String]) {
        self.name = name
        self.daemonVersion = daemonVersion
        self.protocolVersion = protocolVersion
        self.methods = methods
    }

    enum CodingKeys: String, CodingKey {
        case name, methods
        case daemonVersion = "daemon_version"
        case protocolVersion = "protocol_version"
    }
}

/// The registry a daemon uses, as `health` reports it.
public struct RegistryHealth: Codable, Sendable, Hashable {
    /// `sqlite` (one host) or `postgresql` (shared by several hosts).
    public var engine: String
    /// The file, or the database's URL without its password.
    public var location: String
    /// Prediction log entries waiting on the host's disk because the registry could not take
    /// them (replayed when it can; 0 normally).
    public var spooledLogEntries: Int
    /// Prediction log entries waiting in churnd's memory because neither the registry nor the
    /// host's disk could take them (a full disk; retried; 0 normally).
    public var heldLogEntries: Int
    /// Prediction log entries lost since churnd started: more waited in memory than it keeps, or
    /// they still waited when it stopped (0 normally; above 0, `health` is `degraded`).
    public var lostLogEntries: Int

    public init(engine: String, location: String, spooledLogEntries: Int, heldLogEntries: Int = 0, lostLogEntries: Int = 0) {
        self.engine = engine
        self.location = location
        self.spooledLogEntries = spooledLogEntries
        self.heldLogEntries = heldLogEntries
        self.lostLogEntries = lostLogEntries
    }

    /// Reads the counts a daemon before them did not send as 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        engine = try container.decode(String.self, forKey: .engine)
        location = try container.decode(String.self, forKey: .location)
        spooledLogEntries = try container.decode(Int.self, forKey: .spooledLogEntries)
        heldLogEntries = try container.decodeIfPresent(Int.self, forKey: .heldLogEntries) ?? 0
        lostLogEntries = try container.decodeIfPresent(Int.self, forKey: .lostLogEntries) ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case engine, location
        case spooledLogEntries = "spooled_log_entries"
        case heldLogEntries = "held_log_entries"
        case lostLogEntries = "lost_log_entries"
    }
}

/// The `health` result.
public struct HealthResult: Codable, Sendable, Hashable {
    /// `ok` when every discovered plugin is ready and the prediction log is written, `degraded`
    /// otherwise (a plugin not ready, prediction log entries waiting in memory or lost: see
    /// ``registry``), `draining` while shutting down.
    public var status: String
    public var daemonVersion: String
    public var protocolVersion: Int
    public var pid: Int32
    public var uptimeSeconds: Double
    public var socket: String
    public var plugins: [PluginStatus]
    /// The version `predict` routes to when no model is named, if any.
    public var champion: ModelRef?
    /// The experiment running on the default model, if any.
    public var experiment: ExperimentInfo?
    /// Requests, errors and latency per model version and arm since the daemon started.
    public var serving: [ServingSeries]?
    /// The largest frame payload churnd accepts: clients size file pieces by it.
    public var maxFrameBytes: Int?
    /// The registry the daemon uses, and what waits for it.
    public var registry: RegistryHealth?

    public init(
        status: String, daemonVersion: String, protocolVersion: Int = ChurnProtocolVersion.current, pid: Int32,
        uptimeSeconds: Double, socket: String, plugins: [PluginStatus], champion: ModelRef?,
        experiment: ExperimentInfo? = nil, serving: [ServingSeries]? = nil, maxFrameBytes: Int? = nil, registry: RegistryHealth? = nil
    ) {
        self.registry = registry
        self.maxFrameBytes = maxFrameBytes
        self.status = status
        self.daemonVersion = daemonVersion
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.socket = socket
        self.plugins = plugins
        self.champion = champion
        self.experiment = experiment
        self.serving = serving
    }

    enum CodingKeys: String, CodingKey {
        case status, pid, socket, plugins, champion, experiment, serving, registry
        case daemonVersion = "daemon_version"
        case protocolVersion = "protocol_version"
        case uptimeSeconds = "uptime_seconds"
        case maxFrameBytes = "max_frame_bytes"
    }
}

/// Serving counts and latency of one model version in one arm.
public struct ServingSeries: Codable, Sendable, Hashable {
    public var model: ModelRef
    /// `champion`, `challenger`, `shadow` or `direct`.
    public var arm: Arm
    /// Predict or explain calls answered (a call may hold many customers).
    public var requests: Int
    public var customers: Int
    public var errors: Int
    /// Milliseconds from receipt to answer, per call.
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double

    public init(model: ModelRef, arm: Arm, requests: Int, customers: Int, errors: Int, p50Milliseconds: Double, p99Milliseconds: Double) {
        self.model = model
        self.arm = arm
        self.requests = requests
        self.customers = customers
        self.errors = errors
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
    }

    enum CodingKeys: String, CodingKey {
        case model, arm, requests, customers, errors
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
    }
}

/// The `plugins.list` result.
public struct PluginsListResult: Codable, Sendable, Hashable {
    public var plugins: [PluginStatus]
    public init(plugins: [PluginStatus]) { self.plugins = plugins }
}

/// One plugin as the daemon sees it.
public struct PluginStatus: Codable, Sendable, Hashable {
    public var kind: String
    public var executable: String
    /// `starting`, `ready`, `restarting`, `refused` or `stopped`.
    public var state: PluginState
    public var pid: Int32?
    /// From the handshake, once it succeeded.
    public var description: PluginDescription?
    /// How many times the daemon restarted it.
    public var restarts: Int
    /// Why it last failed, if it did.
    public var lastError: String?

    public init(
        kind: String, executable: String, state: PluginState, pid: Int32?, description: PluginDescription?,
        restarts: Int, lastError: String?
    ) {
        self.kind = kind
        self.executable = executable
        self.state = state
        self.pid = pid
        self.description = description
        self.restarts = restarts
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case kind, executable, state, pid, description, restarts
        case lastError = "last_error"
    }
}
