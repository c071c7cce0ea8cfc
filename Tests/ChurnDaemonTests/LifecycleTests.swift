#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Testing

/// The real `churnd` executable: socket ownership, permissions, signals, draining.
@Suite("churnd process lifecycle", .serialized)
struct LifecycleTests {
    @Test func sigtermDrainsInFlightRequestsStopsPluginsAndRemovesTheSocket() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let daemon = try harness.launchProcess()
        try await harness.waitUntilLive()

        var status = stat()
        #expect(stat(harness.socketPath, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o660, "socket mode is \(String(status.st_mode & 0o777, radix: 8))")

        let client = try await harness.client()
        var pluginPID: Int32?
        for _ in 0..<200 {
            if let plugin = try await client.plugins().first, plugin.state == "ready" {
                pluginPID = plugin.pid
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        let plugin = try #require(pluginPID)
        _ = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV()))
        _ = try await client.promote("1")

        let slowID = harness.slowCustomerID(1000, name: "slow")
        async let inFlight = client.predict([testCustomer(slowID)])
        try await harness.waitUntilPluginHas("slow")
        #expect(kill(daemon.processIdentifier, SIGTERM) == 0)
        let answer = try await inFlight
        #expect(answer.first?.customerID == slowID, "the in-flight request must be answered before shutdown")

        try await DaemonHarness.waitForExit(daemon)
        #expect(!daemon.isRunning)
        #expect(daemon.terminationStatus == 0 && daemon.terminationReason == .exit, "\(harness.processLog(0))")
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath), "churnd must remove its socket")
        #expect(kill(plugin, 0) != 0, "the plugin must be stopped with the daemon")
        await client.close()
        try? FileManager.default.removeItem(atPath: harness.root)
    }

    @Test func aSecondDaemonRefusesALiveSocketAndAStaleOneIsReplaced() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        // A stale socket file: bound by a process that is gone.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = UnixSocketFile.socketAddress(harness.socketPath)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: harness.socketPath))
        #expect(!UnixSocketFile.isLive(harness.socketPath))

        let first = try harness.launchProcess()
        try await harness.waitUntilLive()

        let second = try harness.launchProcess(index: 1)
        try await DaemonHarness.waitForExit(second)
        #expect(!second.isRunning && second.terminationStatus != 0)
        #expect(harness.processLog(1).contains("already serving"), "\(harness.processLog(1))")
        #expect(UnixSocketFile.isLive(harness.socketPath), "the refused daemon must not disturb the live one")

        kill(first.processIdentifier, SIGTERM)
        try await DaemonHarness.waitForExit(first)
        #expect(first.terminationStatus == 0 && first.terminationReason == .exit, "\(harness.processLog(0))")
        try? FileManager.default.removeItem(atPath: harness.root)
    }
}
