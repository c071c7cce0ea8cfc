import ChurnData
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// The two-model ("T-learner") uplift forest: one forest fitted on the customers a randomized
/// campaign gave the offer to, one on its control group, both on the same encoded fields. A
/// customer's predicted uplift is P(churn | no offer) − P(churn | offer): the churn the offer is
/// expected to prevent. Randomization is what makes the difference causal; the forests only
/// learn how it varies with the customer's fields.
///
/// Artifact: `"CHRNUP01"`, then the treated forest's artifact and the control forest's, each
/// after its length (UInt32, little-endian). Each part is an ordinary forest artifact.
enum UpliftForest {
    static let magic = Array("CHRNUP01".utf8)

    static func train(_ request: PluginTrainParams, treatment: TreatmentColumn, progress: ProgressReporter) throws -> PluginTrainResult {
        guard request.historyPath == nil else {
            throw RPCError(.notSupported, "uplift forests read the customers' fields, not a monthly panel: send no history_path")
        }
        var dataset = try request.datasetSchema()
        dataset.history = nil
        let (training, _) = try DatasetReader.read(request.trainPath, schema: dataset, options: DatasetReadOptions(requireLabel: true))
        let labels = try training.requireLabels(file: request.trainPath)
        let treated = try UpliftTraining.arms(of: training, path: request.trainPath, treatment: treatment)
        let (treatedRows, controlRows) = try UpliftTraining.split(treated, labels: labels, file: request.trainPath, what: "an uplift forest")
        let derived = dataset.derivedHistory
        let width = FeatureSchema.fit(training.customers, derivedHistory: derived).width
        var (options, window) = try ForestParameters.parse(request.params, width: width)
        if request.params["min_samples_leaf"] == nil {
            // Campaign groups are small (a control group of 50 is common): the default leaf of 20
            // rows would leave the smaller group's forest a single leaf. A tenth of the smaller
            // group, between 3 and 20, unless set.
            options.minSamplesLeaf = max(3, min(20, min(treatedRows.count, controlRows.count) / 10))
        }
        let schema = FeatureSchema.fit(training.customers, derivedHistory: derived, window: window)
        func fit(_ rows: [Int], seed: UInt64, arm: String) -> (RandomForest, FitReport) {
            let total = options.trees
            return RandomForest.fit(
                schema.encode(training.customers.rows(rows)), labels: rows.map { labels[$0] }, options: options, seed: seed
            ) { done in
                if done % 50 == 0 || done == total {
                    progress.report(stage: "trees", step: done, total: total, message: "\(arm) group: \(done)/\(total) trees grown")
                }
            }
        }
        let (treatedForest, treatedReport) = fit(treatedRows, seed: request.seed, arm: "treated")
        let (controlForest, controlReport) = fit(controlRows, seed: request.seed &+ 1, arm: "control")

        var metrics: [String: Double] = [
            "trees": Double(treatedForest.trees.count + controlForest.trees.count),
            "treated_rows": Double(treatedRows.count), "control_rows": Double(controlRows.count),
        ]
        if let auc = treatedReport.outOfBagAUC { metrics["oob_roc_auc_treated"] = auc }
        if let auc = controlReport.outOfBagAUC { metrics["oob_roc_auc_control"] = auc }
        if let path = request.validationPath {
            let (validation, _) = try DatasetReader.read(path, schema: dataset, options: DatasetReadOptions(requireLabel: true))
            let outcomes = try validation.requireLabels(file: path)
            let given = try UpliftTraining.arms(of: validation, path: path, treatment: treatment)
            let features = schema.encode(validation.customers)
            metrics.merge(
                UpliftTraining.validationMetrics(
                    untreated: controlForest.predict(features), treated: treatedForest.predict(features), outcomes: outcomes, given: given)
            ) { $1 }
        }
        let artifact = write(
            treated: try ForestArtifact.write(treatedForest, schema: schema, dataset: dataset),
            control: try ForestArtifact.write(controlForest, schema: schema, dataset: dataset))
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        let importance = zip(treatedReport.impurityImportance, controlReport.impurityImportance).map { ($0 + $1) / 2 }
        return PluginTrainResult(
            metrics: metrics, lossCurve: [],
            importances: RandomForestPlugin.fold(importance, schema: schema, method: "impurity (mean of both groups' forests)"),
            featureSchema: schema.jsonValue, params: ForestParameters.applied(options, window: window), artifactBytes: artifact.count,
            lossCurveUnit: nil, historySource: derived != nil ? "derived" : "none")
    }

    static func write(treated: Data, control: Data) -> Data {
        UpliftTraining.joinArtifacts(magic: magic, treated: treated, control: control)
    }

    static func isUplift(_ bytes: Data) -> Bool { bytes.starts(with: magic) }

    static func read(_ bytes: Data) throws -> LoadedUpliftForest {
        let split: (treated: Data, control: Data)
        do {
            split = try UpliftTraining.splitArtifacts(bytes, magic: magic, model: "forest")
        } catch {
            throw ForestArtifact.Invalid(description: error.description)
        }
        let parts = [try ForestArtifact.read(split.treated), try ForestArtifact.read(split.control)]
        func loaded(_ part: ForestArtifact.Contents) -> LoadedForest {
            LoadedForest(forest: part.forest, schema: part.schema, dataset: part.dataset)
        }
        return LoadedUpliftForest(treated: loaded(parts[0]), control: loaded(parts[1]))
    }
}

/// A loaded uplift forest: `predict` and `explain` answer for the customer without the offer
/// (the control group's forest); `uplift` gives both probabilities.
struct LoadedUpliftForest: LoadedChurnModel {
    let treated: LoadedForest
    let control: LoadedForest

    var features: [String] { control.features }

    func predict(_ customers: [CustomerRecord]) throws -> [Double] { try control.predict(customers) }

    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] { try control.explain(customers, top: top) }

    func uplift(_ customers: [CustomerRecord]) throws -> PluginUpliftResult {
        PluginUpliftResult(untreated: try control.predict(customers), treated: try treated.predict(customers))
    }
}
