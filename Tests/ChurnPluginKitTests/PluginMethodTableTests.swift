import ChurnProtocol
import ChurnRPC
import Foundation
import NIOCore
import Testing

@testable import ChurnPluginKit

/// The methods `PluginRuntime` serves for a plugin, answered in-process from request frames,
/// as churnd's requests would arrive on the plugin's socket.
@Suite("Plugin runtime method table", .timeLimit(.minutes(1)))
struct PluginMethodTableTests {
    let harness: PluginHarness

    init() throws {
        harness = try PluginHarness()
    }

    // MARK: describe

    @Test func describeAnswersThePluginsOwnDescription() async throws {
        let answer = try await harness.call(PluginMethod.Describe.self, NoParams(), id: 41)
        let description = try answer.get()
        #expect(description == FakePlugin(log: CallLog()).description)
        #expect(description.kind == "fake")
        #expect(description.pluginVersion == "1.2.3")
        #expect(description.protocolVersion == ChurnProtocolVersion.current)
        #expect(description.capabilities == ["train", "predict", "explain", "columnar"])
        #expect(description.parameters.map(\.name) == ["depth"])
        #expect(harness.log.all.isEmpty, "describe touches no model")
    }

    // MARK: load

    @Test func loadChecksTheSha256AndReportsTheModelsFeatures() async throws {
        let (path, sha256) = try harness.artifact("fake-model:v3")
        let answer = try await harness.call(
            PluginMethod.Load.self, PluginLoadParams(model: "churn@3", artifactPath: path, sha256: sha256))
        #expect(try answer.get() == PluginLoadResult(model: "churn@3", features: ["tenure", "Contract"]))
        #expect(harness.log.all == ["load fake-model:v3"])
    }

    @Test func anUpperCaseChecksumIsTheSameChecksum() async throws {
        let (path, sha256) = try harness.artifact("fake-model:v3")
        let answer = try await harness.call(
            PluginMethod.Load.self, PluginLoadParams(model: "churn@3", artifactPath: path, sha256: sha256.uppercased()))
        #expect(try answer.get().model == "churn@3")
    }

    @Test func aWrongChecksumIsRefusedNamingItAndNothingIsLoaded() async throws {
        let (path, actual) = try harness.artifact("fake-model:v3")
        let wrong = String(repeating: "ab", count: 32)
        let answer = try await harness.call(
            PluginMethod.Load.self, PluginLoadParams(model: "churn@3", artifactPath: path, sha256: wrong))
        let error = try #require(answer.error)
        #expect(error.code == -32012)
        #expect(error.knownCode == .integrityFailure)
        #expect(error.message == "artifact \(path) has sha256 \(actual), expected \(wrong): refusing to load it")
        #expect(error.data == ["model": "churn@3", "expected": .string(wrong), "actual": .string(actual)])
        #expect(harness.log.all.isEmpty, "the plugin never saw the bytes")
        // Nothing is loaded under the handle.
        let predicted = try await harness.call(
            PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", customers: [["customerID": "A", "tenure": 10]]))
        #expect(predicted.error?.code == -32010)
    }

    @Test func aMissingArtifactIsAFileErrorNamingThePath() async throws {
        let path = harness.folder + "/nowhere.bin"
        let answer = try await harness.call(
            PluginMethod.Load.self, PluginLoadParams(model: "churn@3", artifactPath: path, sha256: String(repeating: "0", count: 64)))
        let error = try #require(answer.error)
        #expect(error.code == -32016)
        #expect(error.message.hasPrefix("cannot read artifact \(path): "), "\(error.message)")
        #expect(error.data == ["field": "artifact_path"])
        #expect(harness.log.all.isEmpty)
    }

    @Test func theArtifactsOwnLoadErrorArrivesAsThePluginThrewIt() async throws {
        let (path, sha256) = try harness.artifact("not a model at all")
        let answer = try await harness.call(
            PluginMethod.Load.self, PluginLoadParams(model: "churn@3", artifactPath: path, sha256: sha256))
        let error = try #require(answer.error)
        #expect(error.code == -32013)
        #expect(error.message == "not a fake-model artifact")
    }

    // MARK: predict

    @Test func predictBeforeLoadIsRefusedNamingTheModel() async throws {
        let answer = try await harness.call(
            PluginMethod.Predict.self, PluginPredictParams(model: "churn@7", customers: [["customerID": "A", "tenure": 10]]))
        let error = try #require(answer.error)
        #expect(error.code == -32010)
        #expect(error.message == #"no model is loaded under "churn@7": call load first"#)
        #expect(error.data == ["field": "model", "model": "churn@7"])
        #expect(harness.log.all.isEmpty)
    }

    @Test func predictByRecordsReachesTheModelsRecordPath() async throws {
        try await harness.load("v3", as: "churn@3")
        let customers: [CustomerRecord] = [
            ["customerID": "A", "tenure": 12, "Contract": "Month-to-month"],
            ["customerID": "B", "tenure": 60, "Contract": "Two year"],
        ]
        let answer = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", customers: customers))
        let expected: [Double] = [12.0 / 100, 60.0 / 100]
        #expect(try answer.get().probabilities == expected)
        #expect(harness.log.all == ["load fake-model:v3", "v3 records 2"])
    }

    @Test func predictByColumnReachesTheModelsBatchPath() async throws {
        try await harness.load("v3", as: "churn@3")
        let batch = try CustomerBatch(
            rows: 3, fields: ["customerID", "tenure", "Contract"],
            columns: [
                .strings(["A", "B", "C"]), .numbers([1, 34, 70]),
                .dictionary(values: ["Month-to-month", "Two year"], codes: [0, 1, 1]),
            ])
        let answer = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", batch: batch))
        let expected: [Double] = [1.0 / 100, 34.0 / 100, 70.0 / 100]
        #expect(try answer.get().probabilities == expected)
        #expect(harness.log.all == ["load fake-model:v3", "v3 batch 3"])
    }

    @Test func aBatchReachesAModelWithoutAColumnarPathAsItsRecords() async throws {
        try await harness.load("records-only", as: "churn@4")
        let batch = try CustomerBatch(
            rows: 2, fields: ["customerID", "tenure"], columns: [.strings(["X", "Y"]), .numbers([5, 50])])
        let answer = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@4", batch: batch))
        let expected: [Double] = [5.0 / 100, 50.0 / 100]
        #expect(try answer.get().probabilities == expected)
        #expect(harness.log.all == ["load fake-model:records-only", "records-only records X,Y"])
    }

    @Test func aLargeBatchIsScoredOffTheCallersThreadWithTheSameAnswer() async throws {
        try await harness.load("v3", as: "churn@3")
        let rows = ComputeThread.inlineLimit + 44
        let tenures = (0..<rows).map { Double($0 % 72) }
        let batch = try CustomerBatch(
            rows: rows, fields: ["customerID", "tenure"], columns: [.strings((0..<rows).map { "C\($0)" }), .numbers(tenures)])
        let answer = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", batch: batch))
        #expect(try answer.get().probabilities == tenures.map { $0 / 100 })
        #expect(harness.log.all == ["load fake-model:v3", "v3 batch \(rows)"])
    }

    @Test func theModelsOwnErrorArrivesWithItsCodeAndData() async throws {
        try await harness.load("v3", as: "churn@3")
        let answer = try await harness.call(
            PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", customers: [["customerID": "Q-9", "Contract": "One year"]]))
        let error = try #require(answer.error)
        #expect(error.code == -32013)
        #expect(error.message == "customer Q-9 has no tenure")
        #expect(error.data == ["field": "tenure", "customer": "Q-9"])
    }

    @Test func twoHandlesHoldTwoModelsAndUnloadForgetsOnlyOne() async throws {
        try await harness.load("v3", as: "churn@3")
        try await harness.load("v4", as: "churn@4")
        let customers: [CustomerRecord] = [["customerID": "A", "tenure": 20]]
        _ = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@4", customers: customers)).get()
        let unloaded = try await harness.call(PluginMethod.Unload.self, PluginUnloadParams(model: "churn@3"))
        #expect(try unloaded.get() == NoParams())
        let gone = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@3", customers: customers))
        #expect(gone.error?.code == -32010)
        #expect(gone.error?.message.contains(#""churn@3""#) == true)
        _ = try await harness.call(PluginMethod.Predict.self, PluginPredictParams(model: "churn@4", customers: customers)).get()
        #expect(harness.log.all == ["load fake-model:v3", "load fake-model:v4", "v4 records 1", "v4 records 1"])
    }

    // MARK: explain

    @Test func explainPassesTopToTheModel() async throws {
        try await harness.load("v3", as: "churn@3")
        let customers: [CustomerRecord] = [["customerID": "A", "tenure": 12, "Contract": "Month-to-month", "MonthlyCharges": 80]]
        let answer = try await harness.call(
            PluginMethod.Explain.self, PluginExplainParams(model: "churn@3", customers: customers, top: 2))
        let explanations = try answer.get().explanations
        #expect(explanations.count == 1)
        #expect(explanations.first?.churnProbability == 12.0 / 100)
        #expect(explanations.first?.bias == 0.25)
        #expect(explanations.first?.contributions.map(\.feature) == ["Contract", "tenure"])
        #expect(explanations.first?.contributions.first?.value == "Month-to-month")
        #expect(harness.log.all == ["load fake-model:v3", "v3 explain 1 top 2"])
    }

    @Test func explainWithoutTopLeavesItToTheModel() async throws {
        try await harness.load("v3", as: "churn@3")
        let answer = try await harness.call(
            PluginMethod.Explain.self, PluginExplainParams(model: "churn@3", customers: [["customerID": "A", "tenure": 12]]))
        #expect(try answer.get().explanations.first?.contributions.count == 3)
        #expect(harness.log.all == ["load fake-model:v3", "v3 explain 1 top nil"])
    }

    @Test func aNegativeTopIsRefusedBeforeTheModelRuns() async throws {
        try await harness.load("v3", as: "churn@3")
        let answer = try await harness.call(
            PluginMethod.Explain.self, PluginExplainParams(model: "churn@3", customers: [["customerID": "A", "tenure": 12]], top: -1))
        let error = try #require(answer.error)
        #expect(error.code == -32602)
        #expect(error.message == "invalid params: top: must be 0 or more, got -1")
        #expect(error.data == ["field": "top", "reason": "must be 0 or more, got -1"])
        #expect(harness.log.all == ["load fake-model:v3"])
    }

    @Test func explainBeforeLoadIsRefusedNamingTheModel() async throws {
        let answer = try await harness.call(
            PluginMethod.Explain.self, PluginExplainParams(model: "churn@9", customers: [["customerID": "A", "tenure": 12]]))
        #expect(answer.error?.code == -32010)
        #expect(answer.error?.message == #"no model is loaded under "churn@9": call load first"#)
    }

    // MARK: uplift

    @Test func upliftOnAModelThatIsNotAnUpliftModelIsNotSupported() async throws {
        try await harness.load("v3", as: "churn@3")
        let answer = try await harness.call(
            PluginMethod.Uplift.self, PluginPredictParams(model: "churn@3", customers: [["customerID": "A", "tenure": 12]]))
        let error = try #require(answer.error)
        #expect(error.code == -32015)
        #expect(error.message.contains("not an uplift model"), "\(error.message)")
    }

    // MARK: train

    @Test func trainStreamsItsProgressTaggedWithTheRequestBeforeItAnswers() async throws {
        let artifactPath = harness.folder + "/trained.bin"
        let answer = try await harness.call(
            PluginMethod.Train.self, PluginTrainParams(trainPath: "/data/train.csv", seed: 7, artifactPath: artifactPath), id: 17)
        let result = try answer.get()
        #expect(result.metrics == ["roc_auc": 0.75])
        #expect(result.artifactBytes == 18)
        #expect(FileManager.default.contents(atPath: artifactPath) == Data("fake-model:trained".utf8))
        #expect(harness.log.all == ["train /data/train.csv seed 7"])
        // Every progress step was sent before `respond` returned the answer, in order.
        let notifications = try harness.notifications.all.map { text -> JSONValue in try JSONParser.parse(Array(text.utf8)) }
        #expect(notifications.count == 3)
        for (index, notification) in notifications.enumerated() {
            let step = index + 1
            #expect(notification.objectValue?["method"] == "progress")
            #expect(notification.objectValue?["id"] == nil, "a notification has no id")
            let params = try #require(notification.objectValue?["params"])
            let update = try JSONValueDecoder.decode(ProgressUpdate.self, from: params)
            #expect(
                update
                    == ProgressUpdate(
                        request: .number(17), stage: "epoch", step: step, total: 3, message: "epoch \(step)/3",
                        metrics: ["loss": 1 / Double(step)]))
        }
    }

    @Test func anUpliftTrainingIsRefusedByAPluginWithoutTheCapability() async throws {
        let answer = try await harness.call(
            PluginMethod.Train.self,
            PluginTrainParams(
                trainPath: "/data/train.csv", artifactPath: harness.folder + "/uplift.bin",
                treatment: TreatmentColumn(column: "offered", treated: "yes")))
        let error = try #require(answer.error)
        #expect(error.code == -32015)
        #expect(error.message.hasPrefix("fake cannot train uplift models"), "\(error.message)")
        #expect(harness.log.all.isEmpty, "the plugin never trained")
        #expect(harness.notifications.all.isEmpty)
    }

    // MARK: the envelope

    @Test func anUnknownMethodIsMethodNotFound() async throws {
        let tree = await harness.answer(ByteBuffer(string: #"{"jsonrpc":"2.0","id":5,"method":"fit","params":{}}"#))
        let response = try #require(tree?.objectValue)
        #expect(response["id"] == 5)
        #expect(response["result"] == nil)
        let error = try JSONValueDecoder.decode(RPCError.self, from: try #require(response["error"]))
        #expect(error.code == -32601)
        #expect(error.message == #"unknown method "fit""#)
        #expect(error.data == ["method": "fit"])
    }

    @Test func anUnknownNotificationIsNotAnswered() async {
        let tree = await harness.answer(ByteBuffer(string: #"{"jsonrpc":"2.0","method":"fit","params":{}}"#))
        #expect(tree == nil)
    }

    @Test func paramsThatDoNotFitAreRefusedNamingTheField() async throws {
        let tree = await harness.answer(
            ByteBuffer(string: #"{"jsonrpc":"2.0","id":6,"method":"load","params":{"model":"churn@3","sha256":"00"}}"#))
        let error = try JSONValueDecoder.decode(RPCError.self, from: try #require(tree?.objectValue?["error"]))
        #expect(error.code == -32602)
        #expect(error.data?.objectValue?["field"] == "artifact_path")
        #expect(harness.log.all.isEmpty)
    }

    @Test func theTableServesExactlyThePluginMethods() {
        #expect(harness.table.methodNames == ["describe", "explain", "load", "predict", "shutdown", "train", "unload", "uplift"])
    }

    @Test func shutdownWithNoServiceGroupAnswersAndDoesNothingElse() async throws {
        let answer = try await harness.call(PluginMethod.Shutdown.self, NoParams())
        #expect(try answer.get() == NoParams())
    }
}
