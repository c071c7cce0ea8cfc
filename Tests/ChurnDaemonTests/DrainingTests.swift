#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRegistry
import Foundation
import Testing

/// Graceful shutdown of the real `churnd` executable: requests that arrive while it drains are
/// refused with -32003, `health` says `draining`, in-flight requests are answered, and every
/// answered prediction reaches the prediction log, also (within the flush interval) after SIGKILL.
@Suite("Draining and the prediction log", .serialized)
struct DrainingTests {
    private func loggedPredictions(_ harness: DaemonHarness) throws -> Int {
        try PredictionLogStore(path: harness.home + "/registry.sqlite").count()
    }

    @Test func whileDrainingNewRequestsAreRefusedHealthSaysDrainingAndInFlightOnesAreAnswered() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        let (daemon, client) = try await harness.launchProcessWithChampion()
        let bystander = try await harness.client()

        let slowID = harness.slowCustomerID(1500, name: "slow")
        async let slow = client.predict([testCustomer(slowID)])
        try await harness.waitUntilPluginHas("slow")
        #expect(kill(daemon.processIdentifier, SIGTERM) == 0)
        // Draining starts when the signal is handled: health says so from then on.
        try await DaemonHarness.waitUntil { try await bystander.health().status == "draining" }
        await expectDaemonError(.shuttingDown, messageContains: "drains") { () async throws(ChurnClientError) in
            try await bystander.predict([testCustomer("late")])
        }
        let answered = try await slow
        #expect(answered.first?.customerID == slowID, "the in-flight request is answered")

        try await DaemonHarness.waitForExit(daemon)
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0, "\(harness.processLog())")
        await client.close()
        await bystander.close()
    }

    @Test func aGracefulShutdownWritesEveryAnsweredPredictionToTheLog() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        let (daemon, client) = try await harness.launchProcessWithChampion()
        var answered = 0
        for batch in 0..<40 {
            answered += try await client.predict((0..<25).map { testCustomer("c\(batch)-\($0)") }).count
        }
        // At once, well inside the flush interval: only the drain can write these.
        #expect(kill(daemon.processIdentifier, SIGTERM) == 0)
        try await DaemonHarness.waitForExit(daemon)
        #expect(daemon.terminationStatus == 0, "\(harness.processLog())")
        #expect(!harness.processLog().contains("could not write"), "\(harness.processLog())")
        #expect(try loggedPredictions(harness) == answered)
        await client.close()
    }

    @Test func afterSIGKILLOnlyTheLastFlushIntervalCanBeLost() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        let (daemon, client) = try await harness.launchProcessWithChampion()
        var answered = 0
        for batch in 0..<20 {
            answered += try await client.predict((0..<10).map { testCustomer("k\(batch)-\($0)") }).count
        }
        // Older than the documented bound (one 250 ms flush interval, plus the write): durable.
        try await Task.sleep(for: .milliseconds(1000))
        #expect(kill(daemon.processIdentifier, SIGKILL) == 0)
        try await DaemonHarness.waitForExit(daemon)
        #expect(try loggedPredictions(harness) == answered)
        await client.close()
    }
}
