import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import ServiceLifecycle

/// churnd's settings as a person gives them, each optional, from three sources: flags
/// (``DaemonOptions``), the environment (``init(environment:)``) and the JSON config file
/// (`--config`, else `<home>/churnd.json` when present; its members are listed in
/// ``CodingKeys``). ``DaemonLauncher`` takes each setting from a flag, else the environment,
/// else the file, else its default (lists add up in that order), checks it once
/// (``checkValues()``) and builds the ``DaemonConfiguration``.
///
/// ```json
/// {"socket": "/run/churn/churnd.sock", "socket_group": "churn", "socket_mode": "0660", "plugin_paths": ["/opt/churn/plugins"],
///  "max_frame_bytes": 16777216, "predict_timeout_seconds": 30, "health_check_interval_seconds": 5,
///  "log_level": "info", "batching": true, "batch_window_ms": 0, "max_batch": 512, "log_predictions": true,
///  "admin_groups": ["churn-admin"], "admin_users": ["alice"], "data_roots": ["/srv/churn/data"],
///  "export_roots": ["/srv/churn/exports"], "registry": "postgres://churn@db/churn", "registry_poll_ms": 1000}
/// ```
public struct DaemonSettings: Sendable {
    public var socket: String?
    /// The socket's group (a name or gid) and mode (octal text).
    public var socketGroup: String?
    public var socketMode: String?
    /// The state folder (a flag or `CHURN_HOME`: the config file is found in it).
    public var home: String?
    /// The config file (a flag only).
    public var configFile: String?
    public var pluginPaths: [String] = []
    public var maximumFramePayload: Int?
    public var logLevel: Logger.Level?
    /// A log level the environment or the file names that is not one, with where it came from:
    /// refused only if no higher source gives a level.
    var unreadLogLevel: (text: String, source: String)?
    public var batching: Bool?
    public var batchWindowMilliseconds: Double?
    /// The most customers per plugin call.
    public var maximumBatch: Int?
    public var predictTimeoutSeconds: Double?
    public var healthCheckIntervalSeconds: Double?
    public var logPredictions: Bool?
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

    /// The settings the environment gives: `CHURN_SOCKET`, `CHURN_LOG_LEVEL`,
    /// `CHURN_PLUGIN_PATH` (folders separated by `:`) and `CHURN_REGISTRY`.
    public init(environment: [String: String]) {
        // An empty variable is no setting (clients read CHURN_SOCKET the same way).
        socket = environment["CHURN_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = environment["CHURN_LOG_LEVEL"] { setLogLevel(text, from: "CHURN_LOG_LEVEL") }
        if let paths = environment["CHURN_PLUGIN_PATH"], !paths.isEmpty { pluginPaths = paths.split(separator: ":").map(String.init) }
        registry = environment["CHURN_REGISTRY"]
    }

    /// These settings where they are given, else `lower`'s; lists are these then `lower`'s.
    public func over(_ lower: DaemonSettings) -> DaemonSettings {
        var merged = self
        merged.socket = socket ?? lower.socket
        merged.socketGroup = socketGroup ?? lower.socketGroup
        merged.socketMode = socketMode ?? lower.socketMode
        merged.home = home ?? lower.home
        merged.configFile = configFile ?? lower.configFile
        merged.pluginPaths = pluginPaths + lower.pluginPaths
        merged.maximumFramePayload = maximumFramePayload ?? lower.maximumFramePayload
        merged.logLevel = logLevel ?? lower.logLevel
        merged.unreadLogLevel = logLevel != nil ? nil : unreadLogLevel ?? (lower.logLevel != nil ? nil : lower.unreadLogLevel)
        merged.batching = batching ?? lower.batching
        merged.batchWindowMilliseconds = batchWindowMilliseconds ?? lower.batchWindowMilliseconds
        merged.maximumBatch = maximumBatch ?? lower.maximumBatch
        merged.predictTimeoutSeconds = predictTimeoutSeconds ?? lower.predictTimeoutSeconds
        merged.healthCheckIntervalSeconds = healthCheckIntervalSeconds ?? lower.healthCheckIntervalSeconds
        merged.logPredictions = logPredictions ?? lower.logPredictions
        merged.adminGroups = adminGroups + lower.adminGroups
        merged.adminUsers = adminUsers + lower.adminUsers
        merged.dataRoots = dataRoots + lower.dataRoots
        merged.exportRoots = exportRoots + lower.exportRoots
        merged.registry = registry ?? lower.registry
        merged.registryPollMilliseconds = registryPollMilliseconds ?? lower.registryPollMilliseconds
        return merged
    }

    /// Checks the values given against their ranges, naming the setting as a flag and as a
    /// config file member; the one place each rule is written.
    public func checkValues() throws(DaemonSettingsError) {
        if logLevel == nil, let (text, source) = unreadLogLevel {
            throw DaemonSettingsError(
                description: "log level \"\(text)\" (\(source)) is not one of trace, debug, info, notice, warning, error, critical")
        }
        if let maximumFramePayload, maximumFramePayload < 1024 {
            throw DaemonSettingsError(
                description: "max frame of \(maximumFramePayload) bytes is too small: use at least 1024 (--max-frame, max_frame_bytes)")
        }
        if let socketMode, SocketPermissions.mode(parsing: socketMode) == nil {
            throw DaemonSettingsError(
                description: "socket mode \(socketMode) is not an octal mode with read and write for churnd's user, e.g. 0660 or 0600 (--socket-mode, socket_mode)")
        }
        if let batchWindowMilliseconds, !(0...100).contains(batchWindowMilliseconds) {
            throw DaemonSettingsError(
                description: "batch window of \(batchWindowMilliseconds) ms is outside 0...100 (--batch-window-ms, batch_window_ms)")
        }
        if let maximumBatch, !(1...100_000).contains(maximumBatch) {
            throw DaemonSettingsError(description: "max_batch of \(maximumBatch) is outside 1...100000")
        }
        // Seconds become whole milliseconds: a day at most (more would not be a timeout, and a
        // huge value would not fit).
        if let predictTimeoutSeconds, !(predictTimeoutSeconds > 0 && predictTimeoutSeconds <= 86_400) {
            throw DaemonSettingsError(description: "predict_timeout_seconds of \(predictTimeoutSeconds) is outside (0, 86400]")
        }
        if let healthCheckIntervalSeconds, !(healthCheckIntervalSeconds > 0 && healthCheckIntervalSeconds <= 86_400) {
            throw DaemonSettingsError(description: "health_check_interval_seconds of \(healthCheckIntervalSeconds) is outside (0, 86400]")
        }
        if let registryPollMilliseconds, !(50...60_000).contains(registryPollMilliseconds) {
            throw DaemonSettingsError(
                description: "registry poll of \(registryPollMilliseconds) ms is outside 50...60000 (--registry-poll-ms, registry_poll_ms)")
        }
    }

    /// The log level `text` names, or (when it names none) the text and its source, refused by
    /// ``checkValues()`` unless a higher source gives a level.
    mutating func setLogLevel(_ text: String, from source: String) {
        if let level = Logger.Level(rawValue: text) {
            logLevel = level
        } else {
            unreadLogLevel = (text, source)
        }
    }
}

extension DaemonSettings: Decodable {
    /// The config file's members.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case socket, batching, registry
        case socketGroup = "socket_group"
        case socketMode = "socket_mode"
        case pluginPaths = "plugin_paths"
        case maximumFramePayload = "max_frame_bytes"
        case logLevel = "log_level"
        case batchWindowMilliseconds = "batch_window_ms"
        case maximumBatch = "max_batch"
        case predictTimeoutSeconds = "predict_timeout_seconds"
        case healthCheckIntervalSeconds = "health_check_interval_seconds"
        case logPredictions = "log_predictions"
        case adminGroups = "admin_groups"
        case adminUsers = "admin_users"
        case dataRoots = "data_roots"
        case exportRoots = "export_roots"
        case registryPollMilliseconds = "registry_poll_ms"
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads a config file; a member it does not know is refused (a misspelt setting must not
    /// be silently left at its default).
    public init(from decoder: any Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DaemonSettingsError(
                description: "unknown setting \"\(unknown)\"; the settings are \(CodingKeys.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        let file = try decoder.container(keyedBy: CodingKeys.self)
        socket = try file.decodeIfPresent(String.self, forKey: .socket)
        socketGroup = try file.decodeIfPresent(String.self, forKey: .socketGroup)
        socketMode = try file.decodeIfPresent(String.self, forKey: .socketMode)
        pluginPaths = try file.decodeIfPresent([String].self, forKey: .pluginPaths) ?? []
        maximumFramePayload = try file.decodeIfPresent(Int.self, forKey: .maximumFramePayload)
        if let text = try file.decodeIfPresent(String.self, forKey: .logLevel) { setLogLevel(text, from: "log_level") }
        batching = try file.decodeIfPresent(Bool.self, forKey: .batching)
        batchWindowMilliseconds = try file.decodeIfPresent(Double.self, forKey: .batchWindowMilliseconds)
        maximumBatch = try file.decodeIfPresent(Int.self, forKey: .maximumBatch)
        predictTimeoutSeconds = try file.decodeIfPresent(Double.self, forKey: .predictTimeoutSeconds)
        healthCheckIntervalSeconds = try file.decodeIfPresent(Double.self, forKey: .healthCheckIntervalSeconds)
        logPredictions = try file.decodeIfPresent(Bool.self, forKey: .logPredictions)
        adminGroups = try file.decodeIfPresent([String].self, forKey: .adminGroups) ?? []
        adminUsers = try file.decodeIfPresent([String].self, forKey: .adminUsers) ?? []
        dataRoots = try file.decodeIfPresent([String].self, forKey: .dataRoots) ?? []
        exportRoots = try file.decodeIfPresent([String].self, forKey: .exportRoots) ?? []
        registry = try file.decodeIfPresent(String.self, forKey: .registry)
        registryPollMilliseconds = try file.decodeIfPresent(Int.self, forKey: .registryPollMilliseconds)
    }

    /// The settings of the config file at `path`, or none when it is absent and was not named.
    static func file(at path: String, named: Bool) throws(DaemonSettingsError) -> DaemonSettings {
        guard FileManager.default.fileExists(atPath: path) else {
            if named { throw DaemonSettingsError(description: "config file \(path) does not exist") }
            return DaemonSettings()
        }
        do {
            return try JSONDecoder().decode(DaemonSettings.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let error as DaemonSettingsError {
            throw DaemonSettingsError(description: "config file \(path): \(error.description)")
        } catch let error as DecodingError {
            let (field, reason) = error.fieldAndReason
            throw DaemonSettingsError(description: "config file \(path): \(field.isEmpty ? "" : field + ": ")\(reason)")
        } catch {
            throw DaemonSettingsError(description: "config file \(path): \(error.localizedDescription)")
        }
    }
}

/// A configuration problem, named precisely.
public struct DaemonSettingsError: Error, CustomStringConvertible {
    public var description: String
}

/// Starts `churnd` from ``DaemonSettings``: used by both `churnd` and `churn serve`.
public enum DaemonLauncher {
    /// The configuration `flags` give, over the environment's settings, over the config file's,
    /// over the defaults; each value checked once.
    public static func configuration(
        from flags: DaemonSettings, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (DaemonConfiguration, Logger.Level) {
        let home = ChurnLocations.home(flag: flags.home, environment: environment)
        let configPath = flags.configFile ?? (home as NSString).appendingPathComponent("churnd.json")
        let file = try DaemonSettings.file(at: configPath, named: flags.configFile != nil)
        let settings = flags.over(DaemonSettings(environment: environment)).over(file)
        try settings.checkValues()

        let socket = ChurnLocations.socket(flag: settings.socket, home: home, environment: environment)
        let level = settings.logLevel ?? .info
        var configuration = DaemonConfiguration(socketPath: socket, home: home, pluginSearchPaths: settings.pluginPaths)
        if let group = settings.socketGroup {
            guard let gid = AccessPolicy.groupID(group) else {
                throw DaemonSettingsError(description: "socket group \"\(group)\" does not exist on this machine (see getent group)")
            }
            configuration.socketPermissions.group = gid
        }
        if let mode = settings.socketMode.flatMap(SocketPermissions.mode(parsing:)) { configuration.socketPermissions.mode = mode }
        if let frame = settings.maximumFramePayload { configuration.maximumFramePayload = frame }
        if let seconds = settings.predictTimeoutSeconds { configuration.predictTimeout = .milliseconds(Int(seconds * 1000)) }
        if let seconds = settings.healthCheckIntervalSeconds {
            configuration.plugins.healthCheckInterval = .milliseconds(Int(seconds * 1000))
        }
        configuration.pluginLogLevel = level
        configuration.batching.enabled = settings.batching ?? true
        if let window = settings.batchWindowMilliseconds { configuration.batching.window = .microseconds(Int(window * 1000)) }
        if let maximumBatch = settings.maximumBatch { configuration.batching.maximumRows = maximumBatch }
        configuration.logPredictions = settings.logPredictions ?? true
        for name in settings.adminGroups {
            guard let gid = AccessPolicy.groupID(name) else {
                throw DaemonSettingsError(description: "admin group \"\(name)\" does not exist on this machine (see getent group)")
            }
            configuration.access.adminGroups.insert(gid)
        }
        for name in settings.adminUsers {
            guard let uid = AccessPolicy.userID(name) else {
                throw DaemonSettingsError(description: "admin user \"\(name)\" does not exist on this machine (see getent passwd)")
            }
            configuration.access.adminUsers.insert(uid)
        }
        configuration.dataRoots = try settings.dataRoots.map { try ClientFiles.root($0, flag: "data root") }
        configuration.exportRoots = try settings.exportRoots.map { try ClientFiles.root($0, flag: "export root") }
        if let registry = settings.registry {
            do {
                configuration.registry = try RegistryLocation(parsing: registry)
            } catch {
                throw DaemonSettingsError(description: "registry \(registry): \(error)")
            }
        }
        if let poll = settings.registryPollMilliseconds { configuration.registryPoll = .milliseconds(poll) }
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
