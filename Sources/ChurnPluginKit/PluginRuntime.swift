#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnProtocol
import ChurnRPC
import Foundation
import Synchronization
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Runs a plugin process: parses its command line, serves the plugin methods on the socket
/// the daemon named, logs to stderr only, and exits cleanly on `shutdown`, SIGTERM or SIGINT;
/// with `--exit-with-parent`, at once when the churnd that started it is gone (``ParentWatch``).
///
/// Command line (the daemon passes the first two):
/// ```
/// churn-plugin-<kind> --socket PATH [--exit-with-parent] [--max-frame BYTES]
/// churn-plugin-<kind> --describe        # print the handshake as JSON and exit
/// ```
public enum PluginRuntime {
    /// Serves `plugin` until shutdown, then exits the process.
    ///
    /// Socket I/O and request handling share one event-loop thread (NIO's loop is installed as
    /// the Swift concurrency executor): a one-customer request never changes threads. Training
    /// and large batches run on threads of their own (``ComputeThread``).
    public static func serve(_ plugin: some ChurnModelPlugin) async -> Never {
        NIOSingletons.groupLoopCountSuggestion = 1
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let kind = plugin.description.kind
        let options: PluginOptions
        do {
            options = try PluginOptions.parse(CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("churn-plugin-\(kind): \(error)\n".utf8))
            exit(64)
        }
        if options.describeOnly {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write((try? encoder.encode(plugin.description)) ?? Data())
            FileHandle.standardOutput.write(Data("\n".utf8))
            exit(0)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = options.logLevel
            return handler
        }
        let logger = Logger(label: "churn-plugin-\(kind)")
        do {
            try await run(plugin, options: options, logger: logger)
            logger.info("stopped")
            exit(0)
        } catch {
            logger.critical("plugin failed: \(error)")
            exit(1)
        }
    }

    /// Serves `plugin` on `options.socketPath` until shutdown; for tests and embedding.
    public static func run(_ plugin: some ChurnModelPlugin, options: PluginOptions, logger: Logger) async throws {
        let models = LoadedModels()
        let shutdown = ShutdownTrigger()
        let methods = methodTable(for: plugin, models: models, shutdown: shutdown)
        let server = try await RPCServer.bind(
            configuration: RPCServerConfiguration(
                socketPath: options.socketPath, maximumFramePayload: options.maximumFramePayload, socketMode: 0o600),
            methods: methods, logger: logger)
        if options.exitWithParent { ParentWatch.start(logger: logger) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        shutdown.set(group)
        logger.info(
            "serving",
            metadata: [
                "socket": "\(options.socketPath)", "version": "\(plugin.description.pluginVersion)",
                "protocol": "\(ChurnProtocolVersion.current)",
            ])
        try await group.run()
    }

    static func methodTable(
        for plugin: some ChurnModelPlugin, models: LoadedModels, shutdown: ShutdownTrigger
    ) -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register(PluginMethod.Describe.self) { _, _ in plugin.description }
        table.register(PluginMethod.Train.self) { params, context in
            context.logger.info("training", metadata: ["train_path": "\(params.trainPath)", "seed": "\(params.seed)"])
            if params.treatment != nil, !plugin.description.capabilities.contains("uplift") {
                throw RPCError(
                    .notSupported, "\(plugin.description.kind) cannot train uplift models (no uplift capability): use random_forest")
            }
            let stream = ProgressStream(context: context)
            let reporter = ProgressReporter { step in
                stream.send(
                    ProgressUpdate(
                        request: context.requestID ?? .number(0), stage: step.stage, step: step.step, total: step.total,
                        message: step.message, metrics: step.metrics))
            }
            let result = await Result(catching: { try await ComputeThread.run { try plugin.train(params, progress: reporter) } })
            await stream.finish()
            return try result.get()
        }
        table.register(PluginMethod.Load.self) { params, context in
            let result = try models.load(params, with: plugin)
            context.logger.info("loaded", metadata: ["model": "\(params.model)", "sha256": "\(params.sha256)"])
            return result
        }
        table.register(PluginMethod.Unload.self) { params, _ in
            models.unload(params.model)
            return NoParams()
        }
        table.register(PluginMethod.Predict.self) { params, _ in
            let model = try models.model(params.model)
            return PluginPredictResult(
                probabilities: try await ComputeThread.runIfLarge(params.count) {
                    if let batch = params.batch { return try model.predict(batch: batch) }
                    return try model.predict(params.customers)
                })
        }
        table.register(PluginMethod.Uplift.self) { params, _ in
            let model = try models.model(params.model)
            return try await ComputeThread.runIfLarge(params.count * 2) { try model.uplift(params.batch?.records ?? params.customers) }
        }
        table.register(PluginMethod.Explain.self) { params, _ in
            if let top = params.top, top < 0 {
                throw RPCError.invalidParams(field: "top", "must be 0 or more, got \(top)")
            }
            let model = try models.model(params.model)
            return PluginExplainResult(
                explanations: try await ComputeThread.runIfLarge(params.customers.count * 8) {
                    try model.explain(params.customers, top: params.top)
                })
        }
        table.register(PluginMethod.Shutdown.self) { _, context in
            context.logger.info("shutdown requested")
            shutdown.trigger()
            return NoParams()
        }
        return table
    }
}

/// The command line of a plugin process.
public struct PluginOptions: Sendable {
    public var socketPath: String
    public var maximumFramePayload: Int
    public var exitWithParent: Bool
    public var describeOnly: Bool
    public var logLevel: Logger.Level

    public init(
        socketPath: String, maximumFramePayload: Int = FrameLimits.defaultMaximumPayload, exitWithParent: Bool = false,
        describeOnly: Bool = false, logLevel: Logger.Level = .info
    ) {
        self.socketPath = socketPath
        self.maximumFramePayload = maximumFramePayload
        self.exitWithParent = exitWithParent
        self.describeOnly = describeOnly
        self.logLevel = logLevel
    }

    /// What was wrong with the command line.
    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `--socket PATH`, `--max-frame BYTES`, `--exit-with-parent`, `--describe`;
    /// `CHURN_PLUGIN_SOCKET` and `CHURN_LOG_LEVEL` from the environment.
    public static func parse(_ arguments: [String], environment: [String: String]) throws -> PluginOptions {
        var options = PluginOptions(socketPath: environment["CHURN_PLUGIN_SOCKET"] ?? "")
        if let level = environment["CHURN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) {
            options.logLevel = level
        }
        var remaining = arguments.dropFirst()
        while let argument = remaining.popFirst() {
            switch argument {
            case "--socket":
                guard let path = remaining.popFirst() else { throw UsageError(description: "--socket needs a path") }
                options.socketPath = path
            case "--max-frame":
                guard let text = remaining.popFirst(), let bytes = Int(text), bytes > 0 else {
                    throw UsageError(description: "--max-frame needs a positive number of bytes")
                }
                options.maximumFramePayload = bytes
            case "--exit-with-parent":
                options.exitWithParent = true
            case "--describe":
                options.describeOnly = true
            case "--help", "-h":
                throw UsageError(
                    description:
                        "usage: \((arguments.first as NSString?)?.lastPathComponent ?? "churn-plugin") --socket PATH [--exit-with-parent] [--max-frame BYTES] | --describe\nchurnd starts plugins itself; see Protocol/PROTOCOL.md"
                )
            default:
                throw UsageError(description: "unknown argument \(argument); try --help")
            }
        }
        if options.socketPath.isEmpty, !options.describeOnly {
            throw UsageError(description: "no socket path: pass --socket PATH (churnd does this when it starts plugins)")
        }
        return options
    }
}

/// Lets the `shutdown` method stop the service group that serves it.
final class ShutdownTrigger: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)

    func set(_ serviceGroup: ServiceGroup) { group.withLock { $0 = serviceGroup } }

    func trigger() {
        guard let serviceGroup = group.withLock({ $0 }) else { return }
        Task {
            // Let the response to `shutdown` leave first.
            try? await Task.sleep(for: .milliseconds(20))
            await serviceGroup.triggerGracefulShutdown()
        }
    }
}
