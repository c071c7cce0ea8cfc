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
import Logging
import Synchronization

/// One plugin executable under supervision: started as a child process on its own socket,
/// checked by handshake and health checks, restarted with exponential backoff when it dies,
/// refused when it speaks another protocol or cannot start at all, stopped cleanly.
///
/// Models the daemon asked it to load are loaded again after every restart.
public actor PluginProcess {
    public nonisolated let kind: String
    public nonisolated let executable: String
    nonisolated let socketPath: String
    private let policy: PluginPolicy
    private let maximumFramePayload: Int
    private let logLevel: Logger.Level
    private let logger: Logger

    /// Why a plugin is refused, and the error code requests for it get.
    struct Refusal: Equatable, Sendable {
        var reason: String
        /// -32004 for a plugin that speaks another protocol version, else -32000.
        var code: RPCErrorCode
    }

    /// Where the process is in its life; every transition goes through it.
    private var machine: StateMachine {
        didSet { if oldValue.state != machine.state { publishServing() } }
    }
    private var state: StateMachine.State { machine.state }
    private var process: Process?
    private var connection: RPCConnection? { didSet { publishServing() } }
    private var handshake: PluginDescription?
    private var lastError: String?
    private let output: OutputTail
    private var waiters: [Int: CheckedContinuation<RPCConnection, any Error>] = [:]
    private var nextWaiter = 0
    /// Models that should be loaded, by handle: reloaded after a restart.
    private var wanted: [String: PluginLoadParams] = [:]
    /// Models loaded in the current process.
    private var loaded: Set<String> = [] { didSet { publishServing() } }
    /// What the predict hot path needs (the connection, when ready, and the loaded models),
    /// readable without hopping onto the actor; kept equal to the isolated state by `didSet`.
    private nonisolated let serving = Mutex<(connection: RPCConnection?, loaded: Set<String>)>((nil, []))
    /// The capabilities of the plugin's last handshake.
    private nonisolated let capabilities = Mutex<Set<String>>([])
    private var loading: [String: Task<Void, any Error>] = [:]

    init(
        plugin: DiscoveredPlugin, socketPath: String, policy: PluginPolicy, maximumFramePayload: Int,
        logLevel: Logger.Level, logger: Logger
    ) {
        self.kind = plugin.kind
        self.executable = plugin.executable
        self.socketPath = socketPath
        self.policy = policy
        self.machine = StateMachine(policy: policy)
        self.maximumFramePayload = maximumFramePayload
        self.logLevel = logLevel
        var logger = logger
        logger[metadataKey: "plugin"] = "\(plugin.kind)"
        self.logger = logger
        self.output = OutputTail(logger: logger)
    }

    // MARK: Status

    /// The plugin as `plugins.list` shows it.
    public func status() -> PluginStatus {
        let reason: String? = if case .refused(let why) = state { why.reason } else { lastError }
        return PluginStatus(
            kind: kind, executable: executable, state: machine.stateName,
            pid: process?.isRunning == true ? process?.processIdentifier : nil, description: handshake,
            restarts: machine.restarts, lastError: reason)
    }

    /// True when it answered its handshake and is serving.
    public var isReady: Bool { state == .ready }

    /// The handshake answer, once there was one.
    public var pluginDescription: PluginDescription? { handshake }

    // MARK: Lifecycle

    /// Starts the process and completes when it is ready, refused, or waiting to retry.
    public func start() async {
        guard let current = machine.start() else { return }
        loaded = []
        do {
            let launched = try launch(incarnation: current)
            let connection = try await connect(to: launched, incarnation: current)
            let description = try await handshake(over: connection)
            guard machine.handshakeAnswered(incarnation: current) else {
                await connection.close()
                return
            }
            self.connection = connection
            self.handshake = description
            capabilities.withLock { $0 = Set(description.capabilities) }
            connection.closeFuture.whenComplete { _ in
                Task { await self.connectionClosed(incarnation: current) }
            }
            try await reloadWantedModels(over: connection)
            guard machine.becameReady(incarnation: current) else { return }
            logger.info(
                "plugin ready",
                metadata: [
                    "pid": "\(launched.processIdentifier)", "version": "\(description.pluginVersion)",
                    "capabilities": "\(description.capabilities.joined(separator: ","))",
                ])
            resumeWaiters(with: .success(connection))
        } catch let refusal as HandshakeRefusal {
            // Keep what it said about itself: plugins.list shows why it does not fit.
            if let description = refusal.handshake { handshake = description }
            refuse(Refusal(reason: refusal.reason, code: refusal.code))
        } catch {
            failed(incarnation: current, reason: "\(error)")
        }
    }

    /// Asks the plugin to shut down, then escalates to SIGTERM and SIGKILL; removes its socket.
    public func stop() async {
        machine.beginStop()
        let process = self.process
        if let connection, state == .ready {
            _ = try? await connection.call(PluginMethod.Shutdown.self, NoParams(), timeout: .seconds(2))
        }
        await connection?.close()
        connection = nil
        if let process {
            await Self.waitForExit(process, upTo: policy.stopGracePeriod)
            if process.isRunning {
                logger.warning("plugin did not exit after shutdown; sending SIGTERM")
                kill(process.processIdentifier, SIGTERM)
                await Self.waitForExit(process, upTo: .seconds(2))
            }
            if process.isRunning {
                logger.warning("plugin ignored SIGTERM; sending SIGKILL")
                kill(process.processIdentifier, SIGKILL)
                await Self.waitForExit(process, upTo: .seconds(2))
            }
        }
        machine.stopped()
        UnixSocketFile.remove(socketPath)
        resumeWaiters(with: .failure(RPCError(.shuttingDown, "plugin \(kind) is stopping")))
    }

    /// Calls `describe` and kills the plugin when it does not answer in time.
    func healthCheck() async {
        guard state == .ready, let connection else { return }
        do {
            _ = try await connection.call(PluginMethod.Describe.self, NoParams(), timeout: policy.healthCheckTimeout)
            machine.healthCheckPassed()
        } catch {
            guard state == .ready, connection === self.connection else { return }
            logger.error("plugin failed its health check (\(error)); killing it to restart")
            lastError = "failed a health check: \(error)"
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    // MARK: Serving

    /// The connection to the ready plugin, waiting up to the policy's readiness wait while it restarts.
    func readyConnection() async throws -> RPCConnection {
        switch machine.readiness {
        case .ready:
            // A connection that already closed means the process is dying: wait for its successor.
            if let connection, connection.isActive { return connection }
        case .refused(let refusal):
            throw refusal.error(kind: kind)
        case .stopped:
            throw RPCError(.pluginUnavailable, "plugin \(kind) is stopped", data: ["kind": .string(kind)])
        case .wait:
            break
        }
        let id = nextWaiter
        nextWaiter += 1
        let wait = policy.readinessWait
        let kind = self.kind
        Task {
            try? await Task.sleep(for: wait)
            self.expireWaiter(
                id,
                error: RPCError(
                    .pluginUnavailable, "plugin \(kind) did not become ready within \(wait): see plugins.list",
                    data: ["kind": .string(kind)]))
        }
        return try await withCheckedThrowingContinuation { waiters[id] = $0 }
    }

    /// The connection, when the plugin is ready and has `handle` loaded: the hot path of
    /// predict, answered without a hop onto the actor.
    /// Whether the running plugin's handshake lists `capability` (`columnar`: it takes batches
    /// by column), readable without hopping onto the actor.
    nonisolated func supports(_ capability: String) -> Bool {
        capabilities.withLock { $0.contains(capability) }
    }

    nonisolated func connectionIfLoaded(_ handle: String) -> RPCConnection? {
        serving.withLock { $0.loaded.contains(handle) && $0.connection?.isActive == true ? $0.connection : nil }
    }

    private func publishServing() {
        let ready = state == .ready
        serving.withLock { $0 = ready ? (connection, loaded) : (nil, []) }
    }

    /// The connection to send model `handle`'s calls over: the one place that decides it. While
    /// the model is loaded in the running process, its connection, read without a hop onto this
    /// actor; after a restart, the new process's, with the model loaded in it again.
    nonisolated func connection(for handle: String) async throws -> RPCConnection {
        if let loaded = connectionIfLoaded(handle) { return loaded }
        return try await reloadedConnection(for: handle)
    }

    private func reloadedConnection(for handle: String) async throws -> RPCConnection {
        if let params = wanted[handle] { return try await connection(loading: params) }
        return try await readyConnection()
    }

    /// The connection, with the model `params.model` loaded in the current process.
    func connection(loading params: PluginLoadParams) async throws -> RPCConnection {
        wanted[params.model] = params
        let connection = try await readyConnection()
        if loaded.contains(params.model) { return connection }
        if let inFlight = loading[params.model] {
            try await inFlight.value
            return connection
        }
        let timeout = policy.startTimeout
        let task = Task {
            _ = try await self.call(PluginMethod.Load.self, params, over: connection, timeout: timeout)
        }
        loading[params.model] = task
        defer { loading[params.model] = nil }
        try await task.value
        if connection === self.connection { loaded.insert(params.model) }
        return connection
    }

    /// Forgets a model in the plugin and stops reloading it after restarts.
    func unload(_ handle: String) async {
        wanted[handle] = nil
        guard loaded.remove(handle) != nil, let connection else { return }
        _ = try? await connection.call(PluginMethod.Unload.self, PluginUnloadParams(model: handle), timeout: .seconds(5))
    }

    /// Calls a plugin method, turning transport failures into errors a client can act on.
    nonisolated func call<M: RPCMethod>(
        _ method: M.Type, _ params: M.Params, over connection: RPCConnection, timeout: Duration?,
        onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws -> M.Result {
        try await mapErrors(method) {
            try await connection.call(method, params, timeout: timeout, onProgress: onProgress)
        }
    }

    private nonisolated func mapErrors<M: RPCMethod>(
        _ method: M.Type, _ body: @Sendable () async throws -> M.Result
    ) async throws -> M.Result {
        do {
            return try await body()
        } catch let error as RPCConnectionError {
            switch error {
            case .remote(let remote):
                throw remote
            case .closed:
                let reason = await lastFailure() ?? "its connection closed"
                throw RPCError(
                    .pluginCrashed,
                    "plugin \(kind) stopped while handling \(M.name) (\(reason)); it is being restarted: retry the request",
                    data: ["kind": .string(kind)])
            case .timedOut(_, let after):
                throw RPCError(
                    .timeout, "plugin \(kind) did not answer \(M.name) within \(after)", data: ["kind": .string(kind)])
            case .requestTooLarge(let bytes, let maximum):
                throw RPCError(
                    .invalidParams,
                    "the request to plugin \(kind) would be \(bytes) bytes, over the \(maximum)-byte frame limit: send fewer customers per call")
            case .invalidResponse(_, let reason):
                throw RPCError(
                    .internalError, "plugin \(kind) sent an invalid response to \(M.name): \(reason)",
                    data: ["kind": .string(kind)])
            case .cannotConnect(_, let reason):
                throw RPCError(
                    .pluginUnavailable, "cannot reach plugin \(kind): \(reason)", data: ["kind": .string(kind)])
            }
        }
    }

    private func lastFailure() async -> String? {
        // The exit status arrives a moment after the socket closes.
        for _ in 0..<20 where process?.isRunning == true {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return lastError
    }

    // MARK: Process events

    private func launch(incarnation: Int) throws -> Process {
        UnixSocketFile.remove(socketPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--socket", socketPath, "--exit-with-parent", "--max-frame", String(maximumFramePayload),
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["CHURN_LOG_LEVEL"] = logLevel.rawValue
        environment.removeValue(forKey: "CHURN_PLUGIN_SOCKET")
        process.environment = environment
        do {
            try PluginPipes.run(process, output: output) { finished in
                let status = finished.terminationStatus
                let signalled = finished.terminationReason == .uncaughtSignal
                Task { await self.processExited(incarnation: incarnation, status: status, signalled: signalled) }
            }
        } catch let error as PluginPipes.PipeError {
            throw HandshakeFailure("cannot start \(executable): \(error)")
        } catch {
            throw HandshakeFailure("cannot run \(executable): \(error.localizedDescription)")
        }
        self.process = process
        logger.debug("plugin launched", metadata: ["pid": "\(process.processIdentifier)"])
        return process
    }

    private func connect(to process: Process, incarnation: Int) async throws -> RPCConnection {
        let deadline = ContinuousClock.now + policy.startTimeout
        var delay = Duration.milliseconds(5)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw HandshakeFailure("exited before listening on its socket")
            }
            guard machine.handshakeAnswered(incarnation: incarnation) else { throw CancellationError() }
            if let connection = try? await RPCConnection.connect(
                to: socketPath, maximumFramePayload: maximumFramePayload)
            {
                return connection
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(100))
        }
        throw HandshakeFailure("did not listen on \(socketPath) within \(policy.startTimeout)")
    }

    private func handshake(over connection: RPCConnection) async throws -> PluginDescription {
        let description: PluginDescription
        do {
            description = try await connection.call(
                PluginMethod.Describe.self, NoParams(), timeout: policy.startTimeout)
        } catch {
            await connection.close()
            throw HandshakeRefusal("its describe answer is not a valid handshake: \(error)")
        }
        guard description.protocolVersion == ChurnProtocolVersion.current else {
            await connection.close()
            throw HandshakeRefusal(
                "it speaks protocol version \(description.protocolVersion), churnd speaks \(ChurnProtocolVersion.current)",
                code: .protocolMismatch, description: description)
        }
        guard description.kind == kind else {
            await connection.close()
            throw HandshakeRefusal(
                "its executable name says kind \(kind) but it describes itself as \(description.kind)",
                description: description)
        }
        return description
    }

    private func reloadWantedModels(over connection: RPCConnection) async throws {
        for params in wanted.values.sorted(by: { $0.model < $1.model }) {
            do {
                _ = try await connection.call(PluginMethod.Load.self, params, timeout: policy.startTimeout)
                loaded.insert(params.model)
                logger.info("model reloaded after restart", metadata: ["model": "\(params.model)"])
            } catch {
                logger.error("could not reload model \(params.model) after restart: \(error)")
            }
        }
    }

    private func processExited(incarnation: Int, status: Int32, signalled: Bool) {
        let how = signalled ? "killed by signal \(status)" : "exited with status \(status)"
        let tail = output.tail()
        lastError = tail.isEmpty ? how : "\(how); last output: \(tail.joined(separator: " | "))"
        switch machine.exited(incarnation: incarnation) {
        case .ignore:
            if incarnation == machine.incarnation { connection = nil }
        case .stopped:
            connection = nil
            logger.info("plugin stopped (\(how))")
        case .failure:
            connection = nil
            logger.error("plugin \(how)")
            failed(incarnation: incarnation, reason: how)
        }
    }

    private func connectionClosed(incarnation: Int) {
        guard machine.connectionClosed(incarnation: incarnation) else { return }
        // The process usually exits at the same moment; give its exit handler the first word.
        Task {
            try? await Task.sleep(for: .milliseconds(200))
            self.closeWithoutExit(incarnation: incarnation)
        }
    }

    private func closeWithoutExit(incarnation: Int) {
        guard machine.connectionClosed(incarnation: incarnation), let process, process.isRunning else { return }
        logger.error("plugin closed its socket but is still running; killing it to restart")
        kill(process.processIdentifier, SIGKILL)
    }

    private func failed(incarnation: Int, reason: String) {
        let action = machine.failed(incarnation: incarnation)
        guard action != .ignore else { return }
        connection = nil
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if lastError == nil || !(lastError?.contains(reason) ?? false) { lastError = reason }
        switch action {
        case .ignore:
            return
        case .refuse(let failures):
            refuse(Refusal(reason: "failed to start \(failures) times in a row (last: \(lastError ?? reason))", code: .pluginUnavailable))
        case .restart(let delay, let failures):
            logger.warning("restarting plugin in \(delay) (failure \(failures) in a row): \(reason)")
            Task {
                try? await Task.sleep(for: delay)
                await self.restart(after: incarnation)
            }
        }
    }

    private func restart(after incarnation: Int) async {
        guard machine.restartDue(incarnation: incarnation) else { return }
        await start()
    }

    private func refuse(_ refusal: Refusal) {
        machine.refuse(refusal)
        logger.error("plugin refused: \(refusal.reason)", metadata: ["executable": "\(executable)"])
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        connection = nil
        resumeWaiters(with: .failure(refusal.error(kind: kind)))
    }

    private func resumeWaiters(with result: Result<RPCConnection, any Error>) {
        let pending = waiters
        waiters.removeAll()
        for waiter in pending.values { waiter.resume(with: result) }
    }

    private func expireWaiter(_ id: Int, error: any Error) {
        waiters.removeValue(forKey: id)?.resume(throwing: error)
    }

    private static func waitForExit(_ process: Process, upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A start that failed in a way worth retrying.
struct HandshakeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A plugin that must not be used: restarting it would not help.
struct HandshakeRefusal: Error, CustomStringConvertible {
    let reason: String
    let code: RPCErrorCode
    /// Its handshake answer, when it gave one.
    let handshake: PluginDescription?

    init(_ reason: String, code: RPCErrorCode = .pluginUnavailable, description: PluginDescription? = nil) {
        self.reason = reason
        self.code = code
        self.handshake = description
    }

    var description: String { reason }
}

extension PluginProcess.Refusal {
    /// The error a request for the refused plugin gets.
    func error(kind: String) -> RPCError {
        RPCError(code, "plugin \(kind) is refused: \(reason)", data: ["kind": .string(kind)])
    }
}

/// The pipes of plugin processes. A plugin's standard input is churnd's link to it: churnd holds
/// the write end open for as long as the plugin runs and never writes to it, so the plugin reads
/// end of file exactly when churnd is gone (PROTOCOL.md, "Plugin methods").
///
/// Every descriptor is closed once churnd is done with it: the child's ends right after the
/// spawn, the link when the plugin exits, the output's read ends at end of file (``OutputTail``).
/// And none reaches another plugin: each end is close-on-exec, set while no other plugin is being
/// started (Foundation's `Pipe` is not close-on-exec, and a plugin started at that moment from
/// another thread would inherit it: a plugin holding another's link would keep it open after
/// churnd died).
enum PluginPipes {
    /// Why a pipe could not be made (`EMFILE`: churnd has too many files open).
    struct PipeError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { "cannot create a pipe: \(String(cString: strerror(code)))" }
    }

    /// Plugins start one at a time, so none inherits the pipes of another being made.
    private static let spawning = Mutex<Void>(())

    /// Starts `process` with fresh pipes as its standard input, output and error, its output
    /// going to `output`; `exited` runs when it exits (after the link is closed).
    static func run(
        _ process: Process, output tail: OutputTail, exited: @escaping @Sendable (Process) -> Void
    ) throws {
        try spawning.withLock { _ in
            let input = try pipe()
            let output: (reading: FileHandle, writing: FileHandle)
            let errors: (reading: FileHandle, writing: FileHandle)
            do {
                output = try pipe()
                errors = try pipe()
            } catch {
                try? input.reading.close()
                try? input.writing.close()
                throw error
            }
            process.standardInput = input.reading
            process.standardOutput = output.writing
            process.standardError = errors.writing
            let link = input.writing
            process.terminationHandler = { finished in
                // The plugin is gone: so is the reason to hold its standard input open.
                try? link.close()
                exited(finished)
            }
            // The child has its own copies of these (or, when the spawn failed, needs none).
            defer {
                for end in [input.reading, output.writing, errors.writing] { try? end.close() }
            }
            do {
                try process.run()
            } catch {
                for end in [input.writing, output.reading, errors.reading] { try? end.close() }
                throw error
            }
            tail.follow(output.reading, stream: "stdout")
            tail.follow(errors.reading, stream: "stderr")
        }
    }

    /// A pipe whose ends are close-on-exec and close their descriptors when released.
    private static func pipe() throws(PipeError) -> (reading: FileHandle, writing: FileHandle) {
        var descriptors: [Int32] = [-1, -1]
        guard Glibc.pipe(&descriptors) == 0 else { throw PipeError(code: errno) }
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        return (
            FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true),
            FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
        )
    }
}

/// Forwards a plugin's stdout and stderr lines into the daemon's log (never into any socket),
/// keeping the last few for error messages.
final class OutputTail: Sendable {
    private let logger: Logger
    private let lines = Mutex<[String]>([])
    private let partial = Mutex<[String: String]>([:])
    private static let kept = 8

    init(logger: Logger) {
        self.logger = logger
    }

    /// Reads `handle` (a plugin's stdout or stderr) until end of file on a thread of its own,
    /// then closes it.
    ///
    /// A blocking read per pipe, not `FileHandle.readabilityHandler`: with that, closing the
    /// descriptor at end of file raced libdispatch's removal of its event source, and the
    /// daemon crashed in `_dispatch_event_loop_drain` when a plugin exited (seen in the suite).
    func follow(_ handle: FileHandle, stream: String) {
        let reader = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                consume(String(decoding: buffer[0..<count], as: UTF8.self), stream: stream)
            }
            try? handle.close()
        }
        reader.name = "plugin-\(stream)"
        reader.start()
    }

    private func consume(_ text: String, stream: String) {
        let complete: [Substring] = partial.withLock { buffers in
            let joined = (buffers[stream] ?? "") + text
            var parts = joined.split(separator: "\n", omittingEmptySubsequences: false)
            buffers[stream] = String(parts.removeLast())
            return parts
        }
        for line in complete where !line.isEmpty {
            logger.info("\(line)", metadata: ["stream": "\(stream)"])
            lines.withLock {
                $0.append(String(line.suffix(300)))
                if $0.count > Self.kept { $0.removeFirst($0.count - Self.kept) }
            }
        }
    }

    /// The last lines the plugin printed (at most 3 for messages).
    func tail() -> [String] {
        lines.withLock { Array($0.suffix(3)) }
    }
}
