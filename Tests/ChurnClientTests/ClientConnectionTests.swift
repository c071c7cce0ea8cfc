import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Testing

/// A daemon that is missing, stops, or does not answer gives the caller a clear error, never a
/// hang.
@Suite("Client when the daemon is gone or silent", .timeLimit(.minutes(1)))
struct ClientConnectionTests {
    /// `health` answers; `metrics` says it has the request, then waits for `release`.
    static func methods(arrived: Latch, release: Latch) -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register(DaemonMethod.Health.self) { _, _ in fakeHealth() }
        table.register(DaemonMethod.Metrics.self) { _, _ in
            arrived.open()
            await release.wait()
            return MetricsResult(prometheus: "# late\n")
        }
        return table
    }

    @Test func connectingWhereNothingListensSaysNoDaemonAndHowToStartOne() async {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("churn-absent-\(UUID().uuidString.prefix(8)).sock").path
        let error = await failure { try await ChurnClient.connect(socketPath: path) }
        guard case .noDaemon(let socket, let reason)? = error else {
            Issue.record("expected .noDaemon, got \(String(describing: error))")
            return
        }
        #expect(socket == path)
        #expect(reason == String(cString: strerror(ENOENT)))
        #expect(error?.description.hasPrefix("no daemon at \(path) (\(reason)): start one with `churn serve`") == true)
        #expect(error?.rpcError == nil)
    }

    @Test func aCallPendingWhenTheDaemonStopsFailsSayingSoAndLaterCallsFailAtOnce() async throws {
        let arrived = Latch()
        let release = Latch()
        let daemon = try await FakeDaemon.start(Self.methods(arrived: arrived, release: release))
        let client = try await ChurnClient.connect(socketPath: daemon.path)
        #expect(try await client.health().status == "ok")

        let pending = Task { await failure { try await client.metrics() } }
        await arrived.wait()  // the daemon holds the request
        await daemon.stop()
        let error = await pending.value
        release.open()

        guard case .transport(let detail)? = error else {
            Issue.record("expected .transport, got \(String(describing: error))")
            return
        }
        #expect(detail == "the daemon closed the connection before answering metrics: see its log")
        #expect(error?.rpcError == nil)

        // The connection is gone: the next call fails at once, the same way.
        let next = await failure { try await client.health() }
        guard case .transport(let nextDetail)? = next else {
            Issue.record("expected .transport, got \(String(describing: next))")
            return
        }
        #expect(nextDetail == "the daemon closed the connection before answering health: see its log")

        // And the stopped daemon's socket is gone: a new client is told there is no daemon.
        let reconnect = await failure { try await ChurnClient.connect(socketPath: daemon.path) }
        guard case .noDaemon(let path, _)? = reconnect else {
            Issue.record("expected .noDaemon, got \(String(describing: reconnect))")
            return
        }
        #expect(path == daemon.path)
        await client.close()
    }

    @Test func aCallTheDaemonDoesNotAnswerInTimeFailsWithItsDeadlineAndTheConnectionStaysUsable() async throws {
        let arrived = Latch()
        let release = Latch()
        try await withDaemon(Self.methods(arrived: arrived, release: release)) { _, client in
            let error = await failure {
                try await client.call(DaemonMethod.Metrics.self, NoParams(), timeout: .milliseconds(200))
            }
            guard case .transport(let detail)? = error else {
                Issue.record("expected .transport, got \(String(describing: error))")
                release.open()
                return
            }
            #expect(detail == "metrics got no response within \(Duration.milliseconds(200))")
            // The late answer arrives for a call nobody waits for any more: it is dropped, and
            // the next call gets its own answer.
            await arrived.wait()
            release.open()
            let health = try await client.health()
            #expect(health == fakeHealth())
        }
    }

    @Test func aClosedClientFailsItsCallsInsteadOfWaiting() async throws {
        try await withDaemon(Self.methods(arrived: Latch(), release: Latch())) { _, client in
            await client.close()
            let error = await failure { try await client.health() }
            guard case .transport(let detail)? = error else {
                Issue.record("expected .transport, got \(String(describing: error))")
                return
            }
            #expect(detail.contains("before answering health"), "\(detail)")
        }
    }
}
