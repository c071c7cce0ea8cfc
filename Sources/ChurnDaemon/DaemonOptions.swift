import ArgumentParser
import Logging

/// The command-line options of the daemon, shared by `churnd` and `churn serve`.
public struct DaemonOptions: ParsableArguments {
    @Option(help: "Unix socket to serve on (else CHURN_SOCKET, else $XDG_RUNTIME_DIR/churn/churnd.sock, else <home>/churnd.sock).")
    var socket: String?

    @Option(name: .customLong("socket-group"), help: "The group that owns the socket: its members may connect and use the read methods (give them the admin role with --admin-group); churnd's home, or a socket folder churnd creates, lets the group through to the socket. Without it, only churnd's own user reaches a socket in churnd's home.")
    var socketGroup: String?

    @Option(name: .customLong("socket-mode"), help: "The socket's permission bits, in octal (default 0660: churnd's user and the socket group; 0600: churnd's user only).")
    var socketMode: String?

    @Option(help: "State folder (else CHURN_HOME, else ./var). Created 0700; files in it are churnd's alone (0600).")
    var home: String?

    @Option(help: "JSON config file (default <home>/churnd.json when it exists).")
    var config: String?

    @Option(name: .customLong("plugin-path"), help: "A folder to search for churn-plugin-<kind> executables; repeatable.")
    var pluginPaths: [String] = []

    @Option(name: .customLong("max-frame"), help: "Largest frame in bytes (default 16777216).")
    var maxFrame: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (else CHURN_LOG_LEVEL, else info).")
    var logLevel: String?

    @Flag(help: "Send every predict request to its plugin alone (no dynamic batching).")
    var noBatching = false

    @Option(name: .customLong("batch-window-ms"), help: "How long a request that finds its model idle waits for others to batch with (default 0).")
    var batchWindowMilliseconds: Double?

    @Option(name: .customLong("admin-group"), help: "A group whose members may call changing methods (train, promote, ...); repeatable. Root and churnd's own user always may.")
    var adminGroups: [String] = []

    @Option(name: .customLong("admin-user"), help: "A user who may call changing methods; repeatable.")
    var adminUsers: [String] = []

    @Option(name: .customLong("data-root"), help: "A folder under which requests may name files for churnd to read (default: none; clients send the bytes); repeatable.")
    var dataRoots: [String] = []

    @Option(name: .customLong("export-root"), help: "A folder under which models.export may write files on churnd's side (default: none; clients receive the bytes); repeatable.")
    var exportRoots: [String] = []

    @Option(help: "The registry: a postgres://USER@HOST[:PORT]/DATABASE URL shared by several churnd hosts (add ?host=/run/postgresql for a Unix socket), or an SQLite file (default <home>/registry.sqlite).")
    var registry: String?

    @Option(name: .customLong("registry-poll-ms"), help: "With a shared registry: how often to check for promotions, rollbacks and experiments made by other hosts, besides PostgreSQL's notifications (default 1000).")
    var registryPollMilliseconds: Int?

    public init() {}

    /// The flags' values, checked by the same rules as the environment's and the file's.
    public mutating func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        do {
            try settings.checkValues()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The options as settings for ``DaemonLauncher``.
    public var settings: DaemonSettings {
        var settings = DaemonSettings()
        settings.socket = socket
        settings.home = home
        settings.socketGroup = socketGroup
        settings.socketMode = socketMode
        settings.configFile = config
        settings.pluginPaths = pluginPaths
        settings.maximumFramePayload = maxFrame
        settings.logLevel = logLevel.flatMap(Logger.Level.init(rawValue:))
        if noBatching { settings.batching = false }
        settings.batchWindowMilliseconds = batchWindowMilliseconds
        settings.adminGroups = adminGroups
        settings.adminUsers = adminUsers
        settings.dataRoots = dataRoots
        settings.exportRoots = exportRoots
        settings.registry = registry
        settings.registryPollMilliseconds = registryPollMilliseconds
        return settings
    }
}
