import Foundation

extension PluginMethod {
    /// Fit a model on a training file and write its artifact.
    public enum Train: RPCMethod {
        public static let name = "train"
        public typealias Params = PluginTrainParams
        public typealias Result = PluginTrainResult
    }
}

/// Params of the plugin `train` method.
public struct PluginTrainParams: Codable, Sendable, Hashable {
    /// A CSV file of labelled customers in canonical form: the columns of `schema` (its id field,
    /// its input fields, its label), values already checked and translated.
    public var trainPath: String
    /// A CSV file of labelled customers for early stopping and validation metrics.
    public var validationPath: String?
    /// A monthly panel CSV (`customer_id, period, ...`) for the customers of both files, if any.
    public var historyPath: String?
    /// Hyperparameters; unknown names are rejected with -32602 naming them.
    public var params: [String: JSONValue]
    /// Seed for every random choice: the same seed and data give the same model.
    public var seed: UInt64
    /// Where to write the artifact file.
    public var artifactPath: String
    /// The dataset schema of the training files (canonical: fields named as columns), which the
    /// model keeps so it can read prediction records. The daemon always sends it.
    public var schema: JSONValue?
    /// When present, train an uplift model: both files also hold this column, saying whether
    /// each customer was given the offer (a randomized campaign's treated and control groups),
    /// and the label is the outcome observed after the campaign started. Plugins without the
    /// `uplift` capability refuse it.
    public var treatment: TreatmentColumn?

    public init(
        trainPath: String, validationPath: String? = nil, historyPath: String? = nil,
        params: [String: JSONValue] = [:], seed: UInt64 = 0, artifactPath: String, schema: JSONValue? = nil,
        treatment: TreatmentColumn? = nil
    ) {
        self.treatment = treatment
        self.schema = schema
        self.trainPath = trainPath
        self.validationPath = validationPath
        self.historyPath = historyPath
        self.params = params
        self.seed = seed
        self.artifactPath = artifactPath
    }

    enum CodingKeys: String, CodingKey {
        case params, seed, schema, treatment
        case trainPath = "train_path"
        case validationPath = "validation_path"
        case historyPath = "history_path"
        case artifactPath = "artifact_path"
    }
}

/// What `train` reports back.
public struct PluginTrainResult: Codable, Sendable, Hashable {
    /// Validation (or out-of-bag) metrics by name: `roc_auc`, `log_loss`, ...
    public var metrics: [String: Double]
    /// One entry per epoch (or per block of trees).
    public var lossCurve: [EpochRecord]
    /// What `lossCurve` counts along: `epoch` (the default when absent) or `trees`.
    public var lossCurveUnit: String?
    /// The history the model reads: `panel`, `derived` or `none`.
    public var historySource: String?
    /// Feature importances, most important first.
    public var importances: [FeatureImportance]
    /// The fitted feature schema, as stored inside the artifact (for the registry's records).
    public var featureSchema: JSONValue?
    /// Hyperparameters after defaults were applied.
    public var params: [String: JSONValue]
    /// Size of the artifact file written.
    public var artifactBytes: Int

    public init(
        metrics: [String: Double], lossCurve: [EpochRecord] = [], importances: [FeatureImportance] = [],
        featureSchema: JSONValue? = nil, params: [String: JSONValue] = [:], artifactBytes: Int, lossCurveUnit: String? = nil,
        historySource: String? = nil
    ) {
        self.historySource = historySource
        self.lossCurveUnit = lossCurveUnit
        self.metrics = metrics
        self.lossCurve = lossCurve
        self.importances = importances
        self.featureSchema = featureSchema
        self.params = params
        self.artifactBytes = artifactBytes
    }

    enum CodingKeys: String, CodingKey {
        case metrics, importances, params
        case lossCurve = "loss_curve"
        case lossCurveUnit = "loss_curve_unit"
        case historySource = "history_source"
        case featureSchema = "feature_schema"
        case artifactBytes = "artifact_bytes"
    }
}

/// Training numbers of one epoch.
public struct EpochRecord: Codable, Sendable, Hashable {
    public var epoch: Int
    public var values: [String: Double]

    public init(epoch: Int, values: [String: Double]) {
        self.epoch = epoch
        self.values = values
    }
}

/// How much one input feature matters to a model.
public struct FeatureImportance: Codable, Sendable, Hashable {
    public var feature: String
    public var importance: Double
    /// How it was measured: `impurity`, `permutation`, `mean_abs_shap` (mean |exact Shapley value|), `gain`, `attention`, ...
    public var method: String

    public init(feature: String, importance: Double, method: String) {
        self.feature = feature
        self.importance = importance
        self.method = method
    }
}

/// The column of an uplift training file that says who was given the offer.
public struct TreatmentColumn: Codable, Sendable, Hashable {
    /// The column's name (never one of the schema's inputs).
    public var column: String
    /// The value that means "given the offer"; every other value means control.
    public var treated: String

    public init(column: String, treated: String) {
        self.column = column
        self.treated = treated
    }
}
