import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import ChurnTuning
import Foundation
import Logging
import NIOPosix

/// `models.train`: settles the dataset schema (given, built in, or inferred from the file),
/// reads and checks the data under it, holds back a stratified test split, has the plugin train
/// on the rest (with its own validation split), evaluates the artifact on the held-back rows
/// itself (so every kind is judged the same way), and registers the version with its schema.
struct ModelTraining: Sendable {
    /// Plugins, the registry and the resolved versions' caches (invalidated after a registration).
    let resolver: ModelResolver
    /// Customers' months, stored when a training file comes with a monthly panel.
    let history: CustomerHistory
    let runsDirectory: String
    /// Checks the files a request names (uploads, or paths under the data roots).
    let files: ClientFiles
    let logger: Logger

    /// Rows per predict call while evaluating (well under the frame limit).
    static let evaluationBatch = 2000

    func train(_ params: TrainParams, context: RPCCallContext) async throws -> ModelVersionInfo {
        let opened = files.request()
        defer { opened.close() }
        do {
            return try await trainChecked(params, opened: opened, context: context)
        } catch let error as RPCErrorConvertible {
            // Messages name files as the client named them.
            throw opened.naming(error.rpcError)
        }
    }

    private func trainChecked(_ params: TrainParams, opened: RequestFiles, context: RPCCallContext) async throws -> ModelVersionInfo {
        // Every file the request names is opened (an upload, or a regular file beneath a data
        // root) before anything else, and read through what was opened.
        let shownData = files.displayName(params.data)
        var checkedParams = params
        checkedParams.data = try opened.open(params.data, field: "data")
        if let history = params.history { checkedParams.history = try opened.open(history, field: "history") }
        if let mapping = params.mapping, BuiltInSchemas.all[mapping] == nil {
            checkedParams.mapping = try opened.open(mapping, field: "mapping")
        }
        let params = checkedParams
        let name = params.name ?? ModelReference.defaultName
        guard ModelReference.isValidName(name) else {
            throw RPCError.invalidParams(field: "name", "\"\(name)\" is not a model name: use letters, digits, _ - .")
        }
        let testFraction = params.testFraction ?? 0.2
        let validationFraction = params.validationFraction ?? 0.2
        guard (0.05...0.5).contains(testFraction) else {
            throw RPCError.invalidParams(field: "test_fraction", "must be between 0.05 and 0.5, got \(testFraction)")
        }
        guard (0.05...0.5).contains(validationFraction) else {
            throw RPCError.invalidParams(field: "validation_fraction", "must be between 0.05 and 0.5, got \(validationFraction)")
        }
        let tuning = try TuningRequest(params)
        let plugins = try await tuning?.plugins(resolver.supervisor, kind: params.kind) ?? [resolver.supervisor.plugin(kind: params.kind)]
        let seed = params.seed ?? 0
        let progress = { (stage: String, step: Int, total: Int?, message: String) in
            await context.progress(stage: stage, step: step, total: total, message: message)
        }

        // Read, check and split the data off the event loop.
        await progress("split", 0, 1, "reading \(shownData)")
        let runKind = tuning == nil ? plugins[0].kind : params.kind
        let prepared = try await NIOThreadPool.singleton.runIfActive {
            try Self.prepare(params, shownData: shownData, seed: seed, testFraction: testFraction,
                validationFraction: validationFraction, runs: runsDirectory, kind: runKind)
        }
        await progress("schema", 1, 1, prepared.schemaSummary)
        if let summary = prepared.historySummary { await progress("history", 1, 1, summary) }
        await progress(
            "split", 1, 1,
            "\(prepared.rows) rows: \(prepared.trainRows) to train, \(prepared.validationRows) to validate, \(prepared.test.customers.count) held back")

        // Choose what to fit: what the request names, or what the search finds on the training
        // rows (the held-back rows are not read until the final evaluation).
        var choice = SearchChoice.single(kind: plugins[0].kind, params: params.params ?? [:])
        var leaderboard: Leaderboard?
        if let tuning {
            let outcome = try await ModelTuning(plugins: plugins, logger: logger).search(
                prepared, tuning: tuning, fixed: params.params ?? [:], seed: seed, context: context)
            choice = outcome.choice
            leaderboard = outcome.leaderboard
        }

        let user = context.peer?.userName ?? PeerCredentials.currentUserName
        let version: ModelVersionInfo
        switch choice {
        case .single(let kind, let chosen):
            let plugin = try resolver.supervisor.plugin(kind: kind)
            let fitted = try await fit(plugin, params: chosen, prepared: prepared, seed: seed, artifactPath: prepared.artifactPath, context: context)
            var registration = try await describe(
                fitted, kind: plugin.kind, prepared: prepared, name: name, seed: seed, params: params, shownData: shownData,
                context: context)
            registration.leaderboard = leaderboard
            version = try await resolver.registry.register(registration, stored: fitted.artifact, user: user)
        case .blend(let members):
            version = try await registerBlend(
                members, leaderboard: leaderboard, prepared: prepared, name: name, seed: seed, params: params, shownData: shownData,
                user: user, context: context)
        }
        resolver.invalidate()
        Self.removeRun(of: prepared.artifactPath)
        await progress("register", 1, 1, "registered \(version.ref)")
        if let panel = prepared.panel {
            // The training panel's months become the model's stored history, so the customers it
            // knows are scored on their months without sending them.
            let stored = try await history.importPanel(panel, model: name)
            await progress(
                "history", 1, 1,
                "stored the panel's months for \(name): \(stored.appended) new, \(stored.replaced) corrected, \(stored.unchanged) unchanged")
        }
        logger.info("registered \(version.ref) (\(version.kind)), held-back ROC-AUC \(version.metrics["test_roc_auc"] ?? .nan)")
        return version
    }

    /// A fitted artifact and its raw (uncalibrated) probabilities on the held-back and the
    /// validation rows.
    struct Fitted: Sendable {
        let result: PluginTrainResult
        let artifact: ModelRegistry.StoredArtifact
        let pluginVersion: String
        let test: [Double]
        let validation: [Double]
    }

    /// Has `plugin` fit `params` on the run's training file, then scores the held-back and
    /// validation rows with the artifact under a temporary handle.
    func fit(
        _ plugin: PluginProcess, params: [String: JSONValue], prepared: Prepared, seed: UInt64, artifactPath: String,
        context: RPCCallContext
    ) async throws -> Fitted {
        let connection = try await plugin.readyConnection()
        let (result, artifact) = try await runPlugin(
            plugin, over: connection,
            PluginTrainParams(
                trainPath: prepared.trainPath, validationPath: prepared.validationPath,
                historyPath: prepared.historyPath, params: params, seed: seed,
                artifactPath: artifactPath, schema: prepared.test.schema.canonical.jsonValue),
            context: context)
        await context.progress(
            stage: "evaluate", step: 0, total: prepared.testRecords.count,
            message: "scoring \(prepared.testRecords.count) held-back customers with the \(plugin.kind) model")
        let handle = "evaluate-\(UUID().uuidString.prefix(8))"
        let evaluation = try await plugin.connection(
            loading: PluginLoadParams(model: handle, artifactPath: artifactPath, sha256: artifact.sha256))
        // The temporary handle is unloaded whether scoring succeeds or not.
        let scored = await Result(catching: {
            let test = try await Self.score(prepared.testRecords, plugin: plugin, handle: handle, over: evaluation, what: "held-back")
            let validation = try await Self.score(
                prepared.validationRecords, plugin: plugin, handle: handle, over: evaluation, what: "validation")
            return (test: test, validation: validation)
        })
        await plugin.unload(handle)
        let (test, validation) = try scored.get()
        let description = await plugin.pluginDescription
        return Fitted(
            result: result, artifact: artifact, pluginVersion: description?.pluginVersion ?? "unknown", test: test,
            validation: validation)
    }

    /// The probabilities of `records` from the model loaded as `handle`, in batches.
    static func score(
        _ records: [CustomerRecord], plugin: PluginProcess, handle: String, over connection: RPCConnection, what: String
    ) async throws -> [Double] {
        var probabilities: [Double] = []
        for start in stride(from: 0, to: records.count, by: evaluationBatch) {
            let batch = Array(records[start..<min(start + evaluationBatch, records.count)])
            let scored = try await plugin.call(
                PluginMethod.Predict.self, PluginPredictParams(model: handle, customers: batch),
                over: connection, timeout: .seconds(120))
            probabilities += scored.probabilities
        }
        guard probabilities.count == records.count else {
            throw RPCError(.internalError, "plugin \(plugin.kind) scored \(probabilities.count) of \(records.count) \(what) customers")
        }
        return probabilities
    }

    /// The registration of one fitted model of `kind`: ``describe(_:_:prepared:name:seed:params:shownData:context:)``
    /// of its probabilities, with the plugin's params, metrics, curves, importances and schema.
    func describe(
        _ fitted: Fitted, kind: String, prepared: Prepared, name: String, seed: UInt64, params: TrainParams, shownData: String,
        context: RPCCallContext
    ) async throws -> ModelRegistration {
        var registration = try await describe(
            fitted.test, fitted.validation, prepared: prepared, name: name, seed: seed, params: params, shownData: shownData,
            context: context)
        registration.kind = kind
        registration.pluginVersion = fitted.pluginVersion
        registration.params = fitted.result.params
        for (key, value) in fitted.result.metrics where registration.metrics[key] == nil { registration.metrics[key] = value }
        registration.lossCurve = fitted.result.lossCurve
        registration.lossCurveUnit = fitted.result.lossCurveUnit
        registration.importances = fitted.result.importances
        registration.featureSchema = fitted.result.featureSchema
        registration.historySource = fitted.result.historySource
        return registration
    }

    /// A registration for raw probabilities on the held-back (`raw`) and validation rows: a
    /// calibrator fitted on the validation rows (never the held-back ones), then the served,
    /// calibrated probabilities judged on the held-back rows. Kind, params, curves and
    /// importances are the caller's to fill in.
    func describe(
        _ raw: [Double], _ validationScores: [Double], prepared: Prepared, name: String, seed: UInt64, params: TrainParams,
        shownData: String, context: RPCCallContext
    ) async throws -> ModelRegistration {
        let labels = prepared.test.churned ?? []
        let (calibrator, losses) = Calibrator.choose(validationScores, prepared.validationLabels, seed: seed)
        let probabilities = calibrator.apply(raw)
        let calibration = CalibrationRecord(
            calibrator: calibrator, validationRows: prepared.validationLabels.count,
            validationLogLoss: Dictionary(uniqueKeysWithValues: losses.map { ($0.key.rawValue, $0.value) }),
            testECE: Metrics.expectedCalibrationError(labels, probabilities), testECERaw: Metrics.expectedCalibrationError(labels, raw),
            testBrier: Metrics.brier(labels, probabilities), testBrierRaw: Metrics.brier(labels, raw),
            reliability: Metrics.calibration(labels, probabilities))
        var metrics: [String: Double] = [:]
        for (key, value) in Metrics.report(labels, probabilities) { metrics["test_" + key] = value }
        metrics["test_ece"] = calibration.testECE
        metrics["test_ece_raw"] = calibration.testECERaw
        metrics["test_brier_raw"] = calibration.testBrierRaw
        if let auc = Metrics.rocAUC(labels, raw) { metrics["test_roc_auc_raw"] = auc }
        let roc = Self.downsample(Metrics.rocCurve(labels, probabilities), to: 101).map {
            ROCPoint(threshold: $0.threshold.isFinite ? $0.threshold : 1, falsePositiveRate: $0.fpr, truePositiveRate: $0.tpr)
        }
        await context.progress(
            stage: "evaluate", step: labels.count, total: labels.count,
            message: String(format: "held-back ROC-AUC %.4f, F1 %.4f", metrics["test_roc_auc"] ?? .nan, metrics["test_f1"] ?? .nan))
        if calibrator.method == .none {
            await context.progress(
                stage: "calibrate", step: 1, total: 1,
                message: "not calibrated: \(prepared.validationLabels.count) validation rows, fewer than \(Calibrator.minimumRows) (or under \(Calibrator.minimumPerClass) of a class); probabilities are served as the plugin gives them")
        } else {
            await context.progress(
                stage: "calibrate", step: 1, total: 1,
                message: String(
                    format: "calibrated with %@ (validation log loss: platt %.4f, isotonic %.4f); held-back ECE %.4f → %.4f, Brier %.4f → %.4f",
                    calibrator.method.rawValue, losses[.platt] ?? .nan, losses[.isotonic] ?? .nan, calibration.testECERaw,
                    calibration.testECE, calibration.testBrierRaw, calibration.testBrier))
        }
        return ModelRegistration(
            name: name, kind: "", pluginVersion: "", params: [:], metrics: metrics, rocCurve: roc,
            trainingData: TrainingDataInfo(sha256: prepared.dataSHA256, rows: prepared.rows, path: shownData),
            notes: params.notes, tags: params.tags ?? [], datasetSchema: prepared.test.schema.jsonValue,
            calibration: try? JSONValueEncoder.encode(calibration))
    }

    /// Has `plugin` train (its progress forwarded to the caller), checks that it wrote its
    /// artifact, and compresses and hashes the artifact as it streams from the file, off the
    /// event loops.
    func runPlugin(
        _ plugin: PluginProcess, over connection: RPCConnection, _ request: PluginTrainParams, context: RPCCallContext
    ) async throws -> (PluginTrainResult, ModelRegistry.StoredArtifact) {
        let pluginProgress = ProgressStream(context: context)
        let trained = await Result(catching: {
            try await plugin.call(PluginMethod.Train.self, request, over: connection, timeout: nil, onProgress: { pluginProgress.send($0) })
        })
        await pluginProgress.finish()
        let result = try trained.get()
        guard FileManager.default.fileExists(atPath: request.artifactPath) else {
            throw RPCError(.internalError, "plugin \(plugin.kind) reported success but wrote no artifact at \(request.artifactPath)")
        }
        return (result, try await ModelRegistry.prepareArtifact(file: request.artifactPath))
    }

    /// The files of one training run.
    struct Prepared: Sendable {
        let dataPath: String
        let dataSHA256: String
        let rows: Int
        let trainRows: Int
        let validationRows: Int
        let test: Dataset
        /// The rows a tuning search cross-validates on: the training and validation rows, never
        /// the held-back ones.
        let searchRows: Dataset
        /// The held-back rows as records, with their months when the schema names a panel.
        let testRecords: [CustomerRecord]
        /// The validation rows as records (the calibrator is fitted on their scores) and labels.
        let validationRecords: [CustomerRecord]
        let validationLabels: [Bool]
        /// How the schema was settled, for the progress line.
        let schemaSummary: String
        /// The panel read with the data, and what it holds (for the progress line).
        let panel: MonthlyPanel?
        let historySummary: String?
        let trainPath: String
        let validationPath: String
        let historyPath: String?
        let artifactPath: String
    }

    static func prepare(
        _ params: TrainParams, shownData: String, seed: UInt64, testFraction: Double, validationFraction: Double, runs: String,
        kind: String
    ) throws -> Prepared {
        let dataPath = ChurnLocations.absolute(params.data)
        guard FileManager.default.isReadableFile(atPath: dataPath) else {
            throw RPCError(
                .fileError, "cannot read the training data \(dataPath): check the path (churnd reads it)",
                data: ["field": "data", "path": .string(dataPath)])
        }
        var (schema, summary) = try settleSchema(params, path: dataPath, shown: shownData)
        let panel = try readPanel(params, schema: &schema)
        let (dataset, _) = try DatasetReader.read(
            dataPath, schema: schema, options: DatasetReadOptions(requireLabel: true, skipBadRows: params.skipBadRows ?? false))
        let labels = try dataset.requireLabels(file: dataPath)
        let positives = labels.filter { $0 }.count
        if positives == 0 || positives == labels.count {
            let value = positives == 0 ? schema.label.negative[0] : schema.label.positive[0]
            throw DataError.unusableLabels(
                file: dataPath,
                reason: "one class only: all \(labels.count) rows have \(schema.label.column) = \(value); a model needs churners and stayers")
        }
        guard positives >= 10, labels.count - positives >= 10 else {
            throw RPCError(
                .invalidData,
                "\(dataPath) has \(positives) churners and \(labels.count - positives) stayers: training needs at least 10 of each")
        }
        let split = StratifiedSplit.trainValidationTest(
            labels, testFraction: testFraction, validationFraction: validationFraction, seed: seed)
        let run = try makeRunFolder(runs, kind: kind)
        let trainPath = (run as NSString).appendingPathComponent("train.csv")
        let validationPath = (run as NSString).appendingPathComponent("validation.csv")
        try dataset.rows(split.train).writeCSV(to: trainPath)
        try dataset.rows(split.validation).writeCSV(to: validationPath)
        var historyPath: String?
        var historySummary: String?
        let test = dataset.rows(split.test)
        var testRecords = test.records
        let validation = dataset.rows(split.validation)
        var validationRecords = validation.records
        if let panel {
            let ids = dataset.customers.ids
            let covered = ids.filter { panel.histories[$0] != nil }.count
            guard covered > 0 else {
                throw RPCError(
                    .invalidData,
                    "no customer of \(dataPath) has months in \(params.history!): the data's ids look like \(ids.prefix(3).joined(separator: ", ")), the panel's like \(panel.histories.keys.sorted().prefix(3).joined(separator: ", "))",
                    data: ["field": "history"])
            }
            // Plugins read the months of the customers they train and validate on; the held-back
            // customers' months travel with their records, as a client would send them.
            historyPath = (run as NSString).appendingPathComponent("history.csv")
            try panel.writeCSV(to: historyPath!, ids: (split.train + split.validation).map { ids[$0] })
            for (row, id) in test.customers.ids.enumerated() {
                testRecords[row].history = panel.schema.records(of: panel.histories[id] ?? [])
            }
            for (row, id) in validation.customers.ids.enumerated() {
                validationRecords[row].history = panel.schema.records(of: panel.histories[id] ?? [])
            }
            let months = panel.histories.values.reduce(0) { $0 + $1.count }
            let periods = panel.histories.values.flatMap { [$0.first?.period, $0.last?.period] }.compactMap { $0 }
            historySummary =
                "history: \(covered) of \(ids.count) customers have months (\(months) months in the panel, \(MonthlyPanel.periodText(periods.min() ?? 0)) to \(MonthlyPanel.periodText(periods.max() ?? 0)); columns \(panel.columns.joined(separator: ", ")); window \(panel.schema.window))"
        }
        let digest = try Data(contentsOf: URL(fileURLWithPath: dataPath), options: .mappedIfSafe).sha256Hex
        return Prepared(
            dataPath: dataPath, dataSHA256: digest, rows: labels.count, trainRows: split.train.count,
            validationRows: split.validation.count, test: test, searchRows: dataset.rows((split.train + split.validation).sorted()),
            testRecords: testRecords,
            validationRecords: validationRecords, validationLabels: validation.churned ?? [], schemaSummary: summary,
            panel: panel, historySummary: historySummary, trainPath: trainPath,
            validationPath: validationPath, historyPath: historyPath,
            artifactPath: (run as NSString).appendingPathComponent("model.artifact"))
    }

    /// The monthly panel a training run reads (`history`), under the schema's panel or one
    /// inferred from the file (its customer column the data's id column), which then becomes
    /// part of `schema`. Refused: a panel for data without an id (nothing to join on), a panel
    /// column that is an outcome, and a schema naming a panel without the file.
    static func readPanel(_ params: TrainParams, schema: inout DatasetSchema) throws -> MonthlyPanel? {
        guard let history = params.history else {
            if schema.history != nil {
                throw RPCError.invalidParams(
                    field: "history", "the schema \(schema.name) names a monthly panel: send its file (churn train --history panel.csv)")
            }
            return nil
        }
        let path = ChurnLocations.absolute(history)
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw RPCError(
                .fileError, "cannot read the history panel \(path): check the path (churnd reads it)",
                data: ["field": "history", "path": .string(path)])
        }
        guard let id = schema.id else {
            throw RPCError.invalidParams(
                field: "history",
                "the data has no customer id column, so its rows cannot be joined to the panel's months: name the id column in the schema")
        }
        let panelSchema = try schema.history ?? SchemaInference.inspectPanel(path, customerColumn: id.column)
        let outcomes = schema.outcomeNames
        if let leak = panelSchema.inputs.first(where: { outcomes.contains($0.name) || outcomes.contains($0.fileColumn) }) {
            throw RPCError(
                .invalidData,
                "the panel column \(leak.fileColumn) is the label or outcome evidence of \(schema.name) and can never be a model input: mark it ignored in the panel schema or drop it from the file",
                data: ["field": "history", "column": .string(leak.fileColumn)])
        }
        schema.history = panelSchema
        // Read here so a broken panel fails before training, with its line and column.
        return try MonthlyPanel.read(path, schema: panelSchema)
    }

    /// The schema a training run reads its file with, and how it was settled: the request's
    /// (a built-in name or a schema object), a first-release mapping, the built-in schema whose
    /// columns the file has, or one inferred from the file (its label named by `label`, or the
    /// most churn-like column).
    /// `shown` is the file as the client named it (an inferred schema is named after it).
    static func settleSchema(_ params: TrainParams, path: String, shown: String) throws -> (DatasetSchema, String) {
        switch params.schema {
        case .string(let name)?:
            guard let builtIn = BuiltInSchemas.all[name] else {
                throw RPCError.invalidParams(
                    field: "schema",
                    "\"\(name)\" is not a built-in schema\(NearMiss.hint(for: name, among: BuiltInSchemas.all.keys.sorted())): use \(BuiltInSchemas.all.keys.sorted().joined(separator: ", ")), or send the schema itself")
            }
            return (builtIn, "schema \(builtIn.name) (built in)")
        case .object?:
            let schema = try DatasetSchema.decode(params.schema!, source: "params.schema")
            return (schema, "schema \(schema.name) (sent with the request): \(schema.inputs.count) inputs")
        case nil, .null?:
            break
        default:
            throw RPCError.invalidParams(field: "schema", "must be a built-in schema name or a schema object")
        }
        if let mapping = params.mapping {
            let schema = try BuiltInSchemas.named(mapping)
            return (schema, "schema \(schema.name) (from mapping \(mapping))")
        }
        let header = CSVReader.header(of: path)
        if let builtIn = BuiltInSchemas.detect(header: header), params.label == nil || params.label == builtIn.label.column {
            return (builtIn, "schema \(builtIn.name) (built in, recognised from the header)")
        }
        let report = try SchemaInference.inspect(path, label: params.label)
        var schema = report.schema
        schema.name = "inferred from \((shown as NSString).lastPathComponent)"
        var summary =
            "schema inferred from the file: label \(schema.label.column) (\(schema.label.positive[0]) = churned), \(schema.inputs.count) inputs"
        summary += schema.id.map { ", id \($0.column)" } ?? ", no id column (rows named row-<n>)"
        if !schema.neverInputs.isEmpty { summary += "; never inputs (likely leakage): \(schema.neverInputs.joined(separator: ", "))" }
        if !report.assumptions.isEmpty { summary += "; " + report.assumptions.joined(separator: "; ") }
        return (schema, summary)
    }

    /// How long a failed run's folder (its copies of the data, the plugin's artifact) is kept
    /// for inspection before the next training removes it. A registered run's folder is removed
    /// as soon as the version is stored: the registry holds the artifact, and the customer file
    /// is not copied anywhere else.
    static let failedRunRetention: TimeInterval = 7 * 24 * 3600

    /// Removes the folder of the run that wrote `artifactPath`, once its version is registered.
    static func removeRun(of artifactPath: String) {
        try? FileManager.default.removeItem(atPath: (artifactPath as NSString).deletingLastPathComponent)
    }

    /// Removes run folders older than ``failedRunRetention`` (runs still going are never that old).
    static func removeExpiredRuns(_ runs: String, now: Date = Date()) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: runs) else { return }
        for name in names {
            let path = (runs as NSString).appendingPathComponent(name)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                now.timeIntervalSince(modified) > failedRunRetention
            else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// A new folder for one training run (mode 0700: it holds copies of customer data), after
    /// removing expired ones.
    static func makeRunFolder(_ runs: String, kind: String) throws -> String {
        removeExpiredRuns(runs)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let path = (runs as NSString).appendingPathComponent("\(stamp)-\(kind)-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RPCError(.fileError, "cannot create the training run folder \(path): \(error.localizedDescription)")
        }
        return path
    }

    /// At most `count` points, keeping the first and last.
    static func downsample<T>(_ points: [T], to count: Int) -> [T] {
        guard points.count > count, count >= 2 else { return points }
        return (0..<count).map { points[Int((Double($0) * Double(points.count - 1) / Double(count - 1)).rounded())] }
    }
}
