import ChurnData
import ChurnML
import ChurnPluginKit
import ChurnProtocol
import ChurnSequenceModels
import ChurnTestSupport
import Foundation
import Testing

private func realData() throws -> Dataset? {
    let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("real telco data is missing at \(path): these tests need ../shared/data/telco beside the repository")
        return nil
    }
    return try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true)).0
}

/// Train and validation files from the real data, in a scratch folder.
private func trainingFiles(_ dataset: Dataset, labels: [Bool]? = nil) throws -> (folder: String, test: Dataset) {
    var data = dataset
    if let labels { data.churned = labels }
    let split = StratifiedSplit.trainValidationTest(data.churned!, testFraction: 0.2, validationFraction: 0.2, seed: 3)
    let folder = NSTemporaryDirectory() + "sequence-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try data.rows(split.train).writeCSV(to: folder + "/train.csv")
    try data.rows(split.validation).writeCSV(to: folder + "/validation.csv")
    return (folder, data.rows(split.test))
}

private func train(_ plugin: SequencePlugin, _ folder: String, params: [String: JSONValue], seed: UInt64 = 1) throws -> PluginTrainResult {
    try plugin.train(
        PluginTrainParams(
            trainPath: folder + "/train.csv", validationPath: folder + "/validation.csv", params: params, seed: seed,
            artifactPath: folder + "/model.artifact"),
        progress: .silent)
}

/// Progress messages, collected from any thread.
final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func append(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

@Suite("LSTM plugins", .serialized)
struct SequencePluginTests {
    @Test(arguments: [false, true])
    func trainsLearnsAndRoundTripsItsArtifact(attention: Bool) throws {
        guard let dataset = try realData() else { return }
        let (folder, test) = try trainingFiles(dataset)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = SequencePlugin(attention: attention)
        let result = try train(plugin, folder, params: ["epochs": 8])
        #expect((result.metrics["val_roc_auc"] ?? 0) > 0.8, "\(result.metrics)")
        #expect(result.lossCurve.count == 8 && result.lossCurve.allSatisfy { $0.values["val_roc_auc"] != nil })
        #expect(result.lossCurve.last!.values["loss"]! < result.lossCurve.first!.values["loss"]!, "training loss falls")
        #expect(result.importances.contains { $0.method == "permutation" && $0.feature == "history" })
        #expect(result.importances.contains { $0.method == "attention" } == attention)
        let artifact = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact"))
        let first = try plugin.load(artifact: artifact)
        let second = try plugin.load(artifact: artifact)
        let records = Array(test.records.prefix(300))
        let probabilities = try first.predict(records)
        #expect(try second.predict(records) == probabilities, "a reloaded artifact gives identical outputs")
        let auc = Metrics.rocAUC(Array(test.churned!.prefix(300)), probabilities)!
        #expect(auc > 0.78, "held-out ROC-AUC \(auc)")
        #expect(throws: RPCError.self) { _ = try SequencePlugin(attention: !attention).load(artifact: artifact) }
    }

    @Test(arguments: [false, true])
    func theSameSeedAndDataGiveTheSameArtifactBytesAndRecordedParamsTrainAgain(attention: Bool) throws {
        guard let dataset = try realData() else { return }
        let (folder, _) = try trainingFiles(dataset.rows(Array(0..<1500)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = SequencePlugin(attention: attention)
        let first = try train(plugin, folder, params: ["epochs": 2])
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact"))
        _ = try train(plugin, folder, params: ["epochs": 2])
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")) == firstBytes, "same seed, different bytes")
        // Every recorded param is one `train` accepts, and retraining with them gives the same model.
        let again = try train(plugin, folder, params: first.params)
        #expect(again.params == first.params)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")) == firstBytes)
    }

    @Test func earlyStoppingSaysWhenAndWhy() throws {
        guard let dataset = try realData() else { return }
        let (folder, _) = try trainingFiles(dataset.rows(Array(0..<1500)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let messages = MessageLog()
        // A learning rate this high stops improving at once: patience 1 ends it early.
        _ = try SequencePlugin(attention: false).train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", validationPath: folder + "/validation.csv",
                params: ["epochs": 40, "patience": 1, "learning_rate": 0.5], seed: 1, artifactPath: folder + "/model.artifact"),
            progress: ProgressReporter { messages.append($0.message) })
        let ending = messages.all.last ?? ""
        #expect(ending.contains("stopped early after epoch"), "\(messages.all.suffix(3))")
        #expect(ending.contains("patience") && ending.contains("keeping epoch"))
    }

    @Test func attentionExplainsEachRealMonthAndNothingElse() throws {
        guard let dataset = try realData() else { return }
        let (folder, test) = try trainingFiles(dataset)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = SequencePlugin(attention: true)
        _ = try train(plugin, folder, params: ["epochs": 2])
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")))
        let rows = (0..<test.customers.count).filter { [0, 1, 3, 40].contains(Int(test.customers.numberColumn("tenure")![$0])) }.prefix(8)
        let records = rows.map { test.record(at: $0) }
        let explanations = try model.explain(records, top: nil)
        let probabilities = try model.predict(records)
        for (index, row) in rows.enumerated() {
            let tenure = Int(test.customers.numberColumn("tenure")![row])
            let attention = explanations[index].attention ?? []
            #expect(attention.map(\.month) == Array(max(1, tenure - 11)...max(tenure, 0)).filter { $0 >= 1 }, "tenure \(tenure)")
            let sum = attention.reduce(0) { $0 + $1.weight }
            #expect(tenure == 0 ? attention.isEmpty : abs(sum - 1) < 1e-5)
            #expect(abs(explanations[index].churnProbability - probabilities[index]) < 1e-6)
        }
    }

    /// Both LSTMs explain every input field as well as every month, on one scale (points of
    /// churn probability, by occlusion), so the contract is not invisible behind the months.
    @Test(arguments: [false, true])
    func fieldsAndMonthsAreExplainedOnOneScale(attention: Bool) throws {
        guard let dataset = try realData() else { return }
        let (folder, test) = try trainingFiles(dataset)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = SequencePlugin(attention: attention)
        _ = try train(plugin, folder, params: ["epochs": 4])
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")))
        let records = Array(test.records.prefix(300))
        let explanations = try model.explain(records, top: nil)
        let inputs = Set(BuiltInSchemas.kaggle.inputs.map(\.name))
        var meanEffect: [String: Double] = [:]
        for explanation in explanations {
            #expect(inputs.isSubset(of: Set(explanation.contributions.map(\.feature))), "every field is explained")
            for contribution in explanation.contributions { meanEffect[contribution.feature, default: 0] += abs(contribution.contribution) / 300 }
            for month in explanation.months ?? [] {
                let effect = try #require(month.effect, "every month has its effect in points")
                if !attention { #expect(month.weight == effect, "the plain LSTM weighs months by the same occlusion") }
            }
        }
        // The contract decides much of telco churn; gender decides none of it.
        let contract = meanEffect["Contract"] ?? 0
        let gender = meanEffect["gender"] ?? 0
        #expect(contract > 0.01 && contract > 3 * gender, "Contract \(contract), gender \(gender)")
        // The same reasons in words, fields and months ranked together.
        let top = try #require(explanations.max { $0.churnProbability < $1.churnProbability })
        let reasons = RiskReasons(schema: BuiltInSchemas.kaggle).reasons(top, top: 5)
        #expect(reasons.count == 5)
        #expect(reasons.contains { if case .field = $0.subject { true } else { false } }, "\(reasons.map(\.text))")
        #expect(zip(reasons, reasons.dropFirst()).allSatisfy { abs($0.points) >= abs($1.points) })
        let limited = try model.explain(Array(records.prefix(3)), top: 2)
        #expect(limited.allSatisfy { $0.contributions.count == 2 }, "top limits the fields")
    }

    @Test(arguments: [
        (["hidden": 0] as [String: JSONValue], "params.hidden"),
        (["epochs": -1], "params.epochs"),
        (["learning_rate": 0], "params.learning_rate"),
        (["dropout": 0.95], "params.dropout"),
        (["layers": 2], "params.layers"),
        (["class_weight": 2], "params.class_weight"),
    ])
    func badHyperparametersNameTheField(params: [String: JSONValue], field: String) {
        #expect {
            _ = try SequenceParameters.parse(params, attention: false)
        } throws: { error in
            (error as? RPCError)?.data?.objectValue?["field"]?.stringValue == field
        }
    }

    @Test func shuffledLabelsLearnNothing() throws {
        guard let dataset = try realData() else { return }
        var random = SeededGenerator(seed: 77)
        var shuffled = dataset.churned!
        shuffled.shuffle(using: &random)
        let (folder, test) = try trainingFiles(dataset, labels: shuffled)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = SequencePlugin(attention: true)
        _ = try train(plugin, folder, params: ["epochs": 10, "patience": 0])
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")))
        let auc = Metrics.rocAUC(test.churned!, try model.predict(test.records))!
        #expect(abs(auc - 0.5) <= 0.05, "shuffled labels gave ROC-AUC \(auc)")
    }
}
