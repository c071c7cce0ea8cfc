import ChurnClient
import ChurnProtocol
import ChurnRegistry
import ChurnTestSupport
import Foundation
import Synchronization
import Testing

@testable import ChurnDaemon

/// Two daemons on one PostgreSQL registry (two daemons, two sockets, one database), and one
/// daemon through a PostgreSQL outage under load.
@Suite(
    "Shared PostgreSQL registry", .serialized,
    .disabled(if: TestRegistry.postgresURL == nil, Comment(rawValue: TestRegistry.postgresMissing)))
struct SharedRegistryTests {
    /// Polls `condition` until it holds (or `limit` passes); returns how long it took.
    private func waitFor(_ limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Duration {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the condition did not hold within \(limit)")
        return limit
    }

    /// A fresh database on the test server whose statements fail after `timeout` without an answer.
    private func freshLocation(answeringWithin timeout: Duration) throws -> RegistryLocation {
        guard case .postgres(var address) = try TestRegistry.postgres.freshLocation() else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "not a PostgreSQL location"])
        }
        address.answerTimeout = timeout
        return .postgres(address)
    }

    /// Whether the daemon's prediction log spool holds a batch.
    private func spoolHoldsABatch(_ harness: DaemonHarness) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: harness.home + "/spool/prediction-log")) ?? []).contains {
            $0.hasSuffix(".spool")
        }
    }

    @Test func aPromoteOnOneHostReachesTheOtherAndBothLogIntoOneExperiment() async throws {
        let location = try TestRegistry.postgres.freshLocation()
        // Two daemons, two sockets: this process runs one, the real churnd executable the other.
        let first = try DaemonHarness(kinds: ["echo"], registry: location)
        let second = try DaemonHarness(kinds: ["echo"], registry: location)
        try await first.start()
        let secondProcess = try second.launchProcess()
        try await second.waitUntilLive()
        try await second.waitUntilPluginsSettle()
        let a = try await first.client()
        let b = try await second.client()
        let data = try first.writeTrainingCSV()
        _ = try await a.train(TrainParams(kind: "echo", data: data))
        _ = try await a.train(TrainParams(kind: "echo", data: data, params: ["smoothing": 20]))
        _ = try await a.promote("1")
        let customers = (0..<50).map { testCustomer("h\($0)", tenure: Double($0), charges: Double(20 + $0)) }
        _ = try await waitFor { (try? await b.predict([customers[0]]).first?.model.version) == 1 }

        // A promotes; B serves the new champion within the bound (NOTIFY, else a 200 ms poll).
        _ = try await a.promote("2")
        let took = try await waitFor { try await b.predict([customers[0]]).first?.model.version == 2 }
        #expect(took < .seconds(2), "B followed the promote in \(took)")
        #expect(try await b.models().first { $0.version == 2 }?.aliases == ["champion"])

        // A starts a shadow experiment; B follows it; both hosts' predictions land in one report.
        _ = try await a.startExperiment(challenger: "1", mode: "shadow")
        _ = try await waitFor { try await b.health().experiment?.mode == "shadow" }
        let fromA = try await a.predict(Array(customers[0..<25]))
        let fromB = try await b.predict(Array(customers[25..<50]))
        #expect((fromA + fromB).allSatisfy { $0.model.version == 2 && $0.arm == "champion" })
        _ = try await a.feedback(customers.enumerated().map { Outcome(customerID: "h\($0.offset)", churned: $0.offset % 3 == 0) })
        _ = try await waitFor {
            let report = try await a.experimentReport()
            return report.arms.count == 2 && report.arms.allSatisfy { $0.predictions == 50 && $0.outcomes == 50 }
        }
        let report = try await b.experimentReport()
        #expect(report.arms.map(\.predictions) == [50, 50], "\(report.arms); the second host's log: \(second.processLog())")
        #expect(report.paired?.customers == 50)
        await a.close()
        await b.close()
        try await first.stop()
        secondProcess.terminate()
        secondProcess.waitUntilExit()
        #expect(secondProcess.terminationStatus == 0, "\(second.processLog())")
        try? FileManager.default.removeItem(atPath: second.root)
    }

    @Test func predictionsContinueAndNoLogEntryIsLostWhilePostgreSQLIsDown() async throws {
        // A statement caught by the outage fails within 5 s whatever happens to its connection.
        let location = try freshLocation(answeringWithin: .seconds(5))
        let harness = try DaemonHarness(kinds: ["echo"], registry: location)
        try await harness.startWithChampion()
        final class Tally: Sendable {
            let answered = Atomic<Int>(0)
            let failed = Atomic<Int>(0)
            let spooledDuringOutage = Atomic<Bool>(false)
            let reportedWaiting = Atomic<Int>(0)
        }
        let tally = Tally()
        let deadline = ContinuousClock.now + .seconds(5)
        // 16 clients of single-row predicts; PostgreSQL goes down after 1 s and comes back 2 s later.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for clientIndex in 0..<16 {
                group.addTask {
                    let client = try await harness.client()
                    var index = 0
                    while ContinuousClock.now < deadline {
                        do {
                            _ = try await client.predict([testCustomer("load-\(clientIndex)-\(index)")])
                            tally.answered.add(1, ordering: .relaxed)
                        } catch {
                            tally.failed.add(1, ordering: .relaxed)
                        }
                        index += 1
                    }
                    await client.close()
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                try PostgresTestServer.pause()
                defer { try? PostgresTestServer.resume() }
                try await Task.sleep(for: .seconds(2))
                // Meanwhile the log goes to the local spool (within a few flushes on a busy machine).
                let outage = ContinuousClock.now
                while ContinuousClock.now - outage < .seconds(15) {
                    if spoolHoldsABatch(harness) {
                        tally.spooledDuringOutage.store(true, ordering: .relaxed)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let observer = try await harness.client()
                tally.reportedWaiting.store(try await observer.health().registry?.spooledLogEntries ?? 0, ordering: .relaxed)
                await observer.close()
            }
            try await group.waitForAll()
        }
        #expect(tally.failed.load(ordering: .relaxed) == 0, "predictions continued while PostgreSQL was down")
        let total = tally.answered.load(ordering: .relaxed)
        #expect(total > 1_000)
        let spooled = tally.spooledDuringOutage.load(ordering: .relaxed)
        #expect(spooled, "the outage happened and the log was buffered on disk")
        let waiting = tally.reportedWaiting.load(ordering: .relaxed)
        #expect(waiting > 0, "health said how many entries waited")
        // Every answered prediction reaches the registry once it is back: the spool replays.
        let log = try PredictionLogStore(location: location)
        _ = try await waitFor(.seconds(20)) { try log.count() >= total }
        #expect(try log.count() == total, "zero lost log entries")
        let after = try await harness.client()
        let registry = try #require(try await after.health().registry)
        #expect(registry.engine == "postgresql" && registry.spooledLogEntries == 0)
        await after.close()
        let spool = harness.home + "/spool/prediction-log"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).isEmpty, "the spool is empty again")
        try await harness.stop()
    }

    @Test func aServerThatStopsAnsweringFailsStatementsWithinTheTimeoutAndTheLogIsSpooledThenReplayed() async throws {
        let location = try freshLocation(answeringWithin: .seconds(2))
        let harness = try DaemonHarness(kinds: ["echo"], registry: location)
        try await harness.startWithChampion()
        let client = try await harness.client()
        _ = try await client.predict([testCustomer("before")])

        let log = try PredictionLogStore(location: location)
        _ = try log.count()

        // The server freezes: connections stay open, nothing answers (a dropped network).
        try PostgresTestServer.freeze()
        var frozen = true
        defer { if frozen { try? PostgresTestServer.thaw() } }
        let start = ContinuousClock.now
        let failure = #expect(throws: StorageFailure.self, "a statement fails rather than waiting forever") { try log.count() }
        #expect(failure?.isUnavailable == true, "\(String(describing: failure))")
        let took = ContinuousClock.now - start
        #expect(took >= .seconds(2) && took < .seconds(4), "failed at the 2 s timeout, after \(took)")
        // Predictions go on from what this host last resolved: at most the first one waits for
        // the registry's timeout (each waited before: 20 took 80 s).
        var answered = 0
        let predicting = ContinuousClock.now
        for index in 0..<20 {
            _ = try await client.predict([testCustomer("frozen-\(index)")])
            answered += 1
        }
        let predicted = ContinuousClock.now - predicting
        #expect(predicted < .seconds(20), "20 predictions while frozen took \(predicted)")
        _ = try await waitFor(.seconds(20)) { spoolHoldsABatch(harness) }
        try PostgresTestServer.thaw()
        frozen = false

        // Once the server answers again, every answered prediction is in the registry.
        let after = try PredictionLogStore(location: location)
        _ = try await waitFor(.seconds(20)) { (try? after.count()) == answered + 1 }
        #expect(try after.count() == answered + 1, "zero lost log entries")
        await client.close()
        try await harness.stop()
    }

    @Test func aPanelModelScoresWithoutStoredMonthsWhilePostgreSQLIsDownAndSaysSo() async throws {
        let fixture = try PanelFixture(customers: 800, seed: 43)
        defer { fixture.remove() }
        let location = try TestRegistry.postgres.freshLocation()
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"], registry: location)
        try await harness.start()
        let client = try await harness.client()
        _ = try await client.train(
            TrainParams(kind: "random_forest", data: fixture.customersPath, history: fixture.fullHistoryPath, params: ["n_trees": 20], seed: 1))
        _ = try await client.promote("1")
        let known = fixture.generated.dataset.customers.ids.filter { fixture.generated.panel.histories[$0] != nil }.prefix(5)
        let records = known.map { id in fixture.generated.dataset.record(at: fixture.generated.dataset.customers.ids.firstIndex(of: id)!) }
        #expect(try await client.predict(records).allSatisfy { $0.history == .stored })
        try PostgresTestServer.pause()
        let during = await Result { try await client.predict(records) }
        try PostgresTestServer.resume()
        let answers = try during.get()
        #expect(answers.count == 5 && answers.allSatisfy { $0.history == .noMonths }, "served without the stored months, and said so")
        _ = try await waitFor { (try? await client.predict(records))?.allSatisfy { $0.history == .stored } == true }
        await client.close()
        try await harness.stop()
    }
}
