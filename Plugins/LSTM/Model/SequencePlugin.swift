import ChurnData
import ChurnML
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// The LSTM plugins: an LSTM over each customer's monthly history beside a dense layer over the
/// static fields of the dataset schema (`lstm`), or the same with the LSTM states pooled by
/// attention (`lstm_attention`). The history is the customer's real months when the schema names
/// a monthly panel (``SequenceSource``); else the one derived from tenure and charges when the
/// schema names those fields (a labelled fallback); without either the network is the static
/// branch alone. Explanations give each month's weight: attention, or for `lstm` the change in
/// probability without the month (occlusion), with the month's values of the most influential
/// panel columns.
public struct SequencePlugin: ChurnModelPlugin {
    public let attention: Bool

    public init(attention: Bool) {
        self.attention = attention
    }

    var kind: String { attention ? "lstm_attention" : "lstm" }

    public var description: PluginDescription {
        PluginDescription(
            kind: kind, pluginVersion: "1.0.0",
            capabilities: attention ? ["train", "predict", "explain", "attention", "columnar"] : ["train", "predict", "explain", "columnar"],
            summary: attention
                ? "LSTM over the monthly history with additive attention pooling, beside a dense layer over static features"
                : "LSTM over the monthly history beside a dense layer over static features",
            parameters: SequenceParameters.specs(attention: attention))
    }

    public func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult {
        let configuration = try SequenceParameters.parse(request.params, attention: attention)
        let dataset = try request.datasetSchema()
        let (training, _) = try DatasetReader.read(request.trainPath, schema: dataset, options: DatasetReadOptions(requireLabel: true))
        let labels = try training.requireLabels(file: request.trainPath)
        let schema = FeatureSchema.fit(training.customers)
        var panel: MonthlyPanel?
        if let panelSchema = dataset.history {
            guard let path = request.historyPath else {
                throw RPCError.invalidParams(field: "history_path", "the schema names a monthly panel: send its file")
            }
            panel = try MonthlyPanel.read(path, schema: panelSchema)
        }
        let trainMonths = panel?.months(for: training.customers.ids) ?? []
        let source: SequenceSource
        if let panel {
            source = .panel(
                HistoryEncoding.fit(trainMonths, panel: panel.schema, window: request.params["history_window"] == nil ? nil : configuration.window))
        } else if let fields = dataset.derivedHistory {
            source = .derived(fields, window: configuration.window)
        } else {
            source = .none
        }
        let trainData = source.inputs(training.customers, schema: schema, months: trainMonths)
        var validation: (SequenceDataset, [Bool])?
        if let path = request.validationPath {
            let (rows, _) = try DatasetReader.read(path, schema: dataset, options: DatasetReadOptions(requireLabel: true))
            validation = (
                source.inputs(rows.customers, schema: schema, months: panel?.months(for: rows.customers.ids) ?? []),
                try rows.requireLabels(file: path)
            )
        }
        let model = SequenceModel(
            configuration: configuration, staticFeatures: schema.width, stepFeatures: trainData.sequences.features, seed: request.seed)
        let (history, bestEpoch) = SequenceTrainer.fit(
            model, train: trainData, labels: labels, validation: validation, seed: request.seed
        ) { epoch in
            var line = String(format: "epoch %d/%d: loss %.4f", epoch.epoch, configuration.epochs, epoch.trainLoss)
            var metrics = ["loss": epoch.trainLoss]
            if let auc = epoch.validationAUC, let loss = epoch.validationLoss {
                line += String(format: ", val_loss %.4f, val_auc %.4f", loss, auc)
                metrics["val_auc"] = auc
                metrics["val_loss"] = loss
            }
            progress.report(stage: "epoch", step: epoch.epoch, total: configuration.epochs, message: line, metrics: metrics)
        }
        Self.reportEnd(of: history, bestEpoch: bestEpoch, configuration: configuration, progress: progress)
        var metrics: [String: Double] = ["epochs_run": Double(history.count), "best_epoch": Double(bestEpoch)]
        var importances: [FeatureImportance] = []
        var panelRanking: [String] = []
        if let (validationData, validationLabels) = validation {
            let probabilities = SequenceTrainer.predict(model, validationData).map(Double.init)
            for (key, value) in Metrics.report(validationLabels, probabilities) { metrics["val_" + key] = value }
            importances = Self.permutationImportance(
                model, validationData, validationLabels, schema: schema, source: source, seed: request.seed)
            panelRanking = importances.filter { $0.feature.hasPrefix("history.") }.map { String($0.feature.dropFirst(8)) }
            if attention, model.hasHistory {
                importances += Self.attentionByMonth(model, validationData)
            }
        }
        if case .panel(let encoding) = source, panelRanking.isEmpty { panelRanking = encoding.columns.map(\.name) }
        let curve = history.map { epoch in
            var values = ["loss": epoch.trainLoss]
            if let loss = epoch.validationLoss { values["val_loss"] = loss }
            if let auc = epoch.validationAUC { values["val_roc_auc"] = auc }
            return EpochRecord(epoch: epoch.epoch, values: values)
        }
        metrics["history_months"] = Double(trainData.sequences.steps)
        let artifact = try SequenceArtifact.write(
            model, schema: schema, dataset: dataset, kind: kind, source: source, panelRanking: panelRanking)
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        return PluginTrainResult(
            metrics: metrics, lossCurve: curve, importances: importances, featureSchema: schema.jsonValue,
            params: SequenceParameters.applied(configuration), artifactBytes: artifact.count, historySource: source.name)
    }

    /// Says how training ended: all epochs run, or stopped early (and why), and which epoch's
    /// weights the model keeps.
    static func reportEnd(
        of history: [EpochReport], bestEpoch: Int, configuration: SequenceModelConfiguration, progress: ProgressReporter
    ) {
        let kept = history.first { $0.epoch == bestEpoch }?.validationAUC.map { String(format: " (val_auc %.4f)", $0) } ?? ""
        if history.count < configuration.epochs {
            progress.report(
                stage: "early_stop", step: history.count, total: configuration.epochs,
                message: "stopped early after epoch \(history.count) of \(configuration.epochs): validation ROC-AUC did not improve for \(configuration.patience) epochs (patience); keeping epoch \(bestEpoch)\(kept)")
        } else if bestEpoch != history.count {
            progress.report(
                stage: "early_stop", step: history.count, total: configuration.epochs,
                message: "ran all \(configuration.epochs) epochs; keeping epoch \(bestEpoch)\(kept), the best on validation ROC-AUC")
        }
    }

    public func load(artifact: Data) throws -> any LoadedChurnModel {
        do {
            let loaded = try SequenceArtifact.read(artifact, kind: kind)
            return LoadedSequenceModel(
                model: loaded.model, schema: loaded.schema, dataset: loaded.dataset, source: loaded.source, panelRanking: loaded.panelRanking)
        } catch let error as SequenceArtifact.Invalid {
            throw RPCError(.invalidData, "cannot load the artifact: \(error)")
        }
    }

    /// Static features and the derived history (or none): the inputs of a model without a panel.
    public static func inputs(_ table: CustomerTable, schema: FeatureSchema, history: DerivedHistoryFields?, window: Int) -> SequenceDataset {
        let source: SequenceSource = history.map { .derived($0, window: window) } ?? .none
        return source.inputs(table, schema: schema, months: [])
    }

    /// The drop in validation ROC-AUC when an input field, a panel column (`history.<column>`, all
    /// its step features at once) or the whole history is shuffled across rows.
    static func permutationImportance(
        _ model: SequenceModel, _ data: SequenceDataset, _ labels: [Bool], schema: FeatureSchema, source: SequenceSource, seed: UInt64
    ) -> [FeatureImportance] {
        guard let baseline = Metrics.rocAUC(labels, SequenceTrainer.predict(model, data).map(Double.init)) else { return [] }
        var random = SeededRandom(seed: seed)
        let fields = schema.columnFields
        var groups: [(String, [Int])] = []
        for (column, field) in fields.enumerated() {
            if groups.last?.0 == field { groups[groups.count - 1].1.append(column) } else { groups.append((field, [column])) }
        }
        var result: [FeatureImportance] = []
        let historyGroup: [(String, [Int])] = data.sequences.steps > 0 ? [("history", [])] : []
        var panelGroups: [(String, [Int])] = []
        if case .panel(let encoding) = source {
            for (feature, column) in encoding.featureColumns.enumerated() where column != "valid" {
                if panelGroups.last?.0 == "history.\(column)" {
                    panelGroups[panelGroups.count - 1].1.append(feature)
                } else {
                    panelGroups.append(("history.\(column)", [feature]))
                }
            }
        }
        for (field, columns) in groups + historyGroup + panelGroups {
            var order = Array(0..<data.count)
            order.shuffle(using: &random)
            var shuffled = data
            if field.hasPrefix("history.") {
                // One panel column across all months: its step features taken from another customer.
                let steps = data.sequences.steps
                let width = data.sequences.features
                for row in 0..<data.count {
                    for step in 0..<steps {
                        for feature in columns {
                            shuffled.sequences.values[(row * steps + step) * width + feature] =
                                data.sequences.values[(order[row] * steps + step) * width + feature]
                        }
                    }
                }
            } else if columns.isEmpty {
                shuffled.sequences = data.sequences.rows(order)
            } else {
                let width = data.staticFeatures.columns
                for row in 0..<data.count {
                    for column in columns {
                        shuffled.staticFeatures.values[row * width + column] = data.staticFeatures.values[order[row] * width + column]
                    }
                }
            }
            let auc = Metrics.rocAUC(labels, SequenceTrainer.predict(model, shuffled).map(Double.init)) ?? baseline
            result.append(FeatureImportance(feature: field, importance: baseline - auc, method: "permutation"))
        }
        return result.sorted { $0.importance > $1.importance }
    }

    /// Mean attention on each month of the window, most recent last (`month t-11` ... `month t`).
    static func attentionByMonth(_ model: SequenceModel, _ data: SequenceDataset) -> [FeatureImportance] {
        let steps = data.sequences.steps
        var sums = [Double](repeating: 0, count: steps)
        let rows = Array(0..<data.count)
        for start in stride(from: 0, to: data.count, by: 1024) {
            let (staticBatch, sequence) = data.batch(rows[start..<min(start + 1024, data.count)])
            _ = model.probabilities(static: staticBatch, sequence: sequence)
            for (index, weight) in (model.lastAttentionWeights ?? []).enumerated() { sums[index % steps] += Double(weight) }
        }
        return (0..<steps).map { step in
            let offset = steps - 1 - step
            return FeatureImportance(
                feature: offset == 0 ? "month t" : "month t-\(offset)", importance: sums[step] / Double(max(data.count, 1)),
                method: "attention")
        }
    }
}

/// A loaded sequence model with its schemas and history source.
public struct LoadedSequenceModel: LoadedChurnModel {
    public let model: SequenceModel
    public let schema: FeatureSchema
    public let dataset: DatasetSchema
    public let source: SequenceSource
    /// Panel columns, most influential first (for the values explanations show).
    public let panelRanking: [String]
    private let records: RecordValidator
    private let lock = NSLock()

    public init(
        model: SequenceModel, schema: FeatureSchema, dataset: DatasetSchema, source: SequenceSource, panelRanking: [String] = []
    ) {
        self.model = model
        self.schema = schema
        self.dataset = dataset
        self.source = source
        self.panelRanking = panelRanking
        self.records = RecordValidator(schema: dataset)
    }

    public var features: [String] {
        switch source {
        case .panel(let encoding): schema.featureNames + encoding.featureNames.map { "history." + $0 }
        case .derived: schema.featureNames + DerivedHistory.featureNames.map { "history." + $0 }
        case .none: schema.featureNames
        }
    }

    private func inputs(_ customers: [CustomerRecord]) throws -> (SequenceDataset, [[PanelMonth]], CustomerTable) {
        let table = try records.table(customers)
        let months = try dataset.months(of: customers)
        return (source.inputs(table, schema: schema, months: months), months, table)
    }

    public func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        let (data, _, _) = try inputs(customers)
        // The model keeps activations between forward and backward: one pass at a time.
        return lock.withLock { SequenceTrainer.predict(model, data).map(Double.init) }
    }

    public func predict(batch: CustomerBatch) throws -> [Double] {
        // Months of a panel come with records; a batch carries none.
        guard dataset.history == nil else { return try predict(batch.records) }
        let table = try records.table(batch)
        let data = source.inputs(table, schema: schema, months: Array(repeating: [], count: table.count))
        return lock.withLock { SequenceTrainer.predict(model, data).map(Double.init) }
    }

    /// Each customer's reasons, measured by occlusion on the probability scale: every input field
    /// replaced by the average training customer's (its mean, or its categories' shares) and
    /// every month masked out, the change in churn probability each causes (so the contract
    /// and the months rank together, with one sign: positive raises the risk). The months also
    /// keep their attention weights (`lstm_attention`) or their occlusion (`lstm`) as `weight`.
    public func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        let (data, months, table) = try inputs(customers)
        let steps = data.sequences.steps
        return lock.withLock {
            let (staticBatch, sequence) = data.batch(Array(0..<data.count)[...])
            let probabilities = model.probabilities(static: staticBatch, sequence: sequence)
            // Read before any other pass overwrites them.
            let attention = model.lastAttentionWeights
            let monthEffects = steps > 0 ? occlusion(data, baseline: probabilities) : nil
            let fieldEffects = fieldOcclusion(data, baseline: probabilities)
            let method: String? = monthEffects == nil ? nil : (attention == nil ? "occlusion" : "attention")
            return (0..<data.count).map { row in
                var contributions = fieldEffects.map { field, effects in
                    Contribution(feature: field, value: schema.inputValue(of: field, in: table, row: row), contribution: Double(effects[row]))
                }
                contributions.sort { abs($0.contribution) > abs($1.contribution) }
                if let top { contributions = Array(contributions.prefix(top)) }
                guard let monthEffects else {
                    return ModelExplanation(churnProbability: Double(probabilities[row]), contributions: contributions)
                }
                var explained: [MonthExplanation] = []
                for step in 0..<steps where data.sequences.mask[row * steps + step] > 0 {
                    let period = data.sequences.months[row * steps + step]
                    let effect = Double(monthEffects[row * steps + step])
                    let weight = attention.map { Double($0[row * steps + step]) } ?? effect
                    let values = values(months[row], period: period)
                    explained.append(
                        MonthExplanation(
                            period: MonthlyPanel.periodText(period), weight: weight, values: values, effect: effect,
                            lead: panelRanking.first { values[$0] != nil }))
                }
                var monthWeights: [MonthWeight]?
                if case .derived = source, attention != nil {
                    monthWeights = explained.map { MonthWeight(month: Int($0.period) ?? 0, weight: $0.weight) }
                }
                return ModelExplanation(
                    churnProbability: Double(probabilities[row]), contributions: contributions, attention: monthWeights,
                    history: source.provenance, months: explained, monthMethod: method)
            }
        }
    }

    /// Per row and step: the probability minus the probability with that month masked out.
    private func occlusion(_ data: SequenceDataset, baseline: [Float]) -> [Float] {
        let steps = data.sequences.steps
        var result = [Float](repeating: 0, count: data.count * steps)
        for step in 0..<steps {
            var occluded = data
            for row in 0..<data.count { occluded.sequences.mask[row * steps + step] = 0 }
            let (staticBatch, sequence) = occluded.batch(Array(0..<data.count)[...])
            let without = model.probabilities(static: staticBatch, sequence: sequence)
            for row in 0..<data.count where data.sequences.mask[row * steps + step] > 0 {
                result[row * steps + step] = baseline[row] - without[row]
            }
        }
        return result
    }

    /// Per input field (in the encoding's order), per row: the probability minus the
    /// probability with the field's columns replaced by the average training customer's
    /// (standardised numbers and derived aggregates at 0, their mean; categories at their
    /// training shares; a missing-value indicator at 0).
    private func fieldOcclusion(_ data: SequenceDataset, baseline: [Float]) -> [(String, [Float])] {
        let width = data.staticFeatures.columns
        let fields = schema.columnFields
        guard fields.count == width else { return [] }
        var average = [Float](repeating: 0, count: width)
        var column = 0
        for encoding in schema.categorical {
            for value in encoding.averageColumns {
                average[column] = value
                column += 1
            }
        }
        var order: [String] = []
        var columns: [String: [Int]] = [:]
        for (index, field) in fields.enumerated() {
            if columns[field] == nil { order.append(field) }
            columns[field, default: []].append(index)
        }
        return order.map { field in
            var occluded = data
            for row in 0..<data.count {
                for index in columns[field]! { occluded.staticFeatures.values[row * width + index] = average[index] }
            }
            let (staticBatch, sequence) = occluded.batch(Array(0..<data.count)[...])
            let without = model.probabilities(static: staticBatch, sequence: sequence)
            return (field, (0..<data.count).map { baseline[$0] - without[$0] })
        }
    }

    /// The month's values of the three most influential panel columns.
    private func values(_ history: [PanelMonth], period: Int) -> [String: FieldValue] {
        guard let panel = dataset.history, let month = history.first(where: { $0.period == period }) else { return [:] }
        var values: [String: FieldValue] = [:]
        let names = panel.inputs.map(\.name)
        for column in panelRanking.prefix(3) {
            if let index = names.firstIndex(of: column), index < month.values.count { values[column] = month.values[index].fieldValue }
        }
        return values
    }
}

extension Matrix {
    /// A ChurnData feature matrix as a ChurnML matrix.
    init(_ features: FeatureMatrix) {
        self.init(rows: features.rows, columns: features.columns, values: features.values)
    }
}
