#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The churn daemon as a swift-service-lifecycle `Service`: binds its socket, starts and
/// supervises the plugins, serves clients, and on graceful shutdown (SIGTERM, SIGINT) drains
/// in-flight requests, stops the plugins and removes its socket.
public final class ChurnDaemon: Service {
    /// The daemon's own version.
    public static let version = "0.1.0"

    public let configuration: DaemonConfiguration
    private let registry: ModelRegistry
    private let logger: Logger

    public init(configuration: DaemonConfiguration, registry: ModelRegistry, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
    }

    public func run() async throws {
        let configuration = self.configuration
        var folders = configuration.pluginSearchPaths.map(ChurnLocations.absolute)
        if configuration.searchExecutableDirectory, let own = PluginDiscovery.executableDirectory {
            folders.append(own)
        }
        let discovered = PluginDiscovery.discover(in: folders, logger: logger)
        if discovered.isEmpty {
            logger.warning(
                "no plugins found: install churn-plugin-<kind> executables beside churnd or pass --plugin-path",
                metadata: ["searched": "\(folders.joined(separator: ":"))"])
        }
        let socketDirectory = try Self.makePrivateSocketDirectory()
        let supervisor = PluginSupervisor(
            discovered: discovered, socketDirectory: socketDirectory, configuration: configuration, logger: logger)
        let predictionLog: PredictionLogger? =
            configuration.logPredictions && registry.path != ":memory:"
            ? PredictionLogger(
                store: try PredictionLogStore(location: registry.location),
                spool: try PredictionLogSpool(folder: (configuration.home as NSString).appendingPathComponent("spool/prediction-log")),
                logger: logger) : nil
        let history = CustomerHistory(store: try HistoryStore(location: registry.location))
        let shadows = ShadowScorer()
        let resolver = ModelResolver(
            registry: registry, supervisor: supervisor,
            artifactCache: (configuration.home as NSString).appendingPathComponent("cache/artifacts"))
        let router = ExperimentRouter(running: try await registry.runningExperiment(model: ModelReference.defaultName))
        let serving = ModelServing(
            resolver: resolver, router: router, history: history, predictTimeout: configuration.predictTimeout,
            batching: configuration.batching, predictionLog: predictionLog, shadows: shadows, logger: logger)
        let state = DaemonState(configuration: configuration, supervisor: supervisor, serving: serving, resolver: resolver, router: router)
        let methods = DaemonHandlers(
            daemon: state, serving: serving, resolver: resolver, router: router,
            training: ModelTraining(
                resolver: resolver, history: history, runsDirectory: (configuration.home as NSString).appendingPathComponent("runs"),
                files: try ClientFiles(
                    folder: (configuration.home as NSString).appendingPathComponent("transfers"),
                    dataRoots: configuration.dataRoots, exportRoots: configuration.exportRoots),
                logger: logger))

        let server: RPCServer
        let socketFolder = (configuration.socketPath as NSString).deletingLastPathComponent
        let socketFolderExisted = FileManager.default.fileExists(atPath: socketFolder)
        do {
            server = try await RPCServer.bind(
                configuration: RPCServerConfiguration(
                    socketPath: configuration.socketPath, maximumFramePayload: configuration.maximumFramePayload,
                    socketMode: configuration.socketPermissions.mode, socketGroup: configuration.socketPermissions.group),
                methods: methods.table(), logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: socketDirectory)
            throw error
        }
        // A folder churnd made for its socket lets the socket's group through (to the socket only).
        if let group = configuration.socketPermissions.group, !socketFolderExisted {
            StatePermissions.letGroupReach(socketFolder, group: group)
        }
        logger.notice(
            "churnd listening",
            metadata: [
                "socket": "\(configuration.socketPath)", "plugins": "\(discovered.map(\.kind).joined(separator: ","))",
                "pid": "\(getpid())",
            ])

        // The daemon's services. They start together; on graceful shutdown they stop one at a
        // time from the last to the first: the server drains (every request in flight answered),
        // then the shadow scorings finish, health checks stop, the plugins stop, and the
        // prediction log writes what is queued, so every answered prediction reaches it.
        let logger = self.logger
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let predictionLog { services.append(.init(service: predictionLog)) }
        services += [
            .init(
                service: PluginService(supervisor: supervisor) {
                    do {
                        let champion = try await resolver.prepare(nil)
                        logger.notice("serving champion \(champion.version.ref) (\(champion.version.kind))")
                    } catch {
                        logger.notice("no champion served yet: \(error)")
                    }
                }),
            .init(service: PluginHealthCheckService(supervisor: supervisor)),
            .init(service: RegistryWatcher(serving: serving, interval: configuration.registryPoll, logger: logger)),
            .init(service: shadows),
            .init(
                service: RPCService(server: server, state: state, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [], logger: logger))
        try await withGracefulShutdownHandler {
            try await group.run()
        } onGracefulShutdown: {
            Task { await group.triggerGracefulShutdown() }
        }
        logger.notice("churnd stopped")
    }

    /// A fresh folder (mode 0700) for plugin sockets, short enough for socket path limits; the
    /// folders of this user's churnd processes that were killed go first (``PluginSocketFolder``).
    static func makePrivateSocketDirectory() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.count <= 60 ? $0 : nil } ?? "/tmp"
        return try PluginSocketFolder.make(base: base)
    }
}

/// Daemon-wide facts for `health`.
final class DaemonState: Sendable {
    let configuration: DaemonConfiguration
    let supervisor: PluginSupervisor
    let serving: ModelServing
    let resolver: ModelResolver
    let router: ExperimentRouter
    private let started = ContinuousClock.now
    private let draining = Atomic<Bool>(false)

    init(
        configuration: DaemonConfiguration, supervisor: PluginSupervisor, serving: ModelServing, resolver: ModelResolver,
        router: ExperimentRouter
    ) {
        self.configuration = configuration
        self.supervisor = supervisor
        self.serving = serving
        self.resolver = resolver
        self.router = router
    }

    func beginDraining() {
        draining.store(true, ordering: .relaxed)
    }

    func health() async -> HealthResult {
        // Lean: health is polled often; each plugin's description is in `plugins.list`.
        let plugins = await supervisor.statuses().map { status in
            var lean = status
            lean.description = nil
            return lean
        }
        let champion = try? await resolver.resolve(.champion())
        let registry = serving.registryHealth
        // A prediction log that cannot be written, or lost entries, degrade churnd like a plugin down.
        let logging = registry.heldLogEntries == 0 && registry.lostLogEntries == 0
        let status =
            draining.load(ordering: .relaxed)
            ? "draining" : plugins.allSatisfy({ $0.state == .ready }) && logging ? "ok" : "degraded"
        let uptime = ContinuousClock.now - started
        return HealthResult(
            status: status, daemonVersion: ChurnDaemon.version, pid: getpid(),
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            socket: configuration.socketPath, plugins: plugins, champion: champion?.ref,
            experiment: router.running, serving: Optional(serving.metrics.summary()).flatMap { $0.isEmpty ? nil : $0 },
            maxFrameBytes: configuration.maximumFramePayload, registry: registry)
    }
}
