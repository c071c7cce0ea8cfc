import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import ServiceLifecycle

/// Settings a person gives the daemon, before defaults: from flags, else the environment,
/// else the config file (`--config`, else `<home>/churnd.json` when present), else defaults.
public struct DaemonSettings: Sendable {
    public var socket: String?
    /// The socket's group (a name or gid) and mode (octal text).
    public var socketGroup: String?
    public var socketMode: String?
    public var home: String?
    public var configFile: String?
    public var pluginPaths: [String] = []
    public var maximumFramePayload: Int?
    public var logLevel: Logger.Level?
    public var batching: Bool?
    public var batchWindowMilliseconds: Double?
    /// Groups (names or gids) whose members have the admin role.
    public var adminGroups: [String] = []
    /// Users (names or uids) with the admin role, besides root and churnd's own user.
    public var adminUsers: [String] = []
    /// Folders under which requests may name daemon-side files to read.
    public var dataRoots: [String] = []
    /// Folders under which `models.export` may write daemon-side files.
    public var exportRoots: [String] = []
    /// The registry (`postgres://...` or an SQLite file).
    public var registry: String?
    public var registryPollMilliseconds: Int?

    public init() {}
}

/// The JSON config file of `churnd`. Every member is optional.
///
/// ```json
/// {"socket": "/run/churn/churnd.sock", "socket_group": "churn", "socket_mode": "0660", "plugin_paths": ["/opt/churn/plugins"],
///  "max_frame_bytes": 16777216, "predict_timeout_seconds": 30, "health_check_interval_seconds": 5,
///  "log_level": "info", "batching": true, "batch_window_ms": 0, "max_batch": 512, "log_predictions": true,
///  "admin_groups": ["churn-admin"], "admin_users": ["alice"], "data_roots": ["/srv/churn/data"],
///  "export_roots": ["/srv/churn/exports"]}
/// ```
struct DaemonConfigFile: Decodable {
    var socket: String?
    var socketGroup: String?
    var socketMode: String?
    var pluginPaths: [String]?
    var maxFrameBytes: Int?
    var predictTimeoutSeconds: Double?
    var healthCheckIntervalSeconds: Double?
    var logLevel: String?
    var batching: Bool?
    var batchWindowMs: Double?
    var maxBatch: Int?
    var logPredictions: Bool?
    var adminGroups: [String]?
    var adminUsers: [String]?
    var dataRoots: [String]?
    var exportRoots: [String]?
    var registry: String?
    var registryPollMs: Int?

    enum CodingKeys: String, CodingKey {
        case socket, batching
        case socketGroup = "socket_group"
        case socketMode = "socket_mode"
        case batchWindowMs = "batch_window_ms"
        case maxBatch = "max_batch"
        case logPredictions = "log_predictions"
        case pluginPaths = "plugin_paths"
        case maxFrameBytes = "max_frame_bytes"
        case predictTimeoutSeconds = "predict_timeout_seconds"
        case healthCheckIntervalSeconds = "health_check_interval_seconds"
        case logLevel = "log_level"
        case adminGroups = "admin_groups"
        case adminUsers = "admin_users"
        case dataRoots = "data_roots"
        case exportRoots = "export_roots"
        case registry
        case registryPollMs = "registry_poll_ms"
    }
}

/// A configuration problem, named precisely.
public struct DaemonSettingsError: Error, CustomStringConvertible {
    public var description: String
}

/// Starts `churnd` from ``DaemonSettings``: used by both `churnd` and `churn serve`.
public enum DaemonLauncher {
    /// Resolves settings into a configuration.
    public static func configuration(
        from settings: DaemonSettings, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (DaemonConfiguration, Logger.Level) {
        let home = ChurnLocations.home(flag: settings.home, environment: environment)
        let configPath = settings.configFile ?? (home as NSString).appendingPathComponent("churnd.json")
        var file = DaemonConfigFile()
        if FileManager.default.fileExists(atPath: configPath) {
            do {
                file = try JSONDecoder().decode(DaemonConfigFile.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
            } catch let error as DecodingError {
                let (field, reason) = error.fieldAndReason
                throw DaemonSettingsError(description: "config file \(configPath): \(field.isEmpty ? "" : field + ": ")\(reason)")
            }
        } else if settings.configFile != nil {
            throw DaemonSettingsError(description: "config file \(configPath) does not exist")
        }
        let socket = ChurnLocations.socket(
            flag: settings.socket ?? (environment["CHURN_SOCKET"] == nil ? file.socket : nil), home: home,
            environment: environment)
        let levelText = settings.logLevel?.rawValue ?? environment["CHURN_LOG_LEVEL"] ?? file.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw DaemonSettingsError(
                description: "log level \"\(levelText)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        var pluginPaths = settings.pluginPaths
        if let fromEnvironment = environment["CHURN_PLUGIN_PATH"], !fromEnvironment.isEmpty {
            pluginPaths += fromEnvironment.split(separator: ":").map(String.init)
        }
        pluginPaths += file.pluginPaths ?? []
        var configuration = DaemonConfiguration(socketPath: socket, home: home, pluginSearchPaths: pluginPaths)
        if let group = settings.socketGroup ?? file.socketGroup {
            guard let gid = AccessPolicy.groupID(group) else {
                throw DaemonSettingsError(description: "socket group \"\(group)\" does not exist on this machine (see getent group)")
            }
            configuration.socketPermissions.group = gid
        }
        if let text = settings.socketMode ?? file.socketMode {
            guard let mode = SocketPermissions.mode(parsing: text) else {
                throw DaemonSettingsError(
                    description: "socket mode \(text) is not an octal mode with read and write for churnd's user (e.g. 0660 or 0600)")
            }
            configuration.socketPermissions.mode = mode
        }
        if let frame = settings.maximumFramePayload ?? file.maxFrameBytes {
            guard frame >= 1024 else {
                throw DaemonSettingsError(description: "max frame of \(frame) bytes is too small: use at least 1024")
            }
            configuration.maximumFramePayload = frame
        }
        if let seconds = file.predictTimeoutSeconds { configuration.predictTimeout = .milliseconds(Int(seconds * 1000)) }
        if let seconds = file.healthCheckIntervalSeconds {
            configuration.plugins.healthCheckInterval = .milliseconds(Int(seconds * 1000))
        }
        configuration.pluginLogLevel = level
        configuration.batching.enabled = settings.batching ?? file.batching ?? true
        if let window = settings.batchWindowMilliseconds ?? file.batchWindowMs {
            guard (0...100).contains(window) else {
                throw DaemonSettingsError(description: "batch window of \(window) ms is outside 0...100")
            }
            configuration.batching.window = .microseconds(Int(window * 1000))
        }
        if let maxBatch = file.maxBatch {
            guard (1...100_000).contains(maxBatch) else { throw DaemonSettingsError(description: "max_batch must be 1...100000") }
            configuration.batching.maximumRows = maxBatch
        }
        configuration.logPredictions = file.logPredictions ?? true
        for name in settings.adminGroups + (file.adminGroups ?? []) {
            guard let gid = AccessPolicy.groupID(name) else {
                throw DaemonSettingsError(description: "admin group \"\(name)\" does not exist on this machine (see getent group)")
            }
            configuration.access.adminGroups.insert(gid)
        }
        for name in settings.adminUsers + (file.adminUsers ?? []) {
            guard let uid = AccessPolicy.userID(name) else {
                throw DaemonSettingsError(description: "admin user \"\(name)\" does not exist on this machine (see getent passwd)")
            }
            configuration.access.adminUsers.insert(uid)
        }
        configuration.dataRoots = try (settings.dataRoots + (file.dataRoots ?? [])).map { try ClientFiles.root($0, flag: "data root") }
        configuration.exportRoots = try (settings.exportRoots + (file.exportRoots ?? [])).map { try ClientFiles.root($0, flag: "export root") }
        if let registry = settings.registry ?? environment["CHURN_REGISTRY"] ?? file.registry {
            do {
                configuration.registry = try RegistryLocation(parsing: registry)
            } catch {
                throw DaemonSettingsError(description: "--registry: \(error)")
            }
        }
        if let poll = settings.registryPollMilliseconds ?? file.registryPollMs {
            guard (50...60_000).contains(poll) else { throw DaemonSettingsError(description: "registry_poll_ms must be 50...60000") }
            configuration.registryPoll = .milliseconds(poll)
        }
        return (configuration, level)
    }

    /// Runs the daemon in this process until SIGTERM or SIGINT, with logs on stderr.
    public static func run(_ settings: DaemonSettings) async throws {
        let (configuration, level) = try configuration(from: settings)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "churnd")
        // churnd's state is its own: new files 0600, folders 0700, and an existing home that
        // others could read is tightened (and said so) before the registry opens.
        StatePermissions.restrictNewFiles()
        try StatePermissions.secureHome(
            configuration.home, socket: configuration.socketPermissions, socketPath: configuration.socketPath, logger: logger)
        let registry = try ModelRegistry(location: configuration.registryLocation)
        let daemon = ChurnDaemon(configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [], logger: logger))
        try await group.run()
    }
}
