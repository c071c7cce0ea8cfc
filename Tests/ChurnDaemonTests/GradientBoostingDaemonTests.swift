import ChurnClient
import ChurnData
import ChurnGradientBoosting
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnDaemon

/// The gradient-boosting plugin through a real daemon: trained, served and explained like any
/// kind, its exact log-odds explanations put on the probability scale for clients, and searched
/// by `kind auto` beside the forest.
@Suite("Gradient boosting through churnd", .serialized)
struct GradientBoostingDaemonTests {
    @Test func trainedServedAndExplainedOnTheProbabilityScale() async throws {
        let harness = try DaemonHarness(kinds: [], shipped: ["gradient-boosting"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let data = SyntheticOperator.generate(customers: 2000, seed: 6)
        let path = harness.root + "/operator.csv"
        try data.writeCSV(to: path)
        let version = try await client.train(TrainParams(kind: "gradient_boosting", data: path, seed: 3, schema: data.schema.canonical.jsonValue))
        #expect(version.kind == "gradient_boosting")
        #expect((version.metrics["test_roc_auc"] ?? 0) > 0.75, "\(version.metrics)")
        #expect(version.importances?.contains { $0.method == "mean_abs_shap" } == true)
        #expect(version.params["best_round"] != nil)

        let records = Array(data.records.prefix(25))
        let served = try await client.explain(records, model: version.ref.description, top: 100)
        let predicted = try await client.predict(records, model: version.ref.description)
        // The plugin's own answer, from the artifact churnd serves.
        let artifact = harness.home + "/cache/artifacts/\(version.artifact.sha256).artifact"
        let model = try GradientBoostingPlugin().load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact)))
        let raw = try model.explain(records, top: nil)
        for (index, explanation) in served.enumerated() {
            #expect(explanation.explanation.scale == nil, "clients get points of probability")
            #expect(abs(explanation.explanation.churnProbability - predicted[index].churnProbability) < 1e-12)
            let expected = raw[index].onProbabilityScale()
            let sum = (explanation.explanation.bias ?? .nan) + explanation.explanation.contributions.reduce(0) { $0 + $1.contribution }
            #expect(abs(sum - raw[index].churnProbability) < 1e-9, "bias + contributions = the model's own probability")
            for contribution in explanation.explanation.contributions {
                let plugin = expected.contributions.first { $0.feature == contribution.feature }?.contribution ?? .nan
                #expect(abs(contribution.contribution - plugin) < 1e-12, "\(contribution.feature)")
            }
        }
        await client.close()
        try await harness.stop()
    }

    @Test func kindAutoSearchesGradientBoostingBesideTheForest() async throws {
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest", "gradient-boosting"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.start()
        let client = try await harness.client()
        let data = SyntheticOperator.generate(customers: 1200, seed: 9)
        let path = harness.root + "/operator.csv"
        try data.writeCSV(to: path)
        let version = try await client.train(
            TrainParams(kind: "auto", data: path, seed: 1, schema: data.schema.canonical.jsonValue, budget: 60, trials: 3, folds: 3))
        let board = try #require(version.leaderboard)
        #expect(Set(board.kinds) == ["random_forest", "gradient_boosting"])
        #expect(board.entries.contains { $0.kind == "gradient_boosting" && $0.params["n_rounds"] != nil })
        await client.close()
        try await harness.stop()
    }
}
