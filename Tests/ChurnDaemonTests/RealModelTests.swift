import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// The shipped plugins through a real daemon, on the real telco file.
@Suite("Shipped plugins through the daemon", .serialized)
struct RealModelTests {
    private var trainPath: String? {
        let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("real telco data is missing at \(path): these tests need ../shared/data/telco beside the repository")
            return nil
        }
        return path
    }

    @Test func randomForestTrainsOnTheRealFileAndExplainsItsPredictions() async throws {
        guard let data = trainPath else { return }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        try await harness.start()
        let client = try await harness.client()
        let version = try await client.train(TrainParams(kind: "random_forest", data: data, params: ["n_trees": 100], seed: 1))
        #expect(version.kind == "random_forest" && version.pluginVersion == "1.0.0")
        #expect((version.metrics["test_roc_auc"] ?? 0) > 0.8, "\(version.metrics)")
        #expect(version.trainingData?.rows == 5634)
        #expect(version.importances?.isEmpty == false && version.featureSchema != nil)
        _ = try await client.promote(version.ref.description)

        let (dataset, _) = try DatasetReader.read(data, schema: BuiltInSchemas.kaggle)
        let customers = (0..<20).map { dataset.record(at: $0) }
        let predictions = try await client.predict(customers)
        #expect(predictions.map(\.customerID) == Array(dataset.customers.ids.prefix(20)))
        #expect(predictions.allSatisfy { (0...1).contains($0.churnProbability) && $0.arm == "champion" })
        let explanations = try await client.explain(customers, top: 5)
        for (prediction, explained) in zip(predictions, explanations) {
            #expect(abs(prediction.churnProbability - explained.explanation.churnProbability) < 1e-9)
            #expect(explained.explanation.contributions.count == 5)
        }
        await client.close()
        try await harness.stop()
    }
}

extension RealModelTests {
    /// The columnar path (client → churnd → plugin by column) answers exactly what the record
    /// path answers, on every customer of the real file, for both tree kinds.
    @Test func aBatchByColumnGetsTheRecordPathsProbabilitiesOnTheRealFile() async throws {
        guard let data = trainPath else { return }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest", "gradient-boosting"])
        try await harness.start()
        let client = try await harness.client()
        let (dataset, _) = try DatasetReader.read(data, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(readLabel: false))
        for (kind, params) in [("random_forest", ["n_trees": JSONValue.number(60)]), ("gradient_boosting", ["n_rounds": 60])] {
            let version = try await client.train(TrainParams(kind: kind, data: data, params: params, seed: 3))
            var byRecords: [Double] = []
            for start in stride(from: 0, to: dataset.customers.count, by: 2000) {
                let records = (start..<min(start + 2000, dataset.customers.count)).map { dataset.record(at: $0) }
                byRecords += try await client.predict(records, model: version.ref.description).map(\.churnProbability)
            }
            let byColumn = try await client.predictBatch(
                dataset.customers.batch(idField: dataset.idField), model: version.ref.description, log: false)
            #expect(byColumn.probabilities.count == 5634 && byColumn.models == [BatchAnswerer(model: version.ref, arm: "direct")])
            #expect(byColumn.probabilities == byRecords, "\(kind): the columnar answers differ from the record answers")
        }
        await client.close()
        try await harness.stop()
    }

    @Test func lstmAttentionTrainsThroughTheDaemonAndExplainsByMonth() async throws {
        guard let data = trainPath else { return }
        let harness = try DaemonHarness(kinds: [], shipped: ["lstm-attention", "lstm"])
        try await harness.start()
        let client = try await harness.client()
        let kinds = Set(try await client.plugins().filter { $0.state == "ready" }.map(\.kind))
        #expect(kinds == ["lstm", "lstm_attention"])
        let version = try await client.train(TrainParams(kind: "lstm_attention", data: data, params: ["epochs": 3], seed: 2))
        #expect((version.metrics["test_roc_auc"] ?? 0) > 0.75, "\(version.metrics)")
        #expect(version.lossCurve?.count == 3)
        _ = try await client.promote(version.ref.description)
        let (dataset, _) = try DatasetReader.read(data, schema: BuiltInSchemas.kaggle)
        let customers = (0..<10).map { dataset.record(at: $0) }
        let explanations = try await client.explain(customers)
        for (index, explained) in explanations.enumerated() {
            let tenure = Int(dataset.customers.numberColumn("tenure")![index])
            let weights = explained.explanation.attention ?? []
            #expect(weights.count == min(tenure, 12))
            if tenure > 0 { #expect(abs(weights.reduce(0) { $0 + $1.weight } - 1) < 1e-5) }
        }
        await client.close()
        try await harness.stop()
    }
}
