import ChurnProtocol
import Crypto
import Foundation
import Synchronization

/// The models a plugin process holds, by the handle the daemon chose.
final class LoadedModels: Sendable {
    private let models = Mutex<[String: any LoadedChurnModel]>([:])

    /// Reads the artifact, checks its sha256, and loads it under `params.model`.
    func load(_ params: PluginLoadParams, with plugin: some ChurnModelPlugin) throws -> PluginLoadResult {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: params.artifactPath))
        } catch {
            throw RPCError(
                .fileError, "cannot read artifact \(params.artifactPath): \(error.localizedDescription)",
                data: ["field": "artifact_path"])
        }
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        guard digest == params.sha256.lowercased() else {
            throw RPCError(
                .integrityFailure,
                "artifact \(params.artifactPath) has sha256 \(digest), expected \(params.sha256): refusing to load it",
                data: ["model": .string(params.model), "expected": .string(params.sha256), "actual": .string(digest)])
        }
        let model = try plugin.load(artifact: bytes)
        models.withLock { $0[params.model] = model }
        return PluginLoadResult(model: params.model, features: model.features)
    }

    func unload(_ handle: String) {
        _ = models.withLock { $0.removeValue(forKey: handle) }
    }

    /// The model under `handle`, or -32010 naming it.
    func model(_ handle: String) throws -> any LoadedChurnModel {
        guard let model = models.withLock({ $0[handle] }) else {
            throw RPCError(
                .modelNotFound, "no model is loaded under \"\(handle)\": call load first",
                data: ["field": "model", "model": .string(handle)])
        }
        return model
    }
}
