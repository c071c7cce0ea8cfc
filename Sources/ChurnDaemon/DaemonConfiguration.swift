import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging

/// Everything `churnd` needs to know to start. Built from flags, environment and an
/// optional JSON config file by the executables; tests build it directly.
public struct DaemonConfiguration: Sendable {
    /// The Unix socket clients connect to.
    public var socketPath: String
    /// Who may connect to the socket: its mode and group (see ``SocketPermissions``).
    public var socketPermissions = SocketPermissions()
    /// The state folder: registry, artifact cache, training runs.
    public var home: String
    /// Folders searched for `churn-plugin-<kind>` executables, in order, before the daemon's own folder.
    public var pluginSearchPaths: [String]
    /// Whether the folder holding the daemon's executable is searched too (as git does).
    public var searchExecutableDirectory: Bool
    /// The largest frame accepted or sent, on every socket.
    public var maximumFramePayload: Int
    /// How plugins are started, checked and restarted.
    public var plugins: PluginPolicy
    /// Deadline for a `predict` or `explain` call to a plugin.
    public var predictTimeout: Duration
    /// Log level handed to plugins (`CHURN_LOG_LEVEL`).
    public var pluginLogLevel: Logger.Level
    /// How concurrent predictions for one model are batched.
    public var batching = BatchingPolicy()
    /// Keep a log of every prediction (for experiment reports).
    public var logPredictions = true
    /// Who may call the changing methods (the admin role).
    public var access = AccessPolicy()
    /// Folders under which requests may name daemon-side files to read (`--data-root`); none:
    /// clients send files' bytes (``ClientFiles``).
    public var dataRoots: [String] = []
    /// Folders under which `models.export` may write a daemon-side file (`--export-root`).
    public var exportRoots: [String] = []
    /// The registry (`--registry`); nil: the SQLite file `<home>/registry.sqlite`.
    public var registry: RegistryLocation?
    /// With a shared registry, how often changes made by other hosts are looked for (besides
    /// PostgreSQL's notifications).
    public var registryPoll: Duration = .seconds(1)

    /// Where the registry is.
    public var registryLocation: RegistryLocation {
        registry ?? .sqlite(path: (home as NSString).appendingPathComponent("registry.sqlite"))
    }

    public init(
        socketPath: String, home: String, pluginSearchPaths: [String] = [], searchExecutableDirectory: Bool = true,
        maximumFramePayload: Int = FrameLimits.defaultMaximumPayload, plugins: PluginPolicy = PluginPolicy(),
        predictTimeout: Duration = .seconds(30), pluginLogLevel: Logger.Level = .info
    ) {
        self.socketPath = socketPath
        self.home = home
        self.pluginSearchPaths = pluginSearchPaths
        self.searchExecutableDirectory = searchExecutableDirectory
        self.maximumFramePayload = maximumFramePayload
        self.plugins = plugins
        self.predictTimeout = predictTimeout
        self.pluginLogLevel = pluginLogLevel
    }
}

/// How the daemon supervises plugin processes.
public struct PluginPolicy: Sendable {
    /// How long a starting plugin may take to listen and answer `describe`.
    public var startTimeout: Duration
    /// Time between health checks of a ready plugin.
    public var healthCheckInterval: Duration
    /// How long a health check waits for `describe` before the plugin is killed and restarted.
    public var healthCheckTimeout: Duration
    /// The first restart delay; it doubles with each failure in a row.
    public var initialBackoff: Duration
    /// The longest restart delay.
    public var maximumBackoff: Duration
    /// Failures in a row before the first successful handshake after which a plugin is refused.
    public var maximumStartFailures: Int
    /// How long a request waits for a restarting plugin before it fails.
    public var readinessWait: Duration
    /// How long a stopping plugin gets to exit after `shutdown` before SIGTERM, then SIGKILL.
    public var stopGracePeriod: Duration

    public init(
        startTimeout: Duration = .seconds(15), healthCheckInterval: Duration = .seconds(5),
        healthCheckTimeout: Duration = .seconds(3), initialBackoff: Duration = .milliseconds(250),
        maximumBackoff: Duration = .seconds(30), maximumStartFailures: Int = 5, readinessWait: Duration = .seconds(10),
        stopGracePeriod: Duration = .seconds(5)
    ) {
        self.startTimeout = startTimeout
        self.healthCheckInterval = healthCheckInterval
        self.healthCheckTimeout = healthCheckTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumStartFailures = maximumStartFailures
        self.readinessWait = readinessWait
        self.stopGracePeriod = stopGracePeriod
    }

    /// The delay before restart number `failures` (1-based) in a row.
    public func backoff(afterFailures failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 20)
        let delay = initialBackoff * (1 << exponent)
        return min(delay, maximumBackoff)
    }
}

/// Dynamic batching of predictions per model.
public struct BatchingPolicy: Sendable {
    public var enabled = true
    /// How long a request that finds its model idle waits for others (zero: it is sent at once,
    /// and only requests that arrive while a batch is being scored are batched).
    public var window: Duration = .zero
    /// The most customers per plugin call.
    public var maximumRows = 512

    public init(enabled: Bool = true, window: Duration = .zero, maximumRows: Int = 512) {
        self.enabled = enabled
        self.window = window
        self.maximumRows = maximumRows
    }
}
