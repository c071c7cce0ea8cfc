import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import Testing

@testable import ChurnDaemon

/// Two registered echo versions (different smoothing, so different answers), the first promoted.
private func twoVersions(_ harness: DaemonHarness) async throws -> ChurnClient {
    try await harness.start()
    let client = try await harness.client()
    let data = try harness.writeTrainingCSV()
    _ = try await client.train(TrainParams(kind: "echo", data: data))
    _ = try await client.train(TrainParams(kind: "echo", data: data, params: ["smoothing": 20]))
    _ = try await client.promote("1")
    return client
}

@Suite("Champion routing and experiments", .serialized)
struct RoutingTests {
    @Test func abAssignmentSplitsByShareAndIsSticky() {
        for share in [0.1, 0.5] {
            let hits = (0..<100_000).filter { ModelServing.bucket(experiment: 7, customer: "customer-\($0)") < share }.count
            #expect(abs(Double(hits) / 100_000 - share) < 0.01, "share \(share): \(hits) of 100000")
        }
        #expect(ModelServing.bucket(experiment: 7, customer: "x") == ModelServing.bucket(experiment: 7, customer: "x"))
        #expect(ModelServing.bucket(experiment: 7, customer: "x") != ModelServing.bucket(experiment: 8, customer: "x"))
    }

    @Test func abExperimentRoutesAStickyShareToTheChallenger() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let client = try await twoVersions(harness)
        let experiment = try await client.startExperiment(challenger: "2", mode: "ab", share: 0.3)
        #expect(experiment.championVersion == 1 && experiment.challengerVersion == 2 && experiment.status == "running")
        let customers = (0..<600).map { testCustomer("c\($0)") }
        let first = try await client.predict(customers)
        let second = try await client.predict(customers)
        let challengerShare = Double(first.filter { $0.arm == "challenger" }.count) / 600
        #expect(abs(challengerShare - 0.3) < 0.06, "\(challengerShare)")
        #expect(first.map(\.arm) == second.map(\.arm), "the same customer always lands in the same arm")
        #expect(first.allSatisfy { ($0.arm == "challenger") == ($0.model.version == 2) })
        await expectDaemonError(.conflict) { () async throws(ChurnClientError) in
            try await client.startExperiment(challenger: "2", mode: "shadow")
        }
        _ = try await client.stopExperiment()
        #expect(try await client.predict(customers).allSatisfy { $0.arm == "champion" && $0.model.version == 1 })
        await client.close()
        try await harness.stop()
    }

    @Test func shadowNeverChangesTheAnswerAndTheReportJoinsOutcomes() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let client = try await twoVersions(harness)
        let customers = (0..<200).map { testCustomer("s\($0)", tenure: Double($0 % 72), charges: Double(20 + $0 % 90)) }
        let before = try await client.predict(customers)
        _ = try await client.startExperiment(challenger: "churn@2", mode: "shadow")
        let during = try await client.predict(customers)
        #expect(during == before, "the champion answers everyone, exactly as without the experiment")

        var outcomes = customers.enumerated().map { index, customer in
            Outcome(customerID: customer["customerID"]!.text!, churned: index % 3 == 0, date: "2026-11-30")
        }
        outcomes.append(Outcome(customerID: "never-seen", churned: true))
        // The shadow arm is scored off the hot path; feedback waits for it before matching.
        let feedback = try await client.feedback(outcomes)
        #expect(feedback.recorded == 201 && feedback.unknownCustomers == ["never-seen"])
        await expectDaemonError(.invalidParams, field: "outcomes[0].date") { () async throws(ChurnClientError) in
            try await client.feedback([Outcome(customerID: "a", churned: true, date: "30/11/2026")])
        }

        let report = try await client.experimentReport()
        #expect(Set(report.arms.map(\.arm)) == ["champion", "shadow"])
        #expect(report.arms.allSatisfy { $0.predictions == 200 && $0.outcomes == 200 && $0.rocAUC != nil })
        #expect(report.paired?.customers == 200)
        #expect(report.verdict.contains("200 outcomes"), "\(report.verdict)")
        // The money beside the ranking: the logged bills (MonthlyCharges, the schema's revenue
        // field) of the churners among the champion's riskiest 10%, by hand (rows as the report
        // reads them, by customer id).
        let champion = try #require(report.arms.first { $0.arm == "champion" })
        let rows = customers.indices.sorted { "s\($0)" < "s\($1)" }
        let expected = try #require(
            ExperimentStatistics.revenueAtTop(
                rows.map { $0 % 3 == 0 }, rows.map { during[$0].churnProbability }, rows.map { Double(20 + $0 % 90) }, fraction: 0.1))
        let reached = try #require(champion.revenueAtTop)
        let share = try #require(champion.revenueShareAtTop)
        #expect(abs(reached.value - expected.reached) < 1e-9 && abs(share.value - expected.share) < 1e-12)
        #expect(reached.low <= reached.value && reached.value <= reached.high && reached.high > reached.low, "a bootstrap interval")
        let health = try await client.health()
        #expect(health.experiment?.mode == "shadow")
        #expect(health.serving?.contains { $0.arm == "shadow" && $0.customers == 200 } == true)
        #expect(try await client.metrics().contains("churn_requests_total"))
        await client.close()
        try await harness.stop()
    }

    @Test func anExperimentSurvivesADaemonRestart() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let client = try await twoVersions(harness)
        let started = try await client.startExperiment(challenger: "2", mode: "ab", share: 0.5)
        await client.close()
        try await harness.stopKeepingState()
        try await harness.start()
        let again = try await harness.client()
        #expect(try await again.experiments().running?.id == started.id)
        let arms = Set(try await again.predict((0..<100).map { testCustomer("r\($0)") }).map(\.arm))
        #expect(arms == ["champion", "challenger"], "routing resumes after the restart")
        await again.close()
        try await harness.stop()
    }

    @Test func promotingUnderLoadFailsNoRequest() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let admin = try await twoVersions(harness)
        let deadline = ContinuousClock.now + .seconds(3)
        // Each load client reports (answered, failed); the admin task reports (0, 0).
        let tallies = try await withThrowingTaskGroup(of: (answered: Int, failed: Int).self) { group in
            for clientIndex in 0..<32 {
                group.addTask {
                    let client = try await harness.client()
                    var answered = 0
                    var failed = 0
                    while ContinuousClock.now < deadline {
                        do {
                            _ = try await client.predict([testCustomer("load-\(clientIndex)-\(answered + failed)")])
                            answered += 1
                        } catch {
                            failed += 1
                        }
                    }
                    await client.close()
                    return (answered, failed)
                }
            }
            group.addTask {
                for round in 0..<10 {
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await admin.promote(round % 2 == 0 ? "2" : "1")
                }
                _ = try await admin.rollback()
                return (0, 0)
            }
            return try await group.reduce(into: (answered: 0, failed: 0)) { total, tally in
                total.answered += tally.answered
                total.failed += tally.failed
            }
        }
        #expect(tallies.failed == 0)
        #expect(tallies.answered > 500)
        await admin.close()
        try await harness.stop()
    }
}
