import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging

/// `models.train`: runs a plugin's `train` in a fresh run folder, forwards its progress to the
/// caller, and registers the artifact it wrote.
struct ModelTraining: Sendable {
    let serving: ModelServing
    let runsDirectory: String
    let logger: Logger

    func train(_ params: TrainParams, context: RPCCallContext) async throws -> ModelVersionInfo {
        let name = params.name ?? ModelReference.defaultName
        guard ModelReference.isValidName(name) else {
            throw RPCError.invalidParams(field: "name", "\"\(name)\" is not a model name: use letters, digits, _ - .")
        }
        let dataPath = ChurnLocations.absolute(params.data)
        guard FileManager.default.isReadableFile(atPath: dataPath) else {
            throw RPCError(
                .fileError, "cannot read the training data \(dataPath): check the path (it is read by churnd)",
                data: ["field": "data"])
        }
        let plugin = try serving.supervisor.plugin(kind: params.kind)
        let connection = try await plugin.readyConnection()
        let run = try makeRunFolder(kind: plugin.kind)
        let artifactPath = (run as NSString).appendingPathComponent("model.artifact")
        let requestID = context.requestID
        let forward: @Sendable (ProgressUpdate) -> Void = { update in
            guard let requestID else { return }
            var update = update
            update.request = requestID
            Task { await context.notify(ProgressNotification.self, update) }
        }
        let seed = params.seed ?? 0
        let result = try await plugin.call(
            PluginMethod.Train.self,
            PluginTrainParams(
                trainPath: dataPath, historyPath: params.history, params: params.params ?? [:], seed: seed,
                artifactPath: artifactPath),
            over: connection, timeout: nil, onProgress: forward)
        let artifact: Data
        do {
            artifact = try Data(contentsOf: URL(fileURLWithPath: artifactPath))
        } catch {
            throw RPCError(.internalError, "plugin \(plugin.kind) reported success but wrote no artifact at \(artifactPath)")
        }
        let description = await plugin.pluginDescription
        let dataBytes = (try? Data(contentsOf: URL(fileURLWithPath: dataPath), options: .mappedIfSafe)) ?? Data()
        let rows = max(dataBytes.split(separator: UInt8(ascii: "\n")).count - 1, 0)
        let registration = ModelRegistration(
            name: name, kind: plugin.kind, pluginVersion: description?.pluginVersion ?? "unknown",
            params: result.params, metrics: result.metrics, lossCurve: result.lossCurve,
            importances: result.importances, featureSchema: result.featureSchema,
            trainingData: TrainingDataInfo(sha256: dataBytes.sha256Hex, rows: rows, path: dataPath),
            notes: params.notes, tags: params.tags ?? [])
        let version = try await serving.registry.register(
            registration, artifact: artifact, user: context.peer?.userName ?? PeerCredentials.currentUserName)
        serving.invalidate()
        logger.info("registered \(version.ref) (\(plugin.kind))")
        return version
    }

    private func makeRunFolder(kind: String) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let path = (runsDirectory as NSString).appendingPathComponent("\(stamp)-\(kind)-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RPCError(.fileError, "cannot create the training run folder \(path): \(error.localizedDescription)")
        }
        return path
    }
}
