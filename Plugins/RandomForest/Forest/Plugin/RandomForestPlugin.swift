import ChurnData
import ChurnPluginKit
import ChurnProtocol
import ChurnTreeSHAP
import Foundation

/// `churn-plugin-random-forest`: CART trees on the fields of any dataset schema, plus aggregates
/// of each customer's months: of the real monthly panel when the schema names one (per column:
/// last, mean, recent change, slope; months present — ``PanelAggregates``), else of the history
/// derived from tenure and charges when the schema names those fields; predictions explained by
/// exact TreeSHAP, per field (path attribution for forests of format-1 artifacts, which lack the
/// node covers TreeSHAP needs); importances by impurity, permutation and mean |SHAP|.
public struct RandomForestPlugin: ChurnModelPlugin {
    public init() {}

    public var description: PluginDescription {
        PluginDescription(
            kind: "random_forest", pluginVersion: "1.0.0",
            capabilities: ["train", "predict", "explain", "contributions", "uplift", "columnar"],
            summary: "random forest of CART trees (histogram splits, Gini), explained by exact TreeSHAP; two-forest uplift models from campaigns",
            parameters: ForestParameters.specs)
    }

    public func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult {
        if let treatment = request.treatment { return try UpliftForest.train(request, treatment: treatment, progress: progress) }
        let inputs = try TrainingInputs(request)
        let (dataset, training, labels, panel, derived) = (inputs.dataset, inputs.training, inputs.labels, inputs.panel, inputs.derived)
        let defaultWindow = inputs.defaultWindow
        func augmented(_ table: CustomerTable, window: Int) -> CustomerTable { inputs.augmented(table, window: window) }
        // The schema's width decides max_features, so fit it first with the default window,
        // then again with the requested one (same width either way).
        let width = FeatureSchema.fit(augmented(training.customers, window: defaultWindow), derivedHistory: derived).width
        var (options, window) = try ForestParameters.parse(request.params, width: width)
        if request.params["history_window"] == nil { window = defaultWindow }
        let trainingTable = augmented(training.customers, window: window)
        let schema = FeatureSchema.fit(trainingTable, derivedHistory: derived, window: window)
        let features = schema.encode(trainingTable)
        let total = options.trees
        let (forest, report) = RandomForest.fit(features, labels: labels, options: options, seed: request.seed) { done in
            if done % 25 == 0 || done == total {
                progress.report(stage: "trees", step: done, total: total, message: "\(done)/\(total) trees grown")
            }
        }

        var metrics: [String: Double] = ["trees": Double(forest.trees.count), "nodes": Double(forest.trees.reduce(0) { $0 + $1.nodeCount })]
        if let auc = report.outOfBagAUC { metrics["oob_roc_auc"] = auc }
        var importances = Self.fold(report.impurityImportance, schema: schema, method: "impurity")
        var curve: [EpochRecord] = []
        if let path = request.validationPath {
            let (validation, _) = try DatasetReader.read(path, schema: dataset, options: DatasetReadOptions(requireLabel: true))
            let validationLabels = try validation.requireLabels(file: path)
            let validationFeatures = schema.encode(augmented(validation.customers, window: window))
            let probabilities = forest.predict(validationFeatures)
            for (key, value) in Metrics.report(validationLabels, probabilities) { metrics["val_" + key] = value }
            curve = Self.curve(forest, validationFeatures, validationLabels)
            progress.report(stage: "importance", step: 0, total: 1, message: "permutation importance on the validation split")
            importances += Self.permutationImportance(forest, schema: schema, features: validationFeatures, labels: validationLabels, seed: request.seed)
            // Mean |SHAP| on (at most 300 of) the validation rows: exact per row, and a row of a
            // 300-tree forest costs milliseconds, so a sample.
            let loaded = LoadedForest(forest: forest, schema: schema, dataset: dataset)
            importances += loaded.meanAbsoluteSHAP(validationFeatures.rows(Array(0..<min(validationFeatures.rows, 300))))
        }
        let artifact = try ForestArtifact.write(forest, schema: schema, dataset: dataset, panelWindow: panel == nil ? nil : window)
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        return PluginTrainResult(
            metrics: metrics, lossCurve: curve, importances: importances, featureSchema: schema.jsonValue,
            params: ForestParameters.applied(options, window: window),
            artifactBytes: artifact.count, lossCurveUnit: "trees",
            historySource: inputs.historySource)
    }

    public func load(artifact: Data) throws -> any LoadedChurnModel {
        do {
            if UpliftForest.isUplift(artifact) { return try UpliftForest.read(artifact) }
            let contents = try ForestArtifact.read(artifact)
            return LoadedForest(forest: contents.forest, schema: contents.schema, dataset: contents.dataset, panelWindow: contents.panelWindow)
        } catch let error as ForestArtifact.Invalid {
            throw RPCError(.invalidData, "cannot load the artifact: \(error)")
        }
    }

    // MARK: Reporting

    /// Column importances summed per input field, largest first.
    static func fold(_ columns: [Double], schema: FeatureSchema, method: String) -> [FeatureImportance] {
        var byField: [String: Double] = [:]
        for (column, field) in schema.columnFields.enumerated() { byField[field, default: 0] += columns[column] }
        return byField.map { FeatureImportance(feature: $0.key, importance: $0.value, method: method) }
            .sorted { $0.importance > $1.importance }
    }

    /// Validation log loss and ROC-AUC as trees are added: the forest's learning curve.
    static func curve(_ forest: RandomForest, _ features: EncodedFeatures, _ labels: [Bool]) -> [EpochRecord] {
        var sums = [Double](repeating: 0, count: features.rows)
        let binned = forest.bins.binRows(features)
        let width = forest.bins.featureCount
        var records: [EpochRecord] = []
        let step = max(1, forest.trees.count / 30)
        binned.withUnsafeBufferPointer { rows in
            for (index, tree) in forest.trees.enumerated() {
                for row in 0..<features.rows {
                    sums[row] += Tree.probability(tree.value[tree.leaf(for: rows.baseAddress! + row * width)])
                }
                let done = index + 1
                guard done % step == 0 || done == forest.trees.count else { continue }
                let probabilities = sums.map { $0 / Double(done) }
                var values = ["val_log_loss": Metrics.logLoss(labels, probabilities)]
                if let auc = Metrics.rocAUC(labels, probabilities) { values["val_roc_auc"] = auc }
                records.append(EpochRecord(epoch: done, values: values))
            }
        }
        return records
    }

    static func permutationImportance(
        _ forest: RandomForest, schema: FeatureSchema, features: EncodedFeatures, labels: [Bool], seed: UInt64
    ) -> [FeatureImportance] {
        var inputs: [RandomForest.PermutedInput] = []
        var names: [String] = []
        for (field, encoding) in schema.categorical.enumerated() {
            inputs.append(.field(field))
            names.append(encoding.field)
        }
        let numericNames = schema.numeric.map(\.field) + schema.numeric.filter(\.indicator).map { "\($0.field) (missing)" }
            + (schema.history == nil ? [] : FeatureSchema.historyNames)
        for (index, name) in numericNames.enumerated() {
            inputs.append(.numeric(index))
            names.append(name)
        }
        let drops = forest.permutationImportance(features, labels: labels, inputs: inputs, seed: seed)
        return zip(names, drops).map { FeatureImportance(feature: $0, importance: $1, method: "permutation") }
            .sorted { $0.importance > $1.importance }
    }
}

/// A loaded forest with its schemas.
public struct LoadedForest: LoadedChurnModel {
    public let forest: RandomForest
    public let schema: FeatureSchema
    public let dataset: DatasetSchema
    /// The window of the panel aggregates, when the forest reads a panel.
    public let panelWindow: Int?
    private let compiled: CompiledForest
    private let records: RecordValidator
    /// Exact TreeSHAP per input field; nil for a forest of a format-1 artifact (no covers),
    /// which explains by path attribution.
    private let shap: ForestSHAP?

    public init(forest: RandomForest, schema: FeatureSchema, dataset: DatasetSchema, panelWindow: Int? = nil) {
        self.forest = forest
        self.schema = schema
        self.dataset = dataset
        self.panelWindow = panelWindow
        self.compiled = CompiledForest(forest)
        self.records = RecordValidator(schema: dataset)
        let fields = schema.inputFields
        let index = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1, $0) })
        self.shap = ForestSHAP(forest, playerOf: schema.columnFields.map { index[$0]! }, players: fields.count)
    }

    /// The customers' table, with the aggregates of their months when the forest reads a panel.
    private func table(_ customers: [CustomerRecord]) throws -> CustomerTable {
        let table = try records.table(customers)
        guard let panelWindow, let panel = dataset.history else { return table }
        return PanelAggregates.augment(table, months: try dataset.months(of: customers), panel: panel, window: panelWindow)
    }

    public var features: [String] { schema.featureNames }

    /// Mean |SHAP| per input field over the rows of `features` (empty without covers).
    func meanAbsoluteSHAP(_ features: EncodedFeatures) -> [FeatureImportance] {
        guard let shap else { return [] }
        var totals = [Double](repeating: 0, count: shap.players)
        var workspace = TreeSHAPWorkspace()
        for row in 0..<features.rows {
            for (index, value) in shap.explain(forest, features, row: row, workspace: &workspace).phi.enumerated() { totals[index] += abs(value) }
        }
        let rows = Double(max(1, features.rows))
        return zip(schema.inputFields, totals).map { FeatureImportance(feature: $0, importance: $1 / rows, method: "mean_abs_shap") }
            .sorted { $0.importance > $1.importance }
    }

    public func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        forest.predict(schema.encode(try table(customers)), compiled: compiled)
    }

    public func predict(batch: CustomerBatch) throws -> [Double] {
        // A forest reading a panel aggregates months sent with records.
        guard panelWindow == nil else { return try predict(batch.records) }
        return forest.predict(schema.encode(try records.table(batch)), compiled: compiled)
    }

    public func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        let table = try table(customers)
        let features = schema.encode(table)
        let fields = schema.columnFields
        var workspace = TreeSHAPWorkspace()
        return (0..<table.count).map { row in
            var byField: [String: Double] = [:]
            let bias: Double
            let probability: Double
            if let shap {
                let explained = shap.explain(forest, features, row: row, workspace: &workspace)
                for (field, value) in zip(schema.inputFields, explained.phi) { byField[field] = value }
                (bias, probability) = (explained.bias, explained.probability)
            } else {
                let (pathBias, columns, pathProbability) = forest.contributions(features, row: row)
                for (column, field) in fields.enumerated() { byField[field, default: 0] += columns[column] }
                (bias, probability) = (pathBias, pathProbability)
            }
            var contributions = byField.map { field, contribution in
                Contribution(feature: field, value: schema.inputValue(of: field, in: table, row: row), contribution: contribution)
            }
            contributions.sort { abs($0.contribution) > abs($1.contribution) || (abs($0.contribution) == abs($1.contribution) && $0.feature < $1.feature) }
            if let top { contributions = Array(contributions.prefix(top)) }
            // The sum of exact Shapley values can land a rounding error outside [0, 1] (−7e-16
            // for a customer every tree sends to a leaf of stayers): it is a probability.
            return ModelExplanation(churnProbability: min(1, max(0, probability)), bias: bias, contributions: contributions)
        }
    }
}
