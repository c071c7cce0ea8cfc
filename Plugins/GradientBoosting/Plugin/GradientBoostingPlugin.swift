import ChurnBoosting
import ChurnData
import ChurnPluginKit
import ChurnProtocol
import ChurnTreeSHAP
import Foundation

/// `churn-plugin-gradient-boosting`: histogram gradient boosting of log loss on the fields of any
/// dataset schema (categorical fields split natively by sets of values, missing numbers sent the
/// learned way), plus the aggregates of each customer's months like the forest reads them (of the
/// real monthly panel when the schema names one — per column: last, mean, recent change, slope;
/// months present, ``PanelAggregates`` — else of the history derived from tenure and charges);
/// early stopping on validation rows; predictions explained by exact TreeSHAP per field, in
/// log-odds; two-model uplift models from campaigns (``UpliftBoosting``).
public struct GradientBoostingPlugin: ChurnModelPlugin {
    public init() {}

    public var description: PluginDescription {
        PluginDescription(
            kind: "gradient_boosting", pluginVersion: "1.0.0",
            capabilities: ["train", "predict", "explain", "contributions", "uplift", "columnar"],
            summary: "histogram gradient-boosted trees (log loss, leaf- or depth-wise, native categorical splits, early stopping), explained by exact TreeSHAP; two-model uplift from campaigns",
            parameters: BoostingParameters.specs)
    }

    public func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult {
        if let treatment = request.treatment { return try UpliftBoosting.train(request, treatment: treatment, progress: progress) }
        let files = try TrainingInputs(request)
        let (dataset, training, panel, derived) = (files.dataset, files.training, files.panel, files.derived)
        var labels = files.labels
        var parsed = try BoostingParameters.parse(request.params, seed: request.seed)
        if request.params["history_window"] == nil { parsed.window = files.defaultWindow }
        let window = parsed.window
        func augmented(_ table: CustomerTable) -> CustomerTable { files.augmented(table, window: window) }
        var table = augmented(training.customers)
        let schema = FeatureSchema.fit(table, derivedHistory: derived, window: window)

        // Validation rows for early stopping: the validation file, else a stratified share of
        // the training rows held back from fitting.
        var validation: (table: CustomerTable, labels: [Bool])?
        var heldBack = 0
        if let path = request.validationPath {
            let (rows, _) = try DatasetReader.read(path, schema: dataset, options: DatasetReadOptions(requireLabel: true))
            validation = (augmented(rows.customers), try rows.requireLabels(file: path))
        } else if parsed.options.earlyStoppingRounds > 0, parsed.validationFraction > 0 {
            let (rest, held) = StratifiedSplit.holdOut(labels, fraction: parsed.validationFraction, seed: request.seed &+ 101)
            if !held.isEmpty, !rest.isEmpty {
                validation = (table.rows(held), held.map { labels[$0] })
                table = table.rows(rest)
                labels = rest.map { labels[$0] }
                heldBack = held.count
            }
        }
        let encoded = schema.encode(table)
        let threads = parsed.options.threadCount
        let inputs = BoostingInputs.fit(schema, encoded, maxBins: parsed.maxBins, threads: threads)
        let matrix = inputs.matrix(schema, encoded, threads: threads)
        let validationMatrix = validation.map { inputs.matrix(schema, schema.encode($0.table), threads: threads) }
        let rounds = parsed.options.rounds
        let (model, report) = try BoostingModel.fit(
            train: matrix, labels: labels, weights: nil,
            validation: validationMatrix.map { ($0, validation!.labels) }, options: parsed.options
        ) { step in
            guard step.round % 25 == 0 || step.round == step.rounds else { return }
            let loss = step.validationLogLoss.map { String(format: ", validation log loss %.4f", $0) } ?? ""
            progress.report(stage: "rounds", step: step.round, total: rounds, message: "round \(step.round)/\(rounds)\(loss)")
        }

        var metrics: [String: Double] = [
            "rounds": Double(model.trees.count), "rounds_run": Double(report.roundsRun),
            "leaves": Double(model.trees.reduce(0) { $0 + $1.leafCount }),
        ]
        if heldBack > 0 { metrics["early_stopping_rows"] = Double(heldBack) }
        let loaded = LoadedBoosting(model: model, schema: schema, inputs: inputs, dataset: dataset, panelWindow: panel == nil ? nil : window)
        var importances = zip(schema.inputFields, model.gainImportance()).map { FeatureImportance(feature: $0, importance: $1, method: "gain") }
        if let validation, let validationMatrix {
            let probabilities = model.probabilities(validationMatrix)
            if request.validationPath != nil {
                for (key, value) in Metrics.report(validation.labels, probabilities) { metrics["val_" + key] = value }
            }
            progress.report(stage: "importance", step: 0, total: 1, message: "mean |SHAP| on the validation rows")
            importances += loaded.meanAbsoluteSHAP(validationMatrix.rows(Self.importanceSample(validationMatrix.rows)), threads: parsed.options.threadCount)
        } else {
            importances += loaded.meanAbsoluteSHAP(matrix.rows(Self.importanceSample(matrix.rows)), threads: parsed.options.threadCount)
        }
        let curve = Self.curve(report)
        let artifact = try BoostingArtifact.write(
            BoostingArtifact.Contents(model: model, schema: schema, inputs: inputs, dataset: dataset, panelWindow: loaded.panelWindow))
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        var applied = BoostingParameters.applied(parsed)
        applied["best_round"] = .number(Double(model.trees.count))
        return PluginTrainResult(
            metrics: metrics, lossCurve: curve, importances: importances.sorted { $0.importance > $1.importance }, featureSchema: schema.jsonValue,
            params: applied, artifactBytes: artifact.count, lossCurveUnit: "rounds",
            historySource: files.historySource)
    }

    public func load(artifact: Data) throws -> any LoadedChurnModel {
        do {
            if UpliftBoosting.isUplift(artifact) { return try UpliftBoosting.read(artifact) }
            let contents = try BoostingArtifact.read(artifact)
            return LoadedBoosting(
                model: contents.model, schema: contents.schema, inputs: contents.inputs, dataset: contents.dataset,
                panelWindow: contents.panelWindow)
        } catch let error as BoostingArtifact.Invalid {
            throw RPCError(.invalidData, "cannot load the artifact: \(error)")
        }
    }

    /// Rows mean |SHAP| is taken over: all of them up to 1,000, else 1,000 spread evenly. Exact
    /// TreeSHAP costs about a millisecond a row for a few hundred trees: on every validation row of
    /// a million-customer file it took longer than the fit.
    static func importanceSample(_ rows: Int) -> [Int] {
        let limit = 1000
        guard rows > limit else { return Array(0..<rows) }
        return (0..<limit).map { $0 * rows / limit }
    }

    /// Training and validation log loss per round (at most about 100 points), the chosen round marked.
    static func curve(_ report: BoostingFitReport) -> [EpochRecord] {
        let count = report.trainingLogLoss.count
        let step = max(1, count / 100)
        return (0..<count).compactMap { index in
            let round = index + 1
            guard round % step == 0 || round == count || round == report.bestRound else { return nil }
            var values = ["loss": report.trainingLogLoss[index]]
            if index < report.validationLogLoss.count { values["val_log_loss"] = report.validationLogLoss[index] }
            return EpochRecord(epoch: round, values: values)
        }
    }
}

/// A loaded boosted model with its schemas.
public struct LoadedBoosting: LoadedChurnModel {
    public let model: BoostingModel
    public let schema: FeatureSchema
    let inputs: BoostingInputs
    public let dataset: DatasetSchema
    /// The window of the panel aggregates, when the model reads a panel.
    public let panelWindow: Int?
    private let records: RecordValidator
    private let numbers: NumericColumns
    /// The trees as TreeSHAP reads them, with their expected values.
    private let shapTrees: [SHAPTree]
    private let shapSummaries: [SHAPTree.Summary]

    init(model: BoostingModel, schema: FeatureSchema, inputs: BoostingInputs, dataset: DatasetSchema, panelWindow: Int?) {
        self.model = model
        self.schema = schema
        self.inputs = inputs
        self.dataset = dataset
        self.panelWindow = panelWindow
        self.records = RecordValidator(schema: dataset)
        self.numbers = NumericColumns(schema: schema)
        self.shapTrees = model.trees.map { tree in
            SHAPTree(
                left: tree.left, right: tree.right, feature: tree.feature.map { Int32($0) },
                // TreeSHAP weighs children by cover; a node only rows of weight 0 reached has
                // none, and is given a token weight so it is still a valid path.
                cover: tree.cover.map { max($0, 1e-12) }, value: tree.value)
        }
        self.shapSummaries = shapTrees.map(TreeSHAP.summary)
    }

    /// The customers' table, with the aggregates of their months when the model reads a panel.
    private func table(_ customers: [CustomerRecord]) throws -> CustomerTable {
        let table = try records.table(customers)
        guard let panelWindow, let panel = dataset.history else { return table }
        return PanelAggregates.augment(table, months: try dataset.months(of: customers), panel: panel, window: panelWindow)
    }

    public var features: [String] { schema.inputFields }

    public func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        model.probabilities(inputs.matrix(schema, schema.encode(try table(customers)), numbers: numbers))
    }

    public func predict(batch: CustomerBatch) throws -> [Double] {
        // A model reading a panel aggregates months sent with records.
        guard panelWindow == nil else { return try predict(batch.records) }
        return model.probabilities(inputs.matrix(schema, schema.encode(try records.table(batch)), numbers: numbers))
    }

    public func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        let table = try table(customers)
        let matrix = inputs.matrix(schema, schema.encode(table), numbers: numbers)
        let fields = schema.inputFields
        var workspace = TreeSHAPWorkspace()
        return (0..<matrix.rows).map { row in
            let (bias, phi) = shap(matrix, row: row, workspace: &workspace)
            var contributions = zip(fields, phi).map { field, value in
                Contribution(feature: field, value: schema.inputValue(of: field, in: table, row: row), contribution: value)
            }
            contributions.sort { abs($0.contribution) > abs($1.contribution) || (abs($0.contribution) == abs($1.contribution) && $0.feature < $1.feature) }
            if let top { contributions = Array(contributions.prefix(top)) }
            let raw = bias + phi.reduce(0, +)
            return ModelExplanation(
                churnProbability: BoostingModel.sigmoid(raw), bias: bias, contributions: contributions, scale: .logOdds)
        }
    }

    /// Exact Shapley values of the raw score (log-odds) for one row, per field, and the bias
    /// (base score plus the trees' expected values): `bias + Σ phi` is the row's raw score.
    func shap(_ matrix: BoostingMatrix, row: Int, workspace: inout TreeSHAPWorkspace) -> (bias: Double, phi: [Double]) {
        var phi = [Double](repeating: 0, count: matrix.features.count)
        var bias = model.baseScore
        for (index, tree) in model.trees.enumerated() {
            bias += TreeSHAP.explain(
                shapTrees[index], summary: shapSummaries[index], players: phi.count,
                goesLeft: { node in tree.goesLeft(node, code: matrix.codes[Int(tree.feature[node]) * matrix.rows + row]) },
                into: &phi, workspace: &workspace)
        }
        return (bias, phi)
    }

    /// Mean |SHAP| per field over the rows of `matrix`: the importance the dashboard shows. The
    /// rows are cut into parts by their count alone, computed on up to `threads` threads and
    /// added up in part order: the same totals whatever the thread count.
    func meanAbsoluteSHAP(_ matrix: BoostingMatrix, threads: Int) -> [FeatureImportance] {
        // Parts fixed by the row count alone; threads only decide who computes which.
        let parts = max(1, min(matrix.rows / 64, 8))
        let workers = max(1, min(threads, parts))
        let partTotals = UnsafeMutableBufferPointer<[Double]>.allocate(capacity: parts)
        partTotals.initialize(repeating: [])
        defer { partTotals.deinitialize().deallocate() }
        nonisolated(unsafe) let shared = partTotals
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var workspace = TreeSHAPWorkspace()
            for part in stride(from: worker, to: parts, by: workers) {
                var totals = [Double](repeating: 0, count: matrix.features.count)
                for row in (part * matrix.rows / parts)..<((part + 1) * matrix.rows / parts) {
                    let (_, phi) = shap(matrix, row: row, workspace: &workspace)
                    for (index, value) in phi.enumerated() { totals[index] += abs(value) }
                }
                shared[part] = totals
            }
        }
        var totals = [Double](repeating: 0, count: matrix.features.count)
        for part in partTotals { for index in totals.indices { totals[index] += part[index] } }
        let rows = Double(max(1, matrix.rows))
        return zip(schema.inputFields, totals).map { FeatureImportance(feature: $0, importance: $1 / rows, method: "mean_abs_shap") }
    }
}
