import ChurnData
import ChurnML
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// The LSTM plugins: an LSTM over each customer's monthly history beside a dense layer over the
/// static fields of the dataset schema (`lstm`), or the same with the LSTM states pooled by
/// attention (`lstm_attention`), whose explanations give the weight of every month. The history
/// is the one derived from tenure and charges when the schema names those fields (a labelled
/// fallback); without it the network is the static branch alone.
public struct SequencePlugin: ChurnModelPlugin {
    public let attention: Bool

    public init(attention: Bool) {
        self.attention = attention
    }

    var kind: String { attention ? "lstm_attention" : "lstm" }

    public var description: PluginDescription {
        PluginDescription(
            kind: kind, pluginVersion: "1.0.0",
            capabilities: attention ? ["train", "predict", "explain", "attention"] : ["train", "predict", "explain"],
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
        let derived = dataset.derivedHistory
        let trainData = Self.inputs(training.customers, schema: schema, history: derived, window: configuration.window)
        var validation: (SequenceDataset, [Bool])?
        if let path = request.validationPath {
            let (rows, _) = try DatasetReader.read(path, schema: dataset, options: DatasetReadOptions(requireLabel: true))
            validation = (
                Self.inputs(rows.customers, schema: schema, history: derived, window: configuration.window),
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
        if let (validationData, validationLabels) = validation {
            let probabilities = SequenceTrainer.predict(model, validationData).map(Double.init)
            for (key, value) in Metrics.report(validationLabels, probabilities) { metrics["val_" + key] = value }
            importances = Self.permutationImportance(model, validationData, validationLabels, schema: schema, seed: request.seed)
            if attention, model.hasHistory {
                importances += Self.attentionByMonth(model, validationData)
            }
        }
        let curve = history.map { epoch in
            var values = ["loss": epoch.trainLoss]
            if let loss = epoch.validationLoss { values["val_loss"] = loss }
            if let auc = epoch.validationAUC { values["val_roc_auc"] = auc }
            return EpochRecord(epoch: epoch.epoch, values: values)
        }
        metrics["history_months"] = model.hasHistory ? Double(configuration.window) : 0
        let artifact = try SequenceArtifact.write(model, schema: schema, dataset: dataset, kind: kind)
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        return PluginTrainResult(
            metrics: metrics, lossCurve: curve, importances: importances, featureSchema: schema.jsonValue,
            params: SequenceParameters.applied(configuration), artifactBytes: artifact.count)
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
            let (model, schema, dataset) = try SequenceArtifact.read(artifact, kind: kind)
            return LoadedSequenceModel(model: model, schema: schema, dataset: dataset)
        } catch let error as SequenceArtifact.Invalid {
            throw RPCError(.invalidData, "cannot load the artifact: \(error)")
        }
    }

    /// Static features (one-hot and standardised) and the monthly history: derived from tenure
    /// and charges when `history` names those fields, else none (zero steps).
    public static func inputs(_ table: CustomerTable, schema: FeatureSchema, history: DerivedHistoryFields?, window: Int) -> SequenceDataset {
        let sequences =
            history.map { DerivedHistory.sequences(table, fields: $0, window: window) }
            ?? SequenceBatch(count: table.count, steps: 0, features: 0, featureNames: [])
        return SequenceDataset(staticFeatures: Matrix(schema.encode(table).dense()), sequences: sequences)
    }

    /// The drop in validation ROC-AUC when an input field (or the whole history) is shuffled across rows.
    static func permutationImportance(
        _ model: SequenceModel, _ data: SequenceDataset, _ labels: [Bool], schema: FeatureSchema, seed: UInt64
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
        for (field, columns) in groups + historyGroup {
            var order = Array(0..<data.count)
            order.shuffle(using: &random)
            var shuffled = data
            if columns.isEmpty {
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

/// A loaded sequence model with its schemas.
public struct LoadedSequenceModel: LoadedChurnModel {
    public let model: SequenceModel
    public let schema: FeatureSchema
    public let dataset: DatasetSchema
    private let records: RecordValidator
    private let lock = NSLock()

    public init(model: SequenceModel, schema: FeatureSchema, dataset: DatasetSchema) {
        self.model = model
        self.schema = schema
        self.dataset = dataset
        self.records = RecordValidator(schema: dataset)
    }

    /// The history the model reads, when it reads one.
    private var history: DerivedHistoryFields? { model.hasHistory ? dataset.derivedHistory : nil }

    public var features: [String] {
        schema.featureNames + (model.hasHistory ? DerivedHistory.featureNames.map { "history." + $0 } : [])
    }

    public func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        let data = SequencePlugin.inputs(try records.table(customers), schema: schema, history: history, window: model.configuration.window)
        // The model keeps activations between forward and backward: one pass at a time.
        return lock.withLock { SequenceTrainer.predict(model, data).map(Double.init) }
    }

    public func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        let data = SequencePlugin.inputs(try records.table(customers), schema: schema, history: history, window: model.configuration.window)
        let steps = data.sequences.steps
        return lock.withLock {
            let (staticBatch, sequence) = data.batch(Array(0..<data.count)[...])
            let probabilities = model.probabilities(static: staticBatch, sequence: sequence)
            let weights = model.lastAttentionWeights
            return (0..<data.count).map { row in
                var attention: [MonthWeight]?
                if let weights {
                    attention = (0..<steps).compactMap { step in
                        let month = data.sequences.months[row * steps + step]
                        return month > 0 ? MonthWeight(month: month, weight: Double(weights[row * steps + step])) : nil
                    }
                }
                return ModelExplanation(churnProbability: Double(probabilities[row]), attention: attention)
            }
        }
    }
}

extension Matrix {
    /// A ChurnData feature matrix as a ChurnML matrix.
    init(_ features: FeatureMatrix) {
        self.init(rows: features.rows, columns: features.columns, values: features.values)
    }
}
