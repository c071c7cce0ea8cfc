import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnTuning
import Foundation
import Logging
import NIOPosix

/// How a tuned `models.train` searches (`kind` `auto`, or `tune`): checked before any file is read.
struct TuningRequest: Sendable {
    /// Seconds for the whole run; nil: chosen from the number of rows (``budget(rows:)``).
    let budget: Double?
    let trials: Int
    let folds: Int
    let blend: Bool
    let auto: Bool

    /// Nil when the request does not tune; refuses search settings without tuning, and settings
    /// out of range, naming the field.
    init?(_ params: TrainParams) throws {
        let auto = params.kind == "auto"
        if auto, params.tune == false {
            throw RPCError.invalidParams(field: "tune", "kind auto always tunes: leave tune out, or name one kind")
        }
        guard auto || params.tune == true else {
            for (field, set) in [("budget", params.budget != nil), ("trials", params.trials != nil), ("folds", params.folds != nil), ("blend", params.blend != nil)] where set {
                throw RPCError.invalidParams(field: field, "only applies to a tuned run: set tune (churn train --tune) or kind auto")
            }
            return nil
        }
        if let budget = params.budget, !(5...86_400).contains(budget) {
            throw RPCError.invalidParams(field: "budget", "must be between 5 and 86400 seconds, got \(budget)")
        }
        if let trials = params.trials, !(1...500).contains(trials) {
            throw RPCError.invalidParams(field: "trials", "must be between 1 and 500 configurations per kind, got \(trials)")
        }
        if let folds = params.folds, !(2...20).contains(folds) {
            throw RPCError.invalidParams(field: "folds", "must be between 2 and 20, got \(folds)")
        }
        if params.blend == true, !auto {
            throw RPCError.invalidParams(field: "blend", "a blend mixes kinds: use kind auto (one kind has nothing to blend with)")
        }
        if auto, let hyper = params.params, !hyper.isEmpty {
            throw RPCError.invalidParams(
                field: "params",
                "kind auto searches every kind, whose hyperparameters differ: tune one kind with its params fixed (kind K, tune true), or leave params out")
        }
        self.budget = params.budget
        self.trials = params.trials ?? 27
        self.folds = params.folds ?? 5
        self.blend = auto && (params.blend ?? true)
        self.auto = auto
    }

    /// The default budget: a minute for up to 5,000 rows, growing with the file (an hour at most).
    static func budget(rows: Int) -> Double {
        min(3600, 60 * max(1, Double(rows) / 5000))
    }

    /// The plugins searched: `kind`'s, or for `auto` every installed plugin that trains.
    func plugins(_ supervisor: PluginSupervisor, kind: String) async throws -> [PluginProcess] {
        guard auto else { return [try supervisor.plugin(kind: kind)] }
        var found: [PluginProcess] = []
        for plugin in supervisor.plugins {
            _ = try? await plugin.readyConnection()
            if let description = await plugin.pluginDescription, description.capabilities.contains("train") {
                found.append(plugin)
            }
        }
        guard !found.isEmpty else {
            throw RPCError(.notSupported, "kind auto found no installed plugin that trains: install churn-plugin-<kind> beside churnd")
        }
        return found
    }
}

/// Runs the cross-validated search of a tuned training run through the plugins, with live
/// progress, stopping early when the caller goes away.
struct ModelTuning: Sendable {
    let plugins: [PluginProcess]
    let logger: Logger

    func search(
        _ prepared: ModelTraining.Prepared, tuning: TuningRequest, fixed: [String: JSONValue], seed: UInt64, context: RPCCallContext
    ) async throws -> SearchOutcome {
        let rows = prepared.searchRows
        let labels = rows.churned ?? []
        let smallest = min(labels.filter { $0 }.count, labels.filter { !$0 }.count)
        guard smallest >= tuning.folds else {
            throw RPCError(
                .invalidData,
                "\(tuning.folds)-fold cross-validation needs at least \(tuning.folds) churners and stayers among the training rows; there are \(smallest) of the rarer class: use fewer folds (--folds)",
                data: ["field": "folds"])
        }
        let folder = ((prepared.artifactPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("search")
        let files = try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try FoldFiles(data: rows, panel: prepared.panel, k: tuning.folds, seed: seed &+ 17, folder: folder)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let hasHistory = prepared.panel != nil || rows.schema.derivedHistory != nil
        var spaces: [SearchSpace] = []
        for plugin in plugins {
            let specs = await plugin.pluginDescription?.parameters ?? []
            // The fixed values are checked before the search builds on them (a budget parameter
            // sets every rung's amount): a bad one is refused here, naming it, as train would.
            if !fixed.isEmpty {
                let values = try ParameterValues(fixed, specs: specs)
                for spec in specs where fixed[spec.name] != nil && spec.role == .budget { _ = try values.integer(spec.name) }
            }
            spaces.append(SearchSpace(kind: plugin.kind, specs: specs, fixed: fixed, hasHistory: hasHistory))
        }
        let budget = tuning.budget ?? TuningRequest.budget(rows: prepared.rows)
        let settings = SearchSettings(budgetSeconds: budget, trialsPerKind: tuning.trials, seed: seed, blend: tuning.blend)
        await context.progress(
            stage: "search", step: 0, total: nil,
            message: String(
                format: "searching %@ by %d-fold cross-validation on the %d training rows (the %d held-back rows are not read), %d configurations per kind, budget %.0f s",
                spaces.map(\.kind).joined(separator: ", "), tuning.folds, labels.count, prepared.test.customers.count, tuning.trials, budget))
        let search = ModelSearch(
            spaces: spaces, labels: files.labels, folds: files.folds, settings: settings,
            scorer: PluginFoldScorer(plugins: Dictionary(uniqueKeysWithValues: plugins.map { ($0.kind, $0) }), files: files, seed: seed))
        let outcome = try await search.run(
            progress: { step in
                var metrics: [String: Double] = [:]
                if let value = step.foldROCAUC { metrics["fold_roc_auc"] = value }
                if let value = step.trialROCAUC { metrics["cv_roc_auc"] = value }
                if let value = step.bestROCAUC { metrics["best_cv_roc_auc"] = value }
                await context.progress(stage: "search", step: step.trial, total: step.planned, message: step.message, metrics: metrics)
            },
            isCancelled: { !context.isCallerConnected() })
        for failure in outcome.failures { logger.warning("tuning: \(failure)") }
        await context.progress(stage: "search", step: outcome.leaderboard.entries.count, total: outcome.leaderboard.planned, message: Self.summary(outcome))
        return outcome
    }

    /// The search's result in a line: what was chosen, against the defaults, and why it stopped.
    static func summary(_ outcome: SearchOutcome) -> String {
        let board = outcome.leaderboard
        var line = String(format: "searched %d configurations in %.1f s", board.entries.count, board.searchSeconds)
        switch board.stopped {
        case "budget"?: line += String(format: " (the %.0f s budget ran out before the plan's %d: the best found so far is registered)", board.budgetSeconds, board.planned)
        case "cancelled"?: line += " (cancelled: the caller went away; the best found so far is registered)"
        default: break
        }
        switch outcome.choice {
        case .single(let kind, let params):
            if let entry = board.entries.first(where: { $0.trial == board.chosenTrial }) {
                line += String(format: "; chose %@ %@: CV ROC-AUC %.4f ± %.4f", kind, ModelSearch.describe(params), entry.rocAUC, entry.rocAUCStd)
                if entry.params != params {
                    line += " (compared at rung \(entry.rung) with \(ModelSearch.describe(entry.params.filter { params[$0.key] != $0.value })); fitted with the full amount)"
                }
            }
            if let defaults = board.entries.filter({ $0.kind == kind && $0.isDefault }).max(by: { $0.rung < $1.rung }) {
                line += String(format: " (its defaults: %.4f)", defaults.rocAUC)
            }
        case .blend(let members):
            line += "; chose a blend of " + members.map { String(format: "%@ (weight %.1f)", $0.kind, $0.weight) }.joined(separator: ", ")
            if let blend = board.blend { line += String(format: ": nested CV ROC-AUC %.4f ± %.4f", blend.rocAUC, blend.rocAUCStd) }
        }
        if let blend = board.blend, !blend.chosen {
            line += String(format: "; a blend scored %.4f, no better", blend.rocAUC)
        }
        return line
    }
}

/// Scores folds through the plugins, as any model is trained and scored: `train` on the fold's
/// training file (no validation file), `load` under a temporary handle, `predict` the fold's rows.
struct PluginFoldScorer: FoldScorer {
    let plugins: [String: PluginProcess]
    let files: FoldFiles
    let seed: UInt64

    func score(kind: String, params: [String: JSONValue], fold: Int, timeLimit: Double) async throws -> [Double] {
        guard let plugin = plugins[kind] else { throw RPCError(.notSupported, "no plugin of kind \(kind)") }
        let artifact = files.artifactPath(fold: fold)
        defer { try? FileManager.default.removeItem(atPath: artifact) }
        let connection = try await plugin.readyConnection()
        _ = try await plugin.call(
            PluginMethod.Train.self, files.trainRequest(fold: fold, params: params, seed: seed, artifactPath: artifact),
            over: connection, timeout: .milliseconds(Int64(min(timeLimit, 86_400 * 2) * 1000)))
        let sha256 = try await NIOThreadPool.singleton.runIfActive {
            try Data(contentsOf: URL(fileURLWithPath: artifact), options: .mappedIfSafe).sha256Hex
        }
        let handle = "search-\(UUID().uuidString.prefix(8))"
        let loaded = try await plugin.connection(loading: PluginLoadParams(model: handle, artifactPath: artifact, sha256: sha256))
        let scored = await Result(catching: {
            try await ModelTraining.score(files.records[fold], plugin: plugin, handle: handle, over: loaded, what: "fold")
        })
        await plugin.unload(handle)
        return try scored.get()
    }
}
