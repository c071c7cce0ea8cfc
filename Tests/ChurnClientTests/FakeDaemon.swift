import ChurnClient
import ChurnProtocol
import ChurnRPC
import Crypto
import Foundation
import Logging
import Synchronization
import Testing

/// An in-process JSON-RPC server on a temporary Unix socket, answering whatever methods the
/// test registers: a stand-in for churnd that the real client connects to.
final class FakeDaemon: Sendable {
    let path: String
    private let running: Task<Void, Never>

    private init(path: String, running: Task<Void, Never>) {
        self.path = path
        self.running = running
    }

    static func start(_ methods: RPCMethodTable) async throws -> FakeDaemon {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("churn-client-\(UUID().uuidString.prefix(8)).sock").path
        var logger = Logger(label: "fake-churnd")
        logger.logLevel = .critical
        let server = try await RPCServer.bind(
            configuration: RPCServerConfiguration(socketPath: path, socketMode: 0o600), methods: methods, logger: logger)
        return FakeDaemon(path: path, running: Task { try? await server.run() })
    }

    /// Stops at once, as a daemon that dies does: every connection closes whatever is in flight,
    /// and the socket file is gone when this returns.
    func stop() async {
        running.cancel()
        await running.value
    }
}

/// Runs `body` with a fake daemon serving `methods` and a client connected to it; closes both.
func withDaemon(
    _ methods: RPCMethodTable, _ body: (FakeDaemon, ChurnClient) async throws -> Void
) async throws {
    let daemon = try await FakeDaemon.start(methods)
    let client: ChurnClient
    do {
        client = try await ChurnClient.connect(socketPath: daemon.path)
    } catch {
        await daemon.stop()
        throw error
    }
    do {
        try await body(daemon, client)
    } catch {
        await client.close()
        await daemon.stop()
        throw error
    }
    await client.close()
    await daemon.stop()
}

/// A gate tasks wait at until it opens (then it stays open): ordering without sleeps.
final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// Values seen by a handler or a callback, in order.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}

func sha256Hex(_ bytes: Data) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

/// The `health` answer of the fake daemon; `maxFrameBytes` sizes the client's file pieces.
func fakeHealth(maxFrameBytes: Int? = nil) -> HealthResult {
    HealthResult(
        status: "ok", daemonVersion: "9.9.9-test", pid: 4242, uptimeSeconds: 12.5, socket: "/run/churn/fake.sock",
        plugins: [], champion: ModelRef(name: "churn", version: 3), maxFrameBytes: maxFrameBytes)
}

/// A registered version as the fake daemon reports a training.
func fakeVersion(version: Int, params: [String: JSONValue] = [:]) -> ModelVersionInfo {
    ModelVersionInfo(
        name: "churn", version: version, kind: "echo", pluginVersion: "0.0.1", protocolVersion: ChurnProtocolVersion.current,
        createdAt: "2026-01-02T03:04:05Z", createdBy: "tester", params: params, metrics: ["test_roc_auc": 0.81], aliases: [],
        artifact: ArtifactInfo(sha256: String(repeating: "0", count: 64), rawBytes: 10, compressedBytes: 8), trainingData: nil,
        notes: nil, tags: [])
}

/// What a failed client call threw, for tests that expect one: nil when it succeeded (or threw
/// something other than a ``ChurnClientError``, recorded as an issue).
func failure<T>(
    _ call: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> ChurnClientError? {
    do {
        _ = try await call()
        return nil
    } catch let error as ChurnClientError {
        return error
    } catch {
        Issue.record("expected a ChurnClientError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
