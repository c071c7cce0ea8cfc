import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Synchronization
import Testing

@testable import ChurnDaemon

/// `models.train` with `tune` and `kind` `auto` through a real daemon and real plugins: the
/// search cross-validates on the training rows only, keeps its leaderboard with the version,
/// gives the same result for the same seed, and registers a blend of kinds that is served,
/// explained, exported, imported and restarted like any version.
@Suite("Tuned training", .serialized)
struct TunedTrainingTests {
    /// A file in the Kaggle telco schema whose churn follows a logistic curve of tenure and
    /// monthly charges (the echo test plugin's fixed score ranks by exactly that part) plus the
    /// contract (which only the forest can learn). Returns the path and the labels.
    private func writeKaggleFile(_ harness: DaemonHarness, customers: Int) throws -> (String, [Bool]) {
        var random = SeededRandom(seed: 21)
        var lines = [
            "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"
        ]
        var labels: [Bool] = []
        let contracts = ["Month-to-month", "One year", "Two year"]
        for index in 0..<customers {
            let tenure = 1 + random.below(72)
            let charges = (20 + random.unit() * 90 * 100).rounded() / 100
            let contract = contracts[random.below(3)]
            let logit = -1 - 0.08 * Double(tenure - 32) + 0.04 * (charges - 65) + (contract == "Month-to-month" ? 1.0 : -0.5)
            let churned = random.unit() < 1 / (1 + exp(-logit))
            labels.append(churned)
            lines.append(
                "C\(index),\(random.below(2) == 0 ? "Female" : "Male"),0,Yes,No,\(tenure),Yes,No,DSL,No,Yes,No,No,No,No,\(contract),Yes,Electronic check,\(charges),\(String(format: "%.2f", Double(tenure) * charges)),\(churned ? "Yes" : "No")"
            )
        }
        let path = harness.root + "/kaggle.csv"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, labels)
    }

    @Test func tuningOneKindRegistersTheBestWithItsLeaderboardAndTheSameSeedRepeatsIt() async throws {
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let (data, labels) = try writeKaggleFile(harness, customers: 800)
        let heldBack = StratifiedSplit.trainValidationTest(labels, testFraction: 0.2, validationFraction: 0.2, seed: 5).test.count
        let request = TrainParams(kind: "random_forest", data: data, params: ["n_trees": 27], seed: 5, tune: true, budget: 300, trials: 4, folds: 3)
        let lines = LinesSeen()
        let first = try await client.train(request) { lines.add($0) }
        let board = try #require(first.leaderboard)
        #expect(board.stopped == nil, "the plan fits a 300 s budget")
        #expect(board.folds == 3 && board.kinds == ["random_forest"])
        // Searched rows: the training and validation rows; the held-back ones are not among them.
        #expect(board.rows == 800 - heldBack)
        #expect(board.entries.allSatisfy { $0.params["n_trees"] != nil && $0.foldROCAUC.count == 3 })
        let chosen = try #require(board.entries.first { $0.trial == board.chosenTrial })
        let topRung = board.entries.map(\.rung).max()!
        #expect(chosen.rung == topRung)
        let defaults = try #require(board.entries.first { $0.isDefault && $0.rung == topRung })
        #expect(chosen.rocAUC >= defaults.rocAUC, "never worse than the defaults in cross-validation")
        #expect(first.params["min_samples_leaf"] == chosen.params["min_samples_leaf"])
        #expect(lines.messages.contains { $0.contains("trial 1 of at most") && $0.contains("fold 1/3") })
        #expect(lines.messages.contains { $0.contains("the \(heldBack) held-back rows are not read") })
        // Kept with the version: in models.get, not in models.list.
        #expect(try await client.model(first.ref.description).leaderboard == board)
        #expect(try await client.models().first { $0.ref == first.ref }?.leaderboard == nil)

        // A budget parameter fixed out of range is refused before the search builds on it
        // (1e19 trees once crashed churnd converting it).
        await expectDaemonError(.invalidParams, field: "params.n_trees", messageContains: "between 1 and 5000") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "random_forest", data: data, params: ["n_trees": 1e19], tune: true))
        }

        let second = try await client.train(request)
        let again = try #require(second.leaderboard)
        #expect(again.entries.map(\.params) == board.entries.map(\.params))
        #expect(again.entries.map(\.foldROCAUC) == board.entries.map(\.foldROCAUC))
        #expect(second.artifact.sha256 == first.artifact.sha256, "the same seed and data give the same model")
        await client.close()
        try await harness.stop()
    }

    @Test func theSearchRowsAreTheTrainingRowsAndNeverTheHeldBackOnes() throws {
        let folder = NSTemporaryDirectory() + "churn-search-rows-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = folder + "/customers.csv"
        try SyntheticTelco.generate(customers: 600, seed: 4).dataset.writeCSV(to: data)
        let prepared = try ModelTraining.prepare(
            TrainParams(kind: "random_forest", data: data, tune: true), shownData: data, seed: 9, testFraction: 0.2,
            validationFraction: 0.2, runs: folder + "/runs", kind: "random_forest")
        let searched = Set(prepared.searchRows.customers.ids)
        let heldBack = Set(prepared.test.customers.ids)
        #expect(searched.isDisjoint(with: heldBack))
        #expect(searched.count + heldBack.count == 600)
        #expect(searched.count == prepared.trainRows + prepared.validationRows)
    }

    @Test func theBudgetIsKeptWithinTenPercent() async throws {
        // A plan far larger than 30 seconds: the whole run, final fit included, keeps the budget.
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let (data, _) = try writeKaggleFile(harness, customers: 3000)
        let start = Date()
        let version = try await client.train(TrainParams(kind: "random_forest", data: data, seed: 1, tune: true, budget: 30, trials: 200))
        let elapsed = Date().timeIntervalSince(start)
        let board = try #require(version.leaderboard)
        #expect(board.stopped == "budget" && board.entries.count < board.planned)
        #expect(elapsed <= 30 * 1.1, "the run took \(elapsed) s for a 30 s budget (search \(board.searchSeconds) s)")
        await client.close()
        try await harness.stop()
    }

    @Test func aCallerWhoHangsUpCancelsTheSearchAndTheBestSoFarIsRegistered() async throws {
        // A plan of many minutes; the caller closes its connection once a configuration is done.
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let (data, _) = try writeKaggleFile(harness, customers: 1500)
        let caller = try await harness.client()
        let finished = LinesSeen()
        let training = Task {
            try await caller.train(TrainParams(kind: "random_forest", data: data, seed: 2, name: "hangup", tune: true, budget: 900, trials: 200)) {
                finished.add($0)
            }
        }
        let start = Date()
        while !finished.messages.contains(where: { $0.contains("CV ROC-AUC") }), Date().timeIntervalSince(start) < 120 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(finished.messages.contains { $0.contains("CV ROC-AUC") }, "a configuration finished")
        await caller.close()
        _ = await training.result
        // The daemon notices between folds, stops, and registers the best found so far.
        let observer = try await harness.client()
        var registered: ModelVersionInfo?
        while registered == nil, Date().timeIntervalSince(start) < 180 {
            if let listed = try await observer.models().first(where: { $0.ref.name == "hangup" }) {
                registered = try await observer.model(listed.ref.description)
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let board = try #require(registered?.leaderboard, "a version was registered after the caller hung up")
        #expect(board.stopped == "cancelled")
        #expect(!board.entries.isEmpty && board.entries.count < board.planned)
        #expect(Date().timeIntervalSince(start) < 180, "the search stopped long before its 900 s budget")
        await observer.close()
        try await harness.stop()
    }

    @Test func aTunedForestIsNeverWorseThanTheDefaultsInCrossValidationOnTheTelcoFile() async throws {
        let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("real telco data is missing at \(path): this test needs ../shared/data/telco beside the repository")
            return
        }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let version = try await client.train(TrainParams(kind: "random_forest", data: path, seed: 0, tune: true, budget: 900))
        let board = try #require(version.leaderboard)
        #expect(board.stopped == nil, "the default plan fits 900 s")
        #expect(board.folds == 5 && board.rows == 4507)
        let chosen = try #require(board.entries.first { $0.trial == board.chosenTrial })
        let defaults = try #require(board.entries.first { $0.isDefault && $0.rung == chosen.rung })
        #expect(chosen.params["n_trees"] == 300 && defaults.params["n_trees"] == 300)
        #expect(chosen.rocAUC >= defaults.rocAUC, "tuned \(chosen.rocAUC), defaults \(defaults.rocAUC)")
        #expect((version.metrics["test_roc_auc"] ?? 0) > 0.83, "\(version.metrics)")
        await client.close()
        try await harness.stop()
    }

    @Test func searchSettingsAreRefusedWithoutTuningAndOutOfRange() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let data = try harness.writeTrainingCSV(rows: 80)
        await expectDaemonError(.invalidParams, field: "budget", messageContains: "tune") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "echo", data: data, budget: 30))
        }
        await expectDaemonError(.invalidParams, field: "folds", messageContains: "between 2 and 20") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "echo", data: data, tune: true, folds: 1))
        }
        await expectDaemonError(.invalidParams, field: "params", messageContains: "kind auto") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "auto", data: data, params: ["smoothing": 2]))
        }
        await expectDaemonError(.invalidParams, field: "blend", messageContains: "kind auto") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "echo", data: data, tune: true, blend: true))
        }
        await expectDaemonError(.invalidParams, field: "params.n_trees", messageContains: "unknown") { () async throws(ChurnClientError) in
            _ = try await client.train(TrainParams(kind: "echo", data: data, params: ["smoothing": 2, "n_trees": 5], tune: true))
        }
        #expect(try await client.models().isEmpty, "nothing registered")
        await client.close()
        try await harness.stop()
    }

    @Test func autoRegistersABlendThatIsServedExportedImportedAndRestarted() async throws {
        let harness = try DaemonHarness(kinds: ["echo"], shipped: ["random-forest"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        var client = try await harness.client()
        let (data, _) = try writeKaggleFile(harness, customers: 1200)
        let blend = try await client.train(TrainParams(kind: "auto", data: data, seed: 2, budget: 600, trials: 2, folds: 3))
        let board = try #require(blend.leaderboard)
        #expect(Set(board.kinds) == ["echo", "random_forest"])
        let summary = try #require(board.blend)
        #expect(summary.chosen, "the blend scored \(summary.rocAUC); best single \(board.entries[0].rocAUC)")
        #expect(summary.rocAUC > board.entries[0].rocAUC)
        #expect(blend.kind == "blend")
        let members = try #require(blend.members)
        #expect(Set(members.map(\.kind)) == ["echo", "random_forest"])
        #expect(abs(members.map(\.weight).reduce(0, +) - 1) < 1e-9)
        for member in members {
            let version = try await client.model("churn@\(member.version)")
            #expect(version.tags.contains("blend-member") && version.artifact.sha256 == member.sha256)
        }

        // Served: the blend's probability is its calibrator over the weighted members' raw ones.
        let (dataset, _) = try DatasetReader.read(data, schema: BuiltInSchemas.kaggle)
        let customers = (0..<12).map { dataset.record(at: $0) }
        let served = try await client.predict(customers, model: blend.ref.description).map(\.churnProbability)
        #expect(served.count == 12 && served.allSatisfy { (0...1).contains($0) })
        let explained = try await client.explain(customers, model: blend.ref.description, top: 3)
        for (probability, explanation) in zip(served, explained) {
            #expect(abs(explanation.explanation.churnProbability - probability) < 1e-9)
            #expect(explanation.explanation.contributions.count <= 3)
        }

        // Exported with its members, imported under another name, and it answers the same.
        let file = harness.root + "/blend.churnmodel"
        _ = try await client.export(blend.ref.description, to: file)
        let copy = try await client.importModel(file: file, name: "copy")
        #expect(copy.kind == "blend" && copy.members?.count == members.count)
        for member in copy.members ?? [] {
            #expect(try await client.model("copy@\(member.version)").artifact.sha256 == member.sha256)
        }
        #expect(try await client.predict(customers, model: copy.ref.description).map(\.churnProbability) == served)

        // A member is not deleted while its blend is there.
        await expectDaemonError(.conflict, messageContains: "member of the blend \(blend.ref)") { () async throws(ChurnClientError) in
            _ = try await client.delete("churn@\(members[0].version)")
        }

        // After a restart, from the registry alone.
        await client.close()
        try await harness.stopKeepingState()
        try await harness.start()
        client = try await harness.client()
        #expect(try await client.predict(customers, model: blend.ref.description).map(\.churnProbability) == served)

        // Without a member's plugin it is refused, naming the blend, the member and the kind.
        await client.close()
        try await harness.stopKeepingState()
        try FileManager.default.removeItem(atPath: harness.pluginFolder + "/churn-plugin-echo")
        try await harness.start()
        client = try await harness.client()
        await expectDaemonError(.pluginUnavailable, messageContains: "echo") { () async throws(ChurnClientError) in
            _ = try await client.predict(customers, model: blend.ref.description)
        }
        await client.close()
        try await harness.stop()
    }
}

/// Progress messages a training sent, collected across threads.
final class LinesSeen: Sendable {
    private let seen = Mutex<[String]>([])
    func add(_ update: ProgressUpdate) { seen.withLock { $0.append(update.message) } }
    var messages: [String] { seen.withLock { $0 } }
}
