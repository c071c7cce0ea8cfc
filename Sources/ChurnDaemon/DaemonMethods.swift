import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging

/// The daemon's method table: each method of `Protocol/PROTOCOL.md` bound to its handler.
struct DaemonMethods {
    let daemon: DaemonState
    let serving: ModelServing
    let training: ModelTraining

    func table() -> RPCMethodTable {
        var table = RPCMethodTable()
        let daemon = self.daemon
        let serving = self.serving
        let training = self.training

        table.register(DaemonMethod.Health.self) { _, _ in
            await daemon.health()
        }
        table.register(DaemonMethod.PluginsList.self) { _, _ in
            PluginsListResult(plugins: await serving.supervisor.statuses())
        }
        table.register(DaemonMethod.Predict.self) { params, _ in
            PredictResult(predictions: try await serving.predict(params.customers, reference: params.model))
        }
        table.register(DaemonMethod.Explain.self) { params, _ in
            ExplainResult(
                explanations: try await serving.explain(params.customers, reference: params.model, top: params.top))
        }
        table.register(DaemonMethod.ModelsTrain.self) { params, context in
            try await training.train(params, context: context)
        }
        table.register(DaemonMethod.ModelsList.self) { params, _ in
            ModelsListResult(versions: try await serving.registry.list(name: params.name))
        }
        table.register(DaemonMethod.ModelsGet.self) { params, _ in
            guard let reference = ModelReference(parsing: params.model) else {
                throw RPCError.invalidParams(
                    field: "model", "\"\(params.model)\" is not a model reference: use 3, churn@3 or champion")
            }
            return try await serving.registry.resolve(reference)
        }
        table.register(DaemonMethod.ModelsPromote.self) { params, context in
            guard let reference = ModelReference(parsing: params.model) else {
                throw RPCError.invalidParams(
                    field: "model", "\"\(params.model)\" is not a model reference: use 3, churn@3 or challenger")
            }
            let alias = params.alias ?? ModelReference.champion
            guard ModelReference.isValidName(alias) else {
                throw RPCError.invalidParams(field: "alias", "\"\(alias)\" is not an alias name")
            }
            let version = try await serving.registry.resolve(reference)
            // Warm the new version before the switch, so no request waits on a cold load.
            _ = try await serving.prepare(version.ref.description)
            let change = try await serving.registry.setAlias(
                alias, of: version.name, to: version.version, user: Self.user(context), reason: params.reason)
            serving.invalidate()
            return change
        }
        table.register(DaemonMethod.ModelsRollback.self) { params, context in
            let name = params.name ?? ModelReference.defaultName
            let alias = params.alias ?? ModelReference.champion
            let change = try await serving.registry.rollbackAlias(
                alias, of: name, user: Self.user(context), reason: params.reason)
            serving.invalidate()
            if let version = change.to { _ = try? await serving.prepare("\(name)@\(version)") }
            return change
        }
        return table
    }

    static func user(_ context: RPCCallContext) -> String {
        context.peer?.userName ?? PeerCredentials.currentUserName
    }
}
