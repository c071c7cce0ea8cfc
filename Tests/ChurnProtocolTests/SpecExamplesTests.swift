import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

private struct RequestEnvelope<P: Decodable>: Decodable {
    var jsonrpc: String
    var id: RPCID
    var method: String
    var params: P?
}

private struct ResultEnvelope<R: Decodable>: Decodable {
    var jsonrpc: String
    var id: RPCID
    var result: R
}

private struct ErrorEnvelope: Decodable {
    var jsonrpc: String
    var id: RPCID?
    var error: RPCError
}

@Suite("PROTOCOL.md examples decode into the protocol types")
struct SpecExamplesTests {
    private func request<M: RPCMethod>(_ name: String, _ method: M.Type, in examples: [String: Data]) throws {
        let data = try #require(examples[name], "PROTOCOL.md has no example named \(name)")
        let envelope = try JSONDecoder().decode(RequestEnvelope<M.Params>.self, from: data)
        #expect(envelope.method == M.name, "\(name)")
        #expect(envelope.jsonrpc == "2.0")
    }

    private func response<M: RPCMethod>(_ name: String, _ method: M.Type, in examples: [String: Data]) throws {
        let data = try #require(examples[name], "PROTOCOL.md has no example named \(name)")
        _ = try JSONDecoder().decode(ResultEnvelope<M.Result>.self, from: data)
    }

    @Test func everyExampleDecodes() throws {
        let examples = try SpecExamples.all()
        try request("feedback.summary request", DaemonMethod.FeedbackSummary.self, in: examples)
        try response("feedback.summary response", DaemonMethod.FeedbackSummary.self, in: examples)
        try request("health request", DaemonMethod.Health.self, in: examples)
        try response("health response", DaemonMethod.Health.self, in: examples)
        try request("churnd describe request", DaemonMethod.Describe.self, in: examples)
        try response("churnd describe response", DaemonMethod.Describe.self, in: examples)
        try request("plugins.list request", DaemonMethod.PluginsList.self, in: examples)
        try response("plugins.list response", DaemonMethod.PluginsList.self, in: examples)
        try request("predict request", DaemonMethod.Predict.self, in: examples)
        try response("predict response", DaemonMethod.Predict.self, in: examples)
        try request("explain request", DaemonMethod.Explain.self, in: examples)
        try response("explain response", DaemonMethod.Explain.self, in: examples)
        try request("predict with history request", DaemonMethod.Predict.self, in: examples)
        try response("predict with history response", DaemonMethod.Predict.self, in: examples)
        try response("explain months response", DaemonMethod.Explain.self, in: examples)
        try request("history.append request", HistoryMethod.Append.self, in: examples)
        try response("history.append response", HistoryMethod.Append.self, in: examples)
        try request("history.get request", HistoryMethod.Get.self, in: examples)
        try response("history.get response", HistoryMethod.Get.self, in: examples)
        try request("files.upload request", DaemonMethod.FilesUpload.self, in: examples)
        try response("files.upload response", DaemonMethod.FilesUpload.self, in: examples)
        try request("files.download request", DaemonMethod.FilesDownload.self, in: examples)
        try response("files.download response", DaemonMethod.FilesDownload.self, in: examples)
        try request("campaigns.start request", CampaignMethod.Start.self, in: examples)
        try response("campaigns.start response", CampaignMethod.Start.self, in: examples)
        try request("campaigns.report request", CampaignMethod.Report.self, in: examples)
        try response("campaigns.report response", CampaignMethod.Report.self, in: examples)
        try request("campaigns.train_uplift request", CampaignMethod.TrainUplift.self, in: examples)
        try request("uplift.predict request", CampaignMethod.PredictUplift.self, in: examples)
        try response("uplift.predict response", CampaignMethod.PredictUplift.self, in: examples)
        try response("plugin uplift response", PluginMethod.Uplift.self, in: examples)
        try request("models.train tuned request", DaemonMethod.ModelsTrain.self, in: examples)
        try response("models.get tuned response", DaemonMethod.ModelsGet.self, in: examples)
        let tuned = try JSONDecoder().decode(
            ResultEnvelope<ModelVersionInfo>.self, from: try #require(examples["models.get tuned response"]))
        #expect(tuned.result.leaderboard?.entries.first?.trial == tuned.result.leaderboard?.chosenTrial)
        #expect(tuned.result.leaderboard?.entries.contains { $0.isDefault } == true)
        let described = try JSONDecoder().decode(
            ResultEnvelope<PluginDescription>.self, from: try #require(examples["describe response"]))
        #expect(described.result.parameters.first { $0.role == .budget }?.name == "n_trees")
        #expect(described.result.parameters.first { $0.name == "min_samples_leaf" }?.search?.scale == .log)
        try request("models.export request", DaemonMethod.ModelsExport.self, in: examples)
        try response("models.export response", DaemonMethod.ModelsExport.self, in: examples)
        // The inline months are a record's `history`, and the answer says where months came from.
        let withHistory = try JSONDecoder().decode(
            RequestEnvelope<PredictParams>.self, from: try #require(examples["predict with history request"]))
        #expect(withHistory.params?.customers.first?.history?.count == 3)
        #expect(withHistory.params?.customers.first?["history"] == nil, "history is not a field")
        let explained = try JSONDecoder().decode(
            ResultEnvelope<ExplainResult>.self, from: try #require(examples["explain months response"]))
        #expect(explained.result.explanations.first?.history == .stored)
        #expect(explained.result.explanations.first?.explanation.months?.last?.period == "2026-10")
        try request("models.train request", DaemonMethod.ModelsTrain.self, in: examples)
        try response("models.train response", DaemonMethod.ModelsTrain.self, in: examples)
        try request("models.list request", DaemonMethod.ModelsList.self, in: examples)
        try response("models.list response", DaemonMethod.ModelsList.self, in: examples)
        try request("models.get request", DaemonMethod.ModelsGet.self, in: examples)
        try request("models.promote request", DaemonMethod.ModelsPromote.self, in: examples)
        try response("models.promote response", DaemonMethod.ModelsPromote.self, in: examples)
        try request("models.rollback request", DaemonMethod.ModelsRollback.self, in: examples)
        try request("models.export request", DaemonMethod.ModelsExport.self, in: examples)
        try response("models.export response", DaemonMethod.ModelsExport.self, in: examples)
        try response("models.verify response", DaemonMethod.ModelsVerify.self, in: examples)
        try response("models.audit response", DaemonMethod.ModelsAudit.self, in: examples)
        try request("describe request", PluginMethod.Describe.self, in: examples)
        try response("describe response", PluginMethod.Describe.self, in: examples)
        try request("train request", PluginMethod.Train.self, in: examples)
        try response("train response", PluginMethod.Train.self, in: examples)
        try request("load request", PluginMethod.Load.self, in: examples)
        try response("load response", PluginMethod.Load.self, in: examples)
        try request("plugin predict request", PluginMethod.Predict.self, in: examples)
        try response("plugin predict response", PluginMethod.Predict.self, in: examples)

        let invalid = try JSONDecoder().decode(
            ErrorEnvelope.self, from: try #require(examples["predict invalid-params response"]))
        #expect(invalid.error.knownCode == .invalidParams)

        struct NotificationEnvelope: Decodable { var method: String; var params: ProgressUpdate }
        let progress = try JSONDecoder().decode(
            NotificationEnvelope.self, from: try #require(examples["progress notification"]))
        #expect(progress.method == ProgressNotification.name)
    }

    @Test func everyErrorCodeIsDocumented() throws {
        let text = try String(contentsOfFile: SpecExamples.documentPath, encoding: .utf8)
        for code in RPCErrorCode.allCases {
            #expect(text.contains("| \(code.rawValue) |"), "PROTOCOL.md does not document error \(code.rawValue)")
        }
    }
}
