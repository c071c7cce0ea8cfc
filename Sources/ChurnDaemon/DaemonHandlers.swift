import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import NIOPosix

/// The daemon's method table: each method of `Protocol/PROTOCOL.md` bound to its handler.
struct DaemonHandlers {
    let daemon: DaemonState
    let serving: ModelServing
    let resolver: ModelResolver
    let router: ExperimentRouter
    let training: ModelTraining
    var files: ClientFiles { training.files }

    func table() -> RPCMethodTable {
        var table = RPCMethodTable()
        let daemon = self.daemon
        let serving = self.serving
        let resolver = self.resolver
        let registry = resolver.registry
        let training = self.training
        let access = daemon.configuration.access
        let files = self.files
        let logger = training.logger
        // Refused calls are audited with the caller's uid, a bounded number of rows per minute.
        let refusals = RefusalAudit { row in
            do {
                if row.repeated {
                    logger.warning("refused \(row.method) for \(row.user) (uid \(row.uid)) \(row.count) more times: not an admin")
                    try await registry.auditRepeatedRefusals(
                        user: row.user, uid: row.uid, method: row.method, count: row.count, first: row.first, last: row.last)
                } else {
                    logger.warning("refused \(row.method) for \(row.user) (uid \(row.uid)): not an admin")
                    try await registry.auditRefusal(user: row.user, uid: row.uid, method: row.method)
                }
            } catch {
                logger.error("could not audit a refused \(row.method): \(error)")
            }
        }
        table.authorize = { method, peer in
            guard let refusal = access.refusal(of: method, by: peer) else { return nil }
            let uid = peer?.uid ?? UInt32.max
            refusals.record(uid: uid, user: peer.map { PeerCredentials.userName(uid: $0.uid) } ?? "unknown", method: method)
            return refusal
        }
        table.whenDrained = { await refusals.finish() }

        table.register(DaemonMethod.Health.self) { _, _ in
            await daemon.health()
        }
        table.register(DaemonMethod.PluginsList.self) { _, _ in
            PluginsListResult(plugins: await resolver.supervisor.statuses())
        }
        table.register(DaemonMethod.Predict.self) { params, _ in
            PredictResult(predictions: try await serving.predict(params.sent, reference: params.model, log: params.log ?? true))
        }
        table.register(DaemonMethod.PredictBatch.self) { params, _ in
            try await serving.predictBatch(params.batch, reference: params.model, log: params.log ?? true)
        }
        table.register(DaemonMethod.Explain.self) { params, _ in
            ExplainResult(
                explanations: try await serving.explain(params.customers, reference: params.model, top: params.top))
        }
        table.register(DaemonMethod.ModelsTrain.self) { params, context in
            try await training.train(params, context: context)
        }
        table.register(DaemonMethod.ModelsList.self) { params, _ in
            ModelsListResult(versions: try await registry.list(name: params.name))
        }
        table.register(DaemonMethod.ModelsGet.self) { params, _ in
            guard let reference = ModelReference(parsing: params.model) else {
                throw RPCError.invalidParams(
                    field: "model", "\"\(params.model)\" is not a model reference: use 3, churn@3 or champion")
            }
            return try await registry.resolve(reference)
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
            let user = try Self.user(context, onBehalfOf: params.onBehalfOf)
            let version = try await registry.resolve(reference)
            try await Self.checkAlias(alias, of: version.name, create: params.createAlias ?? false, registry: registry)
            try await Self.checkNoExperiment(moving: alias, of: version.name, registry: registry)
            // Warm the new version before the switch, so no request waits on a cold load.
            _ = try await resolver.prepare(version.ref.description)
            let change = try await registry.setAlias(
                alias, of: version.name, to: version.version, user: user, reason: params.reason)
            resolver.invalidate()
            return change
        }
        table.register(DaemonMethod.ModelsRollback.self) { params, context in
            let name = params.name ?? ModelReference.defaultName
            let alias = params.alias ?? ModelReference.champion
            let user = try Self.user(context, onBehalfOf: params.onBehalfOf)
            try await Self.checkNoExperiment(moving: alias, of: name, registry: registry)
            // Warm the version it goes back to before the switch.
            let target = try await registry.rollbackTarget(alias, of: name)
            _ = try await resolver.prepare("\(name)@\(target)")
            let change = try await registry.rollbackAlias(
                alias, of: name, user: user, reason: params.reason)
            resolver.invalidate()
            return change
        }
        table.register(DaemonMethod.ModelsRegister.self) { params, context in
            let opened = files.request()
            defer { opened.close() }
            let path = try opened.open(params.file, field: "file")
            let bytes = try await NIOThreadPool.singleton.runIfActive {
                do {
                    return try Data(contentsOf: URL(fileURLWithPath: path))
                } catch {
                    throw RPCError(.fileError, "cannot read \(params.file): \(error.localizedDescription)", data: ["field": "file"])
                }
            }
            let version = try await registry.importFile(
                bytes, file: files.displayName(params.file), name: params.name, user: Self.user(context))
            resolver.invalidate()
            return version
        }
        table.register(DaemonMethod.ModelsExport.self) { params, _ in
            guard let reference = ModelReference(parsing: params.model) else {
                throw RPCError.invalidParams(field: "model", "\"\(params.model)\" is not a model reference")
            }
            // The target is checked before any work: outside the export roots nothing is written.
            let target = try params.file.map { try files.exportTarget($0, field: "file", overwrite: params.overwrite ?? false) }
            let version = try await registry.resolve(reference)
            let bytes = try await registry.export(version.ref)
            guard let target else {
                let (download, sha256) = try await NIOThreadPool.singleton.runIfActive { try files.offer(bytes) }
                return ExportResult(model: version.ref, download: download, bytes: bytes.count, sha256: sha256)
            }
            try await NIOThreadPool.singleton.runIfActive { try files.write(bytes, to: target) }
            return ExportResult(model: version.ref, file: target.path, bytes: bytes.count, sha256: bytes.sha256Hex)
        }
        table.register(DaemonMethod.FilesUpload.self) { params, _ in
            try await NIOThreadPool.singleton.runIfActive { try files.receive(params) }
        }
        table.register(DaemonMethod.FilesDownload.self) { params, _ in
            try await NIOThreadPool.singleton.runIfActive { try files.read(params) }
        }
        table.register(DaemonMethod.ModelsDelete.self) { params, context in
            guard let reference = ModelReference(parsing: params.model), case .version = reference.selector else {
                throw RPCError.invalidParams(field: "model", "name a version by number (3 or churn@3), not an alias")
            }
            let version = try await registry.resolve(reference)
            // A blend's member stays while the blend does: the blend would answer nothing.
            if let blend = try await registry.list(name: version.name).first(where: { listed in
                listed.members?.contains { $0.version == version.version } == true
            }) {
                throw RPCError(
                    .conflict, "\(version.ref) is a member of the blend \(blend.ref): delete the blend first",
                    data: ["model": .string(version.ref.description), "blend": .string(blend.ref.description)])
            }
            try await registry.delete(version.ref, user: Self.user(context))
            resolver.invalidate()
            if let plugin = try? resolver.supervisor.plugin(kind: version.kind) { await plugin.unload(version.ref.description) }
            return version.ref
        }
        table.register(DaemonMethod.ModelsVerify.self) { _, _ in
            try await registry.verify()
        }
        table.register(DaemonMethod.ModelsAudit.self) { params, _ in
            let limit = params.limit ?? 100
            guard (1...10_000).contains(limit) else {
                throw RPCError.invalidParams(field: "limit", "must be between 1 and 10000, got \(limit)")
            }
            return AuditResult(entries: try await registry.auditLog(limit: limit))
        }
        table.register(HistoryMethod.Append.self) { params, _ in
            let model = try Self.modelName(params.model)
            return try await serving.history.append(params, model: model, panel: try await resolver.panelSchema(of: model))
        }
        table.register(HistoryMethod.Get.self) { params, _ in
            guard !params.customerID.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw RPCError.invalidParams(field: "customerID", "must be a non-empty string")
            }
            return try await serving.history.months(of: params.customerID, model: try Self.modelName(params.model))
        }
        ExperimentHandlers(serving: serving, resolver: resolver, router: router).register(into: &table)
        CampaignHandlers(serving: serving, registry: registry, training: training).register(into: &table)
        // Last, so that its answer names every method above (and itself).
        let methods = (table.methodNames + [DaemonMethod.Describe.name]).sorted()
        table.register(DaemonMethod.Describe.self) { _, _ in
            DaemonDescription(name: "churnd", daemonVersion: ChurnDaemon.version, methods: methods)
        }
        return table
    }

    /// An alias may be moved when it is `champion` or `challenger`, when the model has it
    /// already, or when the caller asks to create it; a near miss of an existing one is refused
    /// with the name it probably meant, even when asked to create it.
    static func checkAlias(_ alias: String, of name: String, create: Bool, registry: ModelRegistry) async throws {
        let existing = Set(try await registry.aliases(of: name)).union([ModelReference.champion, ModelReference.challenger])
        if existing.contains(alias) { return }
        if let meant = NearMiss.suggestion(for: alias, among: existing.sorted()) {
            throw RPCError(
                .invalidParams, "invalid params: alias: \(name) has no alias \"\(alias)\": did you mean \(meant)?",
                data: ["field": "alias", "reason": .string("no such alias; did you mean \(meant)?"), "suggestion": .string(meant)])
        }
        guard create else {
            throw RPCError.invalidParams(
                field: "alias",
                "\(name) has no alias \"\(alias)\" (it has \(existing.sorted().joined(separator: ", "))): pass create_alias (churn promote --create-alias) to create it")
        }
    }

    /// The champion and challenger of a model stay put while an experiment compares them: its
    /// report names their versions.
    static func checkNoExperiment(moving alias: String, of name: String, registry: ModelRegistry) async throws {
        guard alias == ModelReference.champion || alias == ModelReference.challenger,
            let running = try await registry.runningExperiment(model: name)
        else { return }
        throw RPCError(
            .conflict,
            "experiment \(running.id) on \(name) compares champion v\(running.championVersion) with challenger v\(running.challengerVersion): stop it first (churn experiment stop\(name == ModelReference.defaultName ? "" : " --name \(name)")), then move the \(alias)",
            data: ["experiment": .number(Double(running.id))])
    }

    /// A request's model name (default `churn`), checked.
    static func modelName(_ name: String?) throws(RPCError) -> String {
        let name = name ?? ModelReference.defaultName
        guard ModelReference.isValidName(name) else {
            throw RPCError.invalidParams(field: "model", "\"\(name)\" is not a model name: use letters, digits, _ - .")
        }
        return name
    }

    static func user(_ context: RPCCallContext) -> String {
        context.peer?.userName ?? PeerCredentials.currentUserName
    }

    /// The Unix user, and the person a client says it acts for: `www-data (web: alice)`.
    static func user(_ context: RPCCallContext, onBehalfOf: String?) throws(RPCError) -> String {
        guard let person = onBehalfOf else { return user(context) }
        guard (1...64).contains(person.count), person.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) && $0 != "(" && $0 != ")" }) else {
            throw RPCError.invalidParams(field: "on_behalf_of", "must be 1 to 64 printable characters without parentheses")
        }
        return "\(user(context)) (\(person))"
    }
}
