import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnRegistry

/// A registry file and the prediction log's own connection to it.
private struct Store {
    let folder = NSTemporaryDirectory() + "experiments-\(UUID().uuidString)"
    var path: String { folder + "/registry.sqlite" }

    init() {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

private func entry(_ customer: String, arm: Arm = .champion, version: Int = 1, probability: Double, experiment: Int?, at: Double = Date().timeIntervalSince1970) -> PredictionLogEntry {
    PredictionLogEntry(
        requestID: "r", customerID: customer, model: "churn", version: version, arm: arm, probability: probability,
        latencyMicroseconds: 100, at: at, experimentID: experiment)
}

@Suite("Experiments, prediction log and feedback in the registry")
struct ExperimentStoreTests {
    @Test(arguments: TestRegistry.available) func oneRunningExperimentPerModelThatOutlivesTheConnection(backend: TestRegistry) async throws {
        let location = try backend.freshLocation()
        let registry = try ModelRegistry(location: location)
        let started = try await registry.startExperiment(model: "churn", mode: "ab", share: 0.2, champion: 1, challenger: 2, user: "alice", note: "n")
        await #expect(throws: RegistryError.self) {
            try await registry.startExperiment(model: "churn", mode: "shadow", share: 0, champion: 1, challenger: 3, user: "bob", note: nil)
        }
        // Another model may run its own.
        _ = try await registry.startExperiment(model: "other", mode: "shadow", share: 0, champion: 1, challenger: 2, user: "bob", note: nil)

        let reopened = try ModelRegistry(location: location)
        #expect(try await reopened.runningExperiment(model: "churn") == started)
        let stopped = try await reopened.stopExperiment(model: "churn", user: "carol")
        #expect(stopped.status == "stopped" && stopped.stoppedBy == "carol" && stopped.stoppedAt != nil)
        await #expect(throws: RegistryError.self) { try await reopened.stopExperiment(model: "churn", user: "carol") }
        #expect(try await reopened.runningExperiment(model: "churn") == nil)
        #expect(try await reopened.experiments(model: "churn").map(\.id) == [started.id])
    }

    @Test(arguments: TestRegistry.available) func reportsJoinEachCustomersLatestPredictionWithTheirLatestOutcome(backend: TestRegistry) async throws {
        let location = try backend.freshLocation()
        let registry = try ModelRegistry(location: location)
        let experiment = try await registry.startExperiment(model: "churn", mode: "shadow", share: 0, champion: 1, challenger: 2, user: "a", note: nil)
        let log = try PredictionLogStore(location: location)
        try log.append([
            entry("a", probability: 0.1, experiment: experiment.id), entry("a", probability: 0.7, experiment: experiment.id),
            entry("a", arm: "shadow", version: 2, probability: 0.6, experiment: experiment.id),
            entry("b", probability: 0.2, experiment: experiment.id),
            entry("b", arm: "shadow", version: 2, probability: 0.3, experiment: experiment.id),
            entry("c", probability: 0.9, experiment: experiment.id),
            entry("d", probability: 0.5, experiment: nil),  // outside the experiment
        ])
        let first = try await registry.recordFeedback(
            [Outcome(customerID: "a", churned: false), Outcome(customerID: "zz", churned: true)], user: "ops")
        #expect(first.recorded == 2 && first.unknownCustomers == ["zz"])
        _ = try await registry.recordFeedback([Outcome(customerID: "a", churned: true), Outcome(customerID: "b", churned: false)], user: "ops")

        let arms = try await registry.experimentOutcomes(experiment)
        #expect(arms.map(\.arm) == ["champion", "shadow"])
        let champion = arms[0], shadow = arms[1]
        #expect(champion.predictions == 3 && champion.customerIDs == ["a", "b"], "c has no outcome; d is outside")
        #expect(champion.probabilities == [0.7, 0.2], "the latest prediction counts")
        #expect(champion.churned == [true, false], "the latest outcome counts")
        #expect(shadow.version == 2 && shadow.predictions == 2 && shadow.probabilities == [0.6, 0.3])
    }

    @Test(arguments: TestRegistry.available) func theLogIsPrunedByAgeAndByRowCount(backend: TestRegistry) async throws {
        let location = try backend.freshLocation()
        _ = try ModelRegistry(location: location)
        let now = Date()
        let day = 86_400.0
        let byAge = try PredictionLogStore(location: location, maximumRows: 1_000, maximumAgeDays: 90)
        try byAge.append((0..<10).map { entry("old\($0)", probability: 0.5, experiment: nil, at: now.timeIntervalSince1970 - 100 * day + Double($0)) })
        try byAge.append((0..<5).map { entry("new\($0)", probability: 0.5, experiment: nil, at: now.timeIntervalSince1970 - day + Double($0)) })
        #expect(try byAge.prune(now: now) == 10)
        #expect(try byAge.count() == 5)

        let byCount = try PredictionLogStore(location: location, maximumRows: 3, maximumAgeDays: 90)
        #expect(try byCount.prune(now: now) == 2)
        #expect(try byCount.count() == 3)

        // Everything old: the log empties.
        #expect(try byAge.prune(now: now.addingTimeInterval(200 * day)) == 3)
        #expect(try byAge.count() == 0)
    }

    /// The log takes every prediction: outside experiments a row must be a plain append (no
    /// index to update), and reports must still find experiment rows by index.
    @Test func theLogIndexesOnlyExperimentRowsAndReportsUseThatIndex() async throws {
        let store = Store()
        defer { store.remove() }
        _ = try ModelRegistry(path: store.path)
        let database = try SQLiteDatabase(path: store.path)
        let indexes = try database.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'prediction_log'")
        #expect(indexes.compactMap { $0.text("name") } == ["prediction_log_in_experiments"])
        #expect(indexes.first?.text("sql")?.contains("WHERE experiment_id IS NOT NULL") == true)
        let plan = try database.query(
            "EXPLAIN QUERY PLAN SELECT MAX(q.id) FROM prediction_log q WHERE q.experiment_id = 7 AND q.customer_id = ? AND q.arm = 'champion'",
            [.text("x")]
        ).compactMap { $0.text("detail") }.joined(separator: "; ")
        #expect(plan.contains("INDEX prediction_log_in_experiments"), "\(plan)")
    }

    @Test(arguments: TestRegistry.available) func feedbackReportsEachUnknownCustomerOnceAmongManyOutcomes(backend: TestRegistry) async throws {
        let location = try backend.freshLocation()
        let registry = try ModelRegistry(location: location)
        let log = try PredictionLogStore(location: location)
        try log.append((0..<5000).map { entry("c\($0)", probability: 0.5, experiment: nil) })
        var outcomes = (0..<5000).map { Outcome(customerID: "c\($0)", churned: $0 % 4 == 0) }
        outcomes += [Outcome(customerID: "ghost", churned: true), Outcome(customerID: "ghost", churned: false)]
        let result = try await registry.recordFeedback(outcomes, user: "ops")
        #expect(result.recorded == 5002 && result.unknownCustomers == ["ghost"])
    }

    @Test(arguments: TestRegistry.available) func feedbackIsSummedByTheMonthItWasObservedInNewestFirst(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: try backend.freshLocation())
        #expect(try await registry.feedbackByMonth(months: 12).isEmpty)
        var outcomes: [Outcome] = []
        for (month, count, churned) in [("2026-09", 40, 2), ("2026-10", 50, 4), ("2026-11", 30, 6)] {
            outcomes += (0..<count).map { Outcome(customerID: "\(month)-\($0)", churned: $0 < churned, date: month + "-1\($0 % 10)") }
        }
        _ = try await registry.recordFeedback(outcomes, user: "ops")
        let summary = try await registry.feedbackByMonth(months: 12)
        #expect(summary == [
            FeedbackMonth(month: "2026-11", outcomes: 30, churned: 6), FeedbackMonth(month: "2026-10", outcomes: 50, churned: 4),
            FeedbackMonth(month: "2026-09", outcomes: 40, churned: 2),
        ])
        #expect(try await registry.feedbackByMonth(months: 2).map(\.month) == ["2026-11", "2026-10"])
        #expect(abs(summary[0].churnRate - 0.2) < 1e-12)
    }
}
