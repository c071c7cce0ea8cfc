import ChurnBoosting
import ChurnData
import ChurnPluginKit
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnGradientBoosting

private var realTrainPath: String? {
    let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("real telco data is missing at \(path): these tests need ../shared/data/telco beside the repository")
        return nil
    }
    return path
}

private func scratch() throws -> String {
    let folder = NSTemporaryDirectory() + "boosting-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("Gradient-boosting plugin")
struct GradientBoostingPluginTests {
    /// On the real telco file: trains with early stopping on the validation file, ranks held-out
    /// customers well, and every explanation adds up exactly in log-odds (TreeSHAP's local
    /// accuracy) on every held-out row, per field, one-hot never appearing.
    @Test func trainsOnTheTelcoFileAndItsExplanationsAddUpOnEveryRow() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let split = StratifiedSplit.trainValidationTest(dataset.churned!, testFraction: 0.2, validationFraction: 0.2, seed: 1)
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dataset.rows(split.train).writeCSV(to: folder + "/train.csv")
        try dataset.rows(split.validation).writeCSV(to: folder + "/validation.csv")
        let plugin = GradientBoostingPlugin()
        let result = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", validationPath: folder + "/validation.csv", params: [:], seed: 3,
                artifactPath: folder + "/model.artifact"),
            progress: .silent)
        let kept = try #require(result.metrics["rounds"])
        #expect(kept >= 1 && kept < 500, "early stopping keeps the best round: \(result.metrics)")
        #expect(result.params["best_round"] == .number(kept))
        #expect((result.metrics["val_roc_auc"] ?? 0) > 0.8, "\(result.metrics)")
        #expect(result.importances.contains { $0.method == "mean_abs_shap" && $0.feature == "Contract" })
        #expect(result.importances.contains { $0.method == "gain" })
        #expect(result.lossCurve.contains { $0.epoch == Int(kept) && $0.values["val_log_loss"] != nil })

        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")))
        let test = dataset.rows(split.test)
        let probabilities = try model.predict(test.records)
        let auc = Metrics.rocAUC(test.churned!, probabilities)!
        #expect(auc > 0.82, "held-out ROC-AUC \(auc)")
        let explanations = try model.explain(test.records, top: nil)
        for (probability, explanation) in zip(probabilities, explanations) {
            #expect(explanation.scale == .logOdds)
            #expect(abs(explanation.churnProbability - probability) < 1e-9)
            let raw = (explanation.bias ?? .nan) + explanation.contributions.reduce(0) { $0 + $1.contribution }
            #expect(abs(raw - log(probability / (1 - probability))) < 1e-6, "bias + Σ SHAP = log-odds")
            #expect(!explanation.contributions.contains { $0.feature.contains("=") }, "one value per field")
            // On the probability scale the same explanation adds up to the probability.
            let points = explanation.onProbabilityScale()
            #expect(abs((points.bias ?? .nan) + points.contributions.reduce(0) { $0 + $1.contribution } - probability) < 1e-9)
        }
        #expect(Set(explanations[0].contributions.map(\.feature)) == Set(model.features))
    }

    /// A field a model never splits on gets exactly 0 in every explanation.
    @Test func aFieldTheTreesNeverUseGetsExactlyZero() throws {
        let data = SyntheticOperator.generate(customers: 1500, seed: 4)
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try data.writeCSV(to: folder + "/train.csv")
        let plugin = GradientBoostingPlugin()
        // Stumps with few rounds split on a handful of fields only.
        _ = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv",
                params: ["n_rounds": 3, "growth": "depth_wise", "max_depth": 1, "early_stopping_rounds": 0], seed: 1,
                artifactPath: folder + "/model.artifact", schema: data.schema.canonical.jsonValue),
            progress: .silent)
        let loaded = try #require(
            try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact"))) as? LoadedBoosting)
        let used = Set(loaded.model.trees.flatMap { tree in (0..<tree.nodeCount).filter { !tree.isLeaf($0) }.map { Int(tree.feature[$0]) } })
        let unused = loaded.features.indices.filter { !used.contains($0) }.map { loaded.features[$0] }
        #expect(!unused.isEmpty && used.count <= 3)
        for explanation in try loaded.explain(Array(data.records.prefix(200)), top: nil) {
            for contribution in explanation.contributions where unused.contains(contribution.feature) {
                #expect(contribution.contribution == 0, "\(contribution.feature) is never split on")
            }
        }
    }

    @Test(arguments: [
        (["learning_rate": 0] as [String: JSONValue], "params.learning_rate"),
        (["growth": "sideways"], "params.growth"),
        (["n_trees": 100], "params.n_trees"),
        (["subsample": 1.5], "params.subsample"),
        (["growth": "depth_wise", "max_depth": 0], "params.max_depth"),
    ])
    func aBadParameterIsRefusedNamingIt(params: [String: JSONValue], field: String) {
        #expect {
            _ = try BoostingParameters.parse(params, seed: 0)
        } throws: { error in
            let rpc = error as? RPCError
            return rpc?.knownCode == .invalidParams && rpc?.data?.objectValue?["field"]?.stringValue == field
        }
    }

    /// The artifact round-trips: loaded again it predicts the same; damaged it is refused saying why.
    @Test func theArtifactRoundTripsAndADamagedOneIsRefused() throws {
        let data = SyntheticOperator.generate(customers: 800, seed: 2)
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try data.writeCSV(to: folder + "/train.csv")
        let plugin = GradientBoostingPlugin()
        _ = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", params: ["n_rounds": 40], seed: 5,
                artifactPath: folder + "/model.artifact", schema: data.schema.canonical.jsonValue),
            progress: .silent)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact"))
        let records = Array(data.records.prefix(100))
        #expect(try plugin.load(artifact: bytes).predict(records) == plugin.load(artifact: bytes).predict(records))
        #expect(throws: RPCError.self) { _ = try plugin.load(artifact: bytes.prefix(bytes.count - 9)) }
        #expect {
            _ = try plugin.load(artifact: Data("CHRNRF01 not this".utf8))
        } throws: { error in "\(error)".contains("not a gradient-boosting artifact") }
        // The same seed and data give the same bytes.
        _ = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", params: ["n_rounds": 40], seed: 5,
                artifactPath: folder + "/again.artifact", schema: data.schema.canonical.jsonValue),
            progress: .silent)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/again.artifact")) == bytes)
    }
}
