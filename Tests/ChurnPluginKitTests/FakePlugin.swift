import ChurnProtocol
import ChurnRPC
import Crypto
import Foundation
import Logging
import NIOCore
import Synchronization

@testable import ChurnPluginKit

/// What reached the fake plugin and its models, in order.
final class CallLog: Sendable {
    private let entries = Mutex<[String]>([])

    func append(_ entry: String) { entries.withLock { $0.append(entry) } }

    var all: [String] { entries.withLock { $0 } }
}

/// A model whose answers show what it was given: the probability of a customer is its tenure
/// divided by 100, and every call is written to the log with the artifact's tag.
struct FakeModel: LoadedChurnModel {
    let tag: String
    let log: CallLog

    var features: [String] { ["tenure", "Contract"] }

    func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        log.append("\(tag) records \(customers.count)")
        return try customers.map { try Self.score($0["tenure"], customer: $0["customerID"]) }
    }

    func predict(batch: CustomerBatch) throws -> [Double] {
        log.append("\(tag) batch \(batch.rows)")
        let tenure = batch.column("tenure")
        let ids = batch.column("customerID")
        return try (0..<batch.rows).map { try Self.score(tenure?[$0], customer: ids?[$0]) }
    }

    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        log.append("\(tag) explain \(customers.count) top \(top.map(String.init) ?? "nil")")
        return try customers.map { customer in
            let all = [
                Contribution(feature: "Contract", value: customer["Contract"] ?? .null, contribution: 0.2),
                Contribution(feature: "tenure", value: customer["tenure"] ?? .null, contribution: -0.1),
                Contribution(feature: "MonthlyCharges", value: customer["MonthlyCharges"] ?? .null, contribution: 0.05),
            ]
            return ModelExplanation(
                churnProbability: try Self.score(customer["tenure"], customer: customer["customerID"]), bias: 0.25,
                contributions: Array(all.prefix(top ?? all.count)))
        }
    }

    /// tenure / 100; a customer without a numeric tenure is refused with -32013 naming it.
    static func score(_ tenure: FieldValue?, customer: FieldValue?) throws -> Double {
        guard case .number(let months)? = tenure else {
            throw RPCError(
                .invalidData, "customer \(customer?.text ?? "?") has no tenure",
                data: ["field": "tenure", "customer": .string(customer?.text ?? "?")])
        }
        return months / 100
    }
}

/// A model that only scores records: batches reach it through the protocol's default.
struct RecordsOnlyModel: LoadedChurnModel {
    let log: CallLog
    var features: [String] { ["tenure"] }

    func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        log.append("records-only records \(customers.map { $0["customerID"]?.text ?? "?" }.joined(separator: ","))")
        return try customers.map { try FakeModel.score($0["tenure"], customer: $0["customerID"]) }
    }

    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] { [] }
}

/// A plugin whose artifacts are the text `fake-model:<tag>` (`records-only` loads a
/// ``RecordsOnlyModel``); `train` reports three epochs and writes `fake-model:trained`.
struct FakePlugin: ChurnModelPlugin {
    let log: CallLog

    var description: PluginDescription {
        PluginDescription(
            kind: "fake", pluginVersion: "1.2.3", capabilities: ["train", "predict", "explain", "columnar"],
            summary: "a fake model for the runtime's tests",
            parameters: [
                ParameterSpec(name: "depth", type: "integer", defaultValue: 3, help: "how deep", minimum: 1, maximum: 10)
            ])
    }

    func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult {
        log.append("train \(request.trainPath) seed \(request.seed)")
        for step in 1...3 {
            progress.report(stage: "epoch", step: step, total: 3, message: "epoch \(step)/3", metrics: ["loss": 1 / Double(step)])
        }
        let artifact = Data("fake-model:trained".utf8)
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        return PluginTrainResult(metrics: ["roc_auc": 0.75], params: ["depth": 3], artifactBytes: artifact.count)
    }

    func load(artifact: Data) throws -> any LoadedChurnModel {
        let text = String(decoding: artifact, as: UTF8.self)
        log.append("load \(text)")
        guard text.hasPrefix("fake-model:") else { throw RPCError(.invalidData, "not a fake-model artifact") }
        let tag = String(text.dropFirst("fake-model:".count))
        if tag == "records-only" { return RecordsOnlyModel(log: log) }
        return FakeModel(tag: tag, log: log)
    }
}

/// The plugin runtime's method table for a ``FakePlugin``, answered in-process: request frames
/// in, response frames out, as the server would send them (no socket, no process). Its artifacts
/// folder goes with it.
final class PluginHarness: Sendable {
    let log = CallLog()
    /// Notification frames (`progress`) the table sent, as text, in order.
    let notifications = CallLog()
    let table: RPCMethodTable
    /// A folder of its own for artifacts.
    let folder: String

    init() throws {
        table = PluginRuntime.methodTable(for: FakePlugin(log: log), models: LoadedModels(), shutdown: ShutdownTrigger())
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-kit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The answer to the frame `bytes` as a JSON tree; nil when the table sends none.
    func answer(_ bytes: ByteBuffer) async -> JSONValue? {
        var logger = Logger(label: "plugin-kit-tests")
        logger.logLevel = .critical
        let notifications = self.notifications
        let dispatch = RPCDispatch(
            peer: nil, logger: logger, sendNotification: { frame in notifications.append(String(buffer: frame)) })
        guard let response = await table.respond(to: bytes, dispatch: dispatch) else { return nil }
        return try? JSONParser.parse(Array(response.readableBytesView))
    }

    /// Sends `params` to `M` as request `id`; the response's id must echo it.
    func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params, id: Int64 = 1) async throws -> Result<M.Result, RPCError> {
        let frame = try RPCFrames.request(id: .number(.init(id)), method: M.name, params: params)
        guard let tree = await answer(frame), case .object(let response) = tree else {
            throw HarnessError("no answer, or an answer that is not a JSON object, to \(M.name)")
        }
        guard response["id"] == .number(Double(id)), response["jsonrpc"] == .string("2.0") else {
            throw HarnessError("the answer to \(M.name) does not echo id \(id): \(tree)")
        }
        if let error = response["error"] {
            return .failure(try JSONValueDecoder.decode(RPCError.self, from: error))
        }
        guard let result = response["result"] else { throw HarnessError("neither result nor error: \(tree)") }
        return .success(try JSONValueDecoder.decode(M.Result.self, from: result))
    }

    /// Writes `text` as an artifact; returns its path and lower-case hex sha256.
    func artifact(_ text: String, named name: String = "model.bin") throws -> (path: String, sha256: String) {
        let path = folder + "/" + name
        let bytes = Data(text.utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, Self.sha256(bytes))
    }

    /// Loads `fake-model:<tag>` under `handle`, and checks that it loaded.
    func load(_ tag: String, as handle: String) async throws {
        let (path, sha256) = try artifact("fake-model:\(tag)", named: "\(tag).bin")
        let loaded = try await call(PluginMethod.Load.self, PluginLoadParams(model: handle, artifactPath: path, sha256: sha256))
        guard case .success = loaded else { throw HarnessError("loading \(tag) failed: \(loaded)") }
    }

    static func sha256(_ bytes: Data) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Result {
    /// The error, when this is one.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
