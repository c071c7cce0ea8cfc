/// Methods `churnd` serves to its clients (`Protocol/PROTOCOL.md`, "Daemon methods").
public enum DaemonMethod {
    /// One piece of a file sent to churnd (for `models.train`, `models.register`).
    public enum FilesUpload: RPCMethod {
        public static let name = "files.upload"
        public typealias Params = UploadParams
        public typealias Result = UploadResult
    }

    /// One piece of a file churnd offers (an export).
    public enum FilesDownload: RPCMethod {
        public static let name = "files.download"
        public typealias Params = DownloadParams
        public typealias Result = DownloadResult
    }

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

    /// Churn probabilities for customers, from the champion (or the named model).
    public enum Predict: RPCMethod {
        public static let name = "predict"
        public typealias Params = PredictParams
        public typealias Result = PredictResult
    }

    /// Probabilities plus their reasons.
    public enum Explain: RPCMethod {
        public static let name = "explain"
        public typealias Params = ExplainParams
        public typealias Result = ExplainResult
    }

    /// Train a model with a plugin, evaluate it on held-back data and register it.
    public enum ModelsTrain: RPCMethod {
        public static let name = "models.train"
        public typealias Params = TrainParams
        public typealias Result = ModelVersionInfo

        /// The version is registered before the answer: an oversized one is answered as
        /// `models.list` shows it (``ModelVersionInfo/summary``).
        public static func compacted(_ result: ModelVersionInfo) -> ModelVersionInfo? { result.summary }
    }

    /// Every registered version, newest first.
    public enum ModelsList: RPCMethod {
        public static let name = "models.list"
        public typealias Params = ModelsListParams
        public typealias Result = ModelsListResult
    }

    /// One version in full: metrics, curves, schema, artifact facts.
    public enum ModelsGet: RPCMethod {
        public static let name = "models.get"
        public typealias Params = ModelRefParams
        public typealias Result = ModelVersionInfo
    }

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

    /// Register a version from an export file (`models.export` writes them).
    public enum ModelsRegister: RPCMethod {
        public static let name = "models.register"
        public typealias Params = RegisterParams
        public typealias Result = ModelVersionInfo

        /// The version is registered before the answer: an oversized one is answered as
        /// `models.list` shows it (``ModelVersionInfo/summary``).
        public static func compacted(_ result: ModelVersionInfo) -> ModelVersionInfo? { result.summary }
    }

    /// Write a version, with everything known about it, to an export file.
    public enum ModelsExport: RPCMethod {
        public static let name = "models.export"
        public typealias Params = ExportParams
        public typealias Result = ExportResult
    }

    /// Delete a version and its artifact; refused while an alias names it.
    public enum ModelsDelete: RPCMethod {
        public static let name = "models.delete"
        public typealias Params = ModelRefParams
        public typealias Result = ModelRef
    }

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

/// Params of `models.register`.
public struct RegisterParams: Codable, Sendable, Hashable {
    /// An export file: an upload (`upload:<id>`, see `files.upload`), or a path under one of
    /// churnd's data roots.
    public var file: String
    /// Register under this model name instead of the file's.
    public var name: String?

    public init(file: String, name: String? = nil) {
        self.file = file
        self.name = name
    }
}

/// Params of `models.export`.
public struct ExportParams: Codable, Sendable, Hashable {
    public var model: String
    /// Where churnd writes the file, under one of its export roots; absent: the export is
    /// offered for download (`files.download`).
    public var file: String?
    /// Replace `file` when it exists (default false: an existing file is an error).
    public var overwrite: Bool?

    public init(model: String, file: String? = nil, overwrite: Bool? = nil) {
        self.model = model
        self.file = file
        self.overwrite = overwrite
    }
}

/// The `models.export` result.
public struct ExportResult: Codable, Sendable, Hashable {
    public var model: ModelRef
    /// The file churnd wrote, when a `file` was asked for.
    public var file: String?
    /// The download to read with `files.download`, when no `file` was asked for.
    public var download: String?
    public var bytes: Int
    /// Of the export's bytes.
    public var sha256: String?

    public init(model: ModelRef, file: String? = nil, download: String? = nil, bytes: Int, sha256: String? = nil) {
        self.model = model
        self.file = file
        self.download = download
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// Params of `files.upload`: one piece of a file sent to churnd.
public struct UploadParams: Codable, Sendable, Hashable {
    /// The upload this piece belongs to; absent for the first piece (which starts one).
    public var upload: String?
    /// Where the piece goes in the file: the bytes received so far.
    public var offset: Int
    /// The piece, base64.
    public var data: String
    /// True on the last piece.
    public var last: Bool?
    /// On the last piece: the sha256 of the whole file (lower-case hex), checked by churnd.
    public var sha256: String?
    /// On the first piece: the file's name on the client, which churnd's messages use for it.
    public var name: String?

    public init(upload: String?, offset: Int, data: String, last: Bool? = nil, sha256: String? = nil, name: String? = nil) {
        self.upload = upload
        self.offset = offset
        self.data = data
        self.last = last
        self.sha256 = sha256
        self.name = name
    }
}

/// The `files.upload` result.
public struct UploadResult: Codable, Sendable, Hashable {
    public var upload: String
    /// Bytes received so far.
    public var received: Int
    /// After the last piece: how requests name the file (`upload:<id>`).
    public var file: String?

    public init(upload: String, received: Int, file: String? = nil) {
        self.upload = upload
        self.received = received
        self.file = file
    }
}

/// Params of `files.download`: one piece of a file churnd offers.
public struct DownloadParams: Codable, Sendable, Hashable {
    public var download: String
    public var offset: Int
    /// Bytes wanted (default and most: 4 MiB).
    public var length: Int?

    public init(download: String, offset: Int, length: Int? = nil) {
        self.download = download
        self.offset = offset
        self.length = length
    }
}

/// The `files.download` result.
public struct DownloadResult: Codable, Sendable, Hashable {
    public var download: String
    public var offset: Int
    /// The piece, base64.
    public var data: String
    /// The whole file's size and sha256, to check once every piece is in.
    public var bytes: Int
    public var sha256: String
    /// True when this piece ends the file (the download is then forgotten).
    public var last: Bool

    public init(download: String, offset: Int, data: String, bytes: Int, sha256: String, last: Bool) {
        self.download = download
        self.offset = offset
        self.data = data
        self.bytes = bytes
        self.sha256 = sha256
        self.last = last
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

// MARK: - describe, health, plugins.list

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

// MARK: - predict, explain

/// Params of `predict`.
public struct PredictParams: Codable, Sendable, Hashable {
    /// Customers by their schema's field names, each with its id field.
    public var customers: [CustomerRecord] {
        get {
            switch sent {
            case .records(let records): records
            case .columns(let batch): batch.records
            }
        }
        set { sent = .records(newValue) }
    }
    /// The customers as they were read: records, or (read straight from a request's bytes, when
    /// every customer has the same fields) by column, so that churnd checks and forwards them
    /// without a record per customer.
    public var sent: SentCustomers
    /// A version (`3`, `churn@3`) or alias (`champion`, `challenger`); the routed champion when absent.
    public var model: String?
    /// Whether to write each prediction to the prediction log; true when absent.
    public var log: Bool?

    /// Customers as a request carries them.
    public enum SentCustomers: Sendable {
        case records([CustomerRecord])
        /// Customers that all have the same fields, by column; ``CustomerBatch/records`` gives
        /// back exactly the records sent.
        case columns(CustomerBatch)
    }

    public init(customers: [CustomerRecord], model: String? = nil, log: Bool? = nil) {
        self.sent = .records(customers)
        self.model = model
        self.log = log
    }

    /// Params whose customers were read by column.
    public init(columns: CustomerBatch, model: String? = nil, log: Bool? = nil) {
        self.sent = .columns(columns)
        self.model = model
        self.log = log
    }

    public static func == (left: PredictParams, right: PredictParams) -> Bool {
        left.customers == right.customers && left.model == right.model && left.log == right.log
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(customers)
        hasher.combine(model)
        hasher.combine(log)
    }
}

/// The `predict` result, one prediction per customer in request order.
public struct PredictResult: Codable, Sendable, Hashable {
    public var predictions: [Prediction]
    public init(predictions: [Prediction]) { self.predictions = predictions }
}

/// One customer's churn prediction.
public struct Prediction: Codable, Sendable, Hashable {
    public var customerID: String
    /// Probability of leaving, 0...1.
    public var churnProbability: Double
    /// `churnProbability >= threshold` (the model's decision threshold, 0.5 unless set).
    public var churn: Bool
    /// The version that produced it.
    public var model: ModelRef
    /// `champion` or `challenger`, or `direct` when the request named a version that is neither.
    public var arm: Arm
    /// For a model that reads a monthly panel, which months it read: `inline` (sent with the
    /// record), `stored` (the daemon's history store), or `none` (scored without history);
    /// `derived` for a model reading the history derived from tenure and charges.
    public var history: HistorySource?

    public init(
        customerID: String, churnProbability: Double, churn: Bool, model: ModelRef, arm: Arm, history: HistorySource? = nil
    ) {
        self.customerID = customerID
        self.churnProbability = churnProbability
        self.churn = churn
        self.model = model
        self.arm = arm
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case customerID, churn, model, arm, history
        case churnProbability = "churn_probability"
    }
}

/// Where the months a prediction read came from (open: clients treat unknown values as none).
public struct HistorySource: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Months sent with the record.
    public static let inline = HistorySource(rawValue: "inline")
    /// Months from the daemon's history store.
    public static let stored = HistorySource(rawValue: "stored")
    /// No months: the customer was scored on the static fields alone.
    public static let noMonths = HistorySource(rawValue: "none")
    /// The fallback history derived from tenure and charges (not observed months).
    public static let derived = HistorySource(rawValue: "derived")
}

/// A model version by name and number.
public struct ModelRef: Codable, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)@\(version)" }
}

/// Params of `explain`.
public struct ExplainParams: Codable, Sendable, Hashable {
    public var customers: [CustomerRecord]
    public var model: String?
    /// Contributions per customer, largest first (default 10).
    public var top: Int?

    public init(customers: [CustomerRecord], model: String? = nil, top: Int? = nil) {
        self.customers = customers
        self.model = model
        self.top = top
    }
}

/// The `explain` result.
public struct ExplainResult: Codable, Sendable, Hashable {
    public var explanations: [CustomerExplanation]
    public init(explanations: [CustomerExplanation]) { self.explanations = explanations }
}

/// One customer's prediction with its reasons.
public struct CustomerExplanation: Codable, Sendable, Hashable {
    public var customerID: String
    public var model: ModelRef
    public var arm: Arm
    public var explanation: ModelExplanation
    /// Which months the model read, as in ``Prediction/history``.
    public var history: HistorySource?

    public init(customerID: String, model: ModelRef, arm: Arm, explanation: ModelExplanation, history: HistorySource? = nil) {
        self.customerID = customerID
        self.model = model
        self.arm = arm
        self.explanation = explanation
        self.history = history
    }
}

// MARK: - models.*

/// Params of `models.train`.
public struct TrainParams: Codable, Sendable, Hashable {
    /// The plugin kind: `random_forest`, `lstm`, `lstm_attention`, ..., or `auto` to tune every
    /// installed kind and register the best (or a blend of the kinds' best).
    public var kind: String
    /// A labelled customer CSV, readable by the daemon.
    public var data: String
    /// The dataset schema: a built-in name (`kaggle`, `ibm`), or a schema as a JSON object.
    /// Absent: a built-in schema whose columns the file has, else one inferred from the file.
    public var schema: JSONValue?
    /// The label column, when the schema is inferred.
    public var label: String?
    /// A built-in schema name or a first-release mapping file (kept for old clients; `schema` is preferred).
    public var mapping: String?
    /// A monthly panel CSV (`customer_id, period, ...`) for the same customers.
    public var history: String?
    /// Drop rows with bad values (and report them) instead of rejecting the file.
    public var skipBadRows: Bool?
    /// Hyperparameters for the plugin.
    public var params: [String: JSONValue]?
    public var seed: UInt64?
    /// The model name versions are registered under (default `churn`).
    public var name: String?
    /// Share of rows held back for the daemon's own evaluation (default 0.2).
    public var testFraction: Double?
    /// Share of the remaining rows the plugin uses for validation (default 0.2).
    public var validationFraction: Double?
    public var notes: String?
    public var tags: [String]?
    /// Tune the kind's hyperparameters by cross-validation on the training rows before the final
    /// fit (always on with `kind` `auto`).
    public var tune: Bool?
    /// Seconds the whole tuned run may take (default: 60 for up to 5,000 rows, more for larger files).
    public var budget: Double?
    /// Configurations per kind on the first successive-halving rung (default 27).
    public var trials: Int?
    /// Cross-validation folds (default 5).
    public var folds: Int?
    /// Whether a blend of the kinds' best may be registered when it beats the best single model
    /// (default true; only with `kind` `auto`).
    public var blend: Bool?

    public init(
        kind: String, data: String, mapping: String? = nil, history: String? = nil, skipBadRows: Bool? = nil,
        params: [String: JSONValue]? = nil, seed: UInt64? = nil, name: String? = nil,
        testFraction: Double? = nil, validationFraction: Double? = nil, notes: String? = nil,
        tags: [String]? = nil, schema: JSONValue? = nil, label: String? = nil, tune: Bool? = nil, budget: Double? = nil,
        trials: Int? = nil, folds: Int? = nil, blend: Bool? = nil
    ) {
        self.tune = tune
        self.budget = budget
        self.trials = trials
        self.folds = folds
        self.blend = blend
        self.schema = schema
        self.label = label
        self.kind = kind
        self.data = data
        self.mapping = mapping
        self.history = history
        self.skipBadRows = skipBadRows
        self.params = params
        self.seed = seed
        self.name = name
        self.testFraction = testFraction
        self.validationFraction = validationFraction
        self.notes = notes
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case kind, data, mapping, history, params, seed, name, notes, tags, schema, label, tune, budget, trials, folds, blend
        case testFraction = "test_fraction"
        case validationFraction = "validation_fraction"
        case skipBadRows = "skip_bad_rows"
    }
}

/// Params of `models.list`.
public struct ModelsListParams: Codable, Sendable, Hashable {
    /// Only versions of this model name.
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

/// The `models.list` result.
public struct ModelsListResult: Codable, Sendable, Hashable {
    public var versions: [ModelVersionInfo]
    public init(versions: [ModelVersionInfo]) { self.versions = versions }
}

/// Params naming one version: `3`, `churn@3`, `champion`, `churn@champion`.
public struct ModelRefParams: Codable, Sendable, Hashable {
    public var model: String
    public init(model: String) { self.model = model }
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

/// Everything known about one registered model version.
public struct ModelVersionInfo: Codable, Sendable, Hashable {
    public var name: String
    public var version: Int
    public var kind: String
    public var pluginVersion: String
    public var protocolVersion: Int
    /// ISO 8601, UTC.
    public var createdAt: String
    /// The Unix user that registered it.
    public var createdBy: String
    public var params: [String: JSONValue]
    /// Metrics on the daemon's held-back split (`test_*`) and the plugin's validation (`val_*`).
    public var metrics: [String: Double]
    /// Aliases that name this version now.
    public var aliases: [String]
    public var artifact: ArtifactInfo
    public var trainingData: TrainingDataInfo?
    public var notes: String?
    public var tags: [String]
    /// Present in `models.get`: per-epoch numbers.
    public var lossCurve: [EpochRecord]?
    /// What `lossCurve` counts along: `epoch` (absent means epochs) or `trees`.
    public var lossCurveUnit: String?
    /// The history the version reads: `panel` (observed months), `derived` (derived from tenure
    /// and charges, a fallback), or `none`. Absent for versions of earlier releases.
    public var historySource: String?
    /// How the version's probabilities are calibrated: the calibrator it serves with (Platt or
    /// isotonic, fitted on its validation split) and its held-back ECE, Brier score and
    /// reliability curve before and after. Absent for versions trained before calibration.
    public var calibration: JSONValue?
    /// Present in `models.get`: ROC curve points on the held-back split.
    public var rocCurve: [ROCPoint]?
    /// Present in `models.get`.
    public var importances: [FeatureImportance]?
    /// Present in `models.get`: the fitted feature schema.
    public var featureSchema: JSONValue?
    /// Present in `models.get`: the dataset schema the version reads (its fields, their types and
    /// values), what `predict` checks records against. Absent for versions of churn's first
    /// release, which read the built-in Kaggle telco schema.
    public var datasetSchema: JSONValue?
    /// Present in `models.get` for a tuned version: every configuration cross-validated, the
    /// blend considered, and why the search stopped.
    public var leaderboard: Leaderboard?
    /// For a blend (`kind` `blend`): the versions it averages, with their weights.
    public var members: [BlendMember]?

    public init(
        name: String, version: Int, kind: String, pluginVersion: String, protocolVersion: Int, createdAt: String,
        createdBy: String, params: [String: JSONValue], metrics: [String: Double], aliases: [String],
        artifact: ArtifactInfo, trainingData: TrainingDataInfo?, notes: String?, tags: [String],
        lossCurve: [EpochRecord]? = nil, lossCurveUnit: String? = nil, rocCurve: [ROCPoint]? = nil,
        importances: [FeatureImportance]? = nil, featureSchema: JSONValue? = nil, datasetSchema: JSONValue? = nil,
        historySource: String? = nil, calibration: JSONValue? = nil, leaderboard: Leaderboard? = nil,
        members: [BlendMember]? = nil
    ) {
        self.leaderboard = leaderboard
        self.members = members
        self.calibration = calibration
        self.historySource = historySource
        self.lossCurveUnit = lossCurveUnit
        self.datasetSchema = datasetSchema
        self.name = name
        self.version = version
        self.kind = kind
        self.pluginVersion = pluginVersion
        self.protocolVersion = protocolVersion
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.params = params
        self.metrics = metrics
        self.aliases = aliases
        self.artifact = artifact
        self.trainingData = trainingData
        self.notes = notes
        self.tags = tags
        self.lossCurve = lossCurve
        self.rocCurve = rocCurve
        self.importances = importances
        self.featureSchema = featureSchema
    }

    /// `name@version`.
    public var ref: ModelRef { ModelRef(name: name, version: version) }

    /// The version without curves, importances and schema, as `models.list` shows it.
    public var summary: ModelVersionInfo {
        var brief = self
        brief.lossCurve = nil
        brief.rocCurve = nil
        brief.importances = nil
        brief.featureSchema = nil
        brief.datasetSchema = nil
        brief.calibration = nil
        brief.leaderboard = nil
        return brief
    }

    enum CodingKeys: String, CodingKey {
        case name, version, kind, params, metrics, aliases, artifact, notes, tags, importances, leaderboard, members
        case pluginVersion = "plugin_version"
        case protocolVersion = "protocol_version"
        case createdAt = "created_at"
        case createdBy = "created_by"
        case trainingData = "training_data"
        case lossCurve = "loss_curve"
        case lossCurveUnit = "loss_curve_unit"
        case rocCurve = "roc_curve"
        case featureSchema = "feature_schema"
        case datasetSchema = "dataset_schema"
        case historySource = "history_source"
        case calibration
    }
}

/// Facts about a stored artifact.
public struct ArtifactInfo: Codable, Sendable, Hashable {
    /// Hex sha256 of the raw (uncompressed) bytes.
    public var sha256: String
    public var rawBytes: Int
    public var compressedBytes: Int

    public init(sha256: String, rawBytes: Int, compressedBytes: Int) {
        self.sha256 = sha256
        self.rawBytes = rawBytes
        self.compressedBytes = compressedBytes
    }

    enum CodingKeys: String, CodingKey {
        case sha256
        case rawBytes = "raw_bytes"
        case compressedBytes = "compressed_bytes"
    }
}

/// The data a version was trained on.
public struct TrainingDataInfo: Codable, Sendable, Hashable {
    /// Hex sha256 of the data file as read.
    public var sha256: String
    public var rows: Int
    public var path: String?

    public init(sha256: String, rows: Int, path: String?) {
        self.sha256 = sha256
        self.rows = rows
        self.path = path
    }
}

/// One point of a ROC curve.
public struct ROCPoint: Codable, Sendable, Hashable {
    public var threshold: Double
    public var falsePositiveRate: Double
    public var truePositiveRate: Double

    public init(threshold: Double, falsePositiveRate: Double, truePositiveRate: Double) {
        self.threshold = threshold
        self.falsePositiveRate = falsePositiveRate
        self.truePositiveRate = truePositiveRate
    }

    enum CodingKeys: String, CodingKey {
        case threshold
        case falsePositiveRate = "fpr"
        case truePositiveRate = "tpr"
    }
}
