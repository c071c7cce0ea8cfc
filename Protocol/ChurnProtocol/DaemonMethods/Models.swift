extension DaemonMethod {
    /// Train a model with a plugin, evaluate it on held-back data and register it.
    public enum ModelsTrain: RPCMethod {
        public static let name = "models.train"
        public typealias Params = TrainParams
        public typealias Result = ModelVersionInfo

        /// The version is registered before the answer: an oversized one is answered as
        /// `models.list` shows it (``ModelVersionInfo/summary``).
        public static func compacted(_ result: ModelVersionInfo) -> ModelVersionInfo? { result.summary }
    }

    /// Every registered version, newest first.
    public enum ModelsList: RPCMethod {
        public static let name = "models.list"
        public typealias Params = ModelsListParams
        public typealias Result = ModelsListResult
    }

    /// One version in full: metrics, curves, schema, artifact facts.
    public enum ModelsGet: RPCMethod {
        public static let name = "models.get"
        public typealias Params = ModelRefParams
        public typealias Result = ModelVersionInfo
    }

    /// Delete a version and its artifact; refused while an alias names it.
    public enum ModelsDelete: RPCMethod {
        public static let name = "models.delete"
        public typealias Params = ModelRefParams
        public typealias Result = ModelRef
    }
}

/// Params of `models.train`.
public struct TrainParams: Codable, Sendable, Hashable {
    /// The plugin kind: `random_forest`, `lstm`, `lstm_attention`, ..., or `auto` to tune every
    /// installed kind and register the best (or a blend of the kinds' best).
    public var kind: String
    /// A labelled customer CSV, readable by the daemon.
    public var data: String
    /// The dataset schema: a built-in name (`kaggle`, `ibm`), or a schema as a JSON object.
    /// Absent: a built-in schema whose columns the file has, else one inferred from the file.
    public var schema: JSONValue?
    /// The label column, when the schema is inferred.
    public var label: String?
    /// A built-in schema name or a first-release mapping file (kept for old clients; `schema` is preferred).
    public var mapping: String?
    /// A monthly panel CSV (`customer_id, period, ...`) for the same customers.
    public var history: String?
    /// Drop rows with bad values (and report them) instead of rejecting the file.
    public var skipBadRows: Bool?
    /// Hyperparameters for the plugin.
    public var params: [String: JSONValue]?
    public var seed: UInt64?
    /// The model name versions are registered under (default `churn`).
    public var name: String?
    /// Share of rows held back for the daemon's own evaluation (default 0.2).
    public var testFraction: Double?
    /// Share of the remaining rows the plugin uses for validation (default 0.2).
    public var validationFraction: Double?
    public var notes: String?
    public var tags: [String]?
    /// Tune the kind's hyperparameters by cross-validation on the training rows before the final
    /// fit (always on with `kind` `auto`).
    public var tune: Bool?
    /// Seconds the whole tuned run may take (default: 60 for up to 5,000 rows, more for larger files).
    public var budget: Double?
    /// Configurations per kind on the first successive-halving rung (default 27).
    public var trials: Int?
    /// Cross-validation folds (default 5).
    public var folds: Int?
    /// Whether a blend of the kinds' best may be registered when it beats the best single model
    /// (default true; only with `kind` `auto`).
    public var blend: Bool?

    public init(
        kind: String, data: String, mapping: String? = nil, history: String? = nil, skipBadRows: Bool? = nil,
        params: [String: JSONValue]? = nil, seed: UInt64? = nil, name: String? = nil,
        testFraction: Double? = nil, validationFraction: Double? = nil, notes: String? = nil,
        tags: [String]? = nil, schema: JSONValue? = nil, label: String? = nil, tune: Bool? = nil, budget: Double? = nil,
        trials: Int? = nil, folds: Int? = nil, blend: Bool? = nil
    ) {
        self.tune = tune
        self.budget = budget
        self.trials = trials
        self.folds = folds
        self.blend = blend
        self.schema = schema
        self.label = label
        self.kind = kind
        self.data = data
        self.mapping = mapping
        self.history = history
        self.skipBadRows = skipBadRows
        self.params = params
        self.seed = seed
        self.name = name
        self.testFraction = testFraction
        self.validationFraction = validationFraction
        self.notes = notes
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case kind, data, mapping, history, params, seed, name, notes, tags, schema, label, tune, budget, trials, folds, blend
        case testFraction = "test_fraction"
        case validationFraction = "validation_fraction"
        case skipBadRows = "skip_bad_rows"
    }
}

/// Params of `models.list`.
public struct ModelsListParams: Codable, Sendable, Hashable {
    /// Only versions of this model name.
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

/// The `models.list` result.
public struct ModelsListResult: Codable, Sendable, Hashable {
    public var versions: [ModelVersionInfo]
    public init(versions: [ModelVersionInfo]) { self.versions = versions }
}

/// Params naming one version: `3`, `churn@3`, `champion`, `churn@champion`.
public struct ModelRefParams: Codable, Sendable, Hashable {
    public var model: String
    public init(model: String) { self.model = model }
}

/// Everything known about one registered model version.
public struct ModelVersionInfo: Codable, Sendable, Hashable {
    public var name: String
    public var version: Int
    public var kind: String
    public var pluginVersion: String
    public var protocolVersion: Int
    /// ISO 8601, UTC.
    public var createdAt: String
    /// The Unix user that registered it.
    public var createdBy: String
    public var params: [String: JSONValue]
    /// Metrics on the daemon's held-back split (`test_*`) and the plugin's validation (`val_*`).
    public var metrics: [String: Double]
    /// Aliases that name this version now.
    public var aliases: [String]
    public var artifact: ArtifactInfo
    public var trainingData: TrainingDataInfo?
    public var notes: String?
    public var tags: [String]
    /// Present in `models.get`: per-epoch numbers.
    public var lossCurve: [EpochRecord]?
    /// What `lossCurve` counts along: `epoch` (absent means epochs) or `trees`.
    public var lossCurveUnit: String?
    /// The history the version reads: `panel` (observed months), `derived` (derived from tenure
    /// and charges, a fallback), or `none`. Absent for versions of earlier releases.
    public var historySource: String?
    /// How the version's probabilities are calibrated: the calibrator it serves with (Platt or
    /// isotonic, fitted on its validation split) and its held-back ECE, Brier score and
    /// reliability curve before and after. Absent for versions trained before calibration.
    public var calibration: JSONValue?
    /// Present in `models.get`: ROC curve points on the held-back split.
    public var rocCurve: [ROCPoint]?
    /// Present in `models.get`.
    public var importances: [FeatureImportance]?
    /// Present in `models.get`: the fitted feature schema.
    public var featureSchema: JSONValue?
    /// Present in `models.get`: the dataset schema the version reads (its fields, their types and
    /// values), what `predict` checks records against. Absent for versions of churn's first
    /// release, which read the built-in Kaggle telco schema.
    public var datasetSchema: JSONValue?
    /// Present in `models.get` for a tuned version: every configuration cross-validated, the
    /// blend considered, and why the search stopped.
    public var leaderboard: Leaderboard?
    /// For a blend (`kind` `blend`): the versions it averages, with their weights.
    public var members: [BlendMember]?

    public init(
        name: String, version: Int, kind: String, pluginVersion: String, protocolVersion: Int, createdAt: String,
        createdBy: String, params: [String: JSONValue], metrics: [String: Double], aliases: [String],
        artifact: ArtifactInfo, trainingData: TrainingDataInfo?, notes: String?, tags: [String],
        lossCurve: [EpochRecord]? = nil, lossCurveUnit: String? = nil, rocCurve: [ROCPoint]? = nil,
        importances: [FeatureImportance]? = nil, featureSchema: JSONValue? = nil, datasetSchema: JSONValue? = nil,
        historySource: String? = nil, calibration: JSONValue? = nil, leaderboard: Leaderboard? = nil,
        members: [BlendMember]? = nil
    ) {
        self.leaderboard = leaderboard
        self.members = members
        self.calibration = calibration
        self.historySource = historySource
        self.lossCurveUnit = lossCurveUnit
        self.datasetSchema = datasetSchema
        self.name = name
        self.version = version
        self.kind = kind
        self.pluginVersion = pluginVersion
        self.protocolVersion = protocolVersion
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.params = params
        self.metrics = metrics
        self.aliases = aliases
        self.artifact = artifact
        self.trainingData = trainingData
        self.notes = notes
        self.tags = tags
        self.lossCurve = lossCurve
        self.rocCurve = rocCurve
        self.importances = importances
        self.featureSchema = featureSchema
    }

    /// `name@version`.
    public var ref: ModelRef { ModelRef(name: name, version: version) }

    /// The version without curves, importances and schema, as `models.list` shows it.
    public var summary: ModelVersionInfo {
        var brief = self
        brief.lossCurve = nil
        brief.rocCurve = nil
        brief.importances = nil
        brief.featureSchema = nil
        brief.datasetSchema = nil
        brief.calibration = nil
        brief.leaderboard = nil
        return brief
    }

    enum CodingKeys: String, CodingKey {
        case name, version, kind, params, metrics, aliases, artifact, notes, tags, importances, leaderboard, members
        case pluginVersion = "plugin_version"
        case protocolVersion = "protocol_version"
        case createdAt = "created_at"
        case createdBy = "created_by"
        case trainingData = "training_data"
        case lossCurve = "loss_curve"
        case lossCurveUnit = "loss_curve_unit"
        case rocCurve = "roc_curve"
        case featureSchema = "feature_schema"
        case datasetSchema = "dataset_schema"
        case historySource = "history_source"
        case calibration
    }
}

/// Facts about a stored artifact.
public struct ArtifactInfo: Codable, Sendable, Hashable {
    /// Hex sha256 of the raw (uncompressed) bytes.
    public var sha256: String
    public var rawBytes: Int
    public var compressedBytes: Int

    public init(sha256: String, rawBytes: Int, compressedBytes: Int) {
        self.sha256 = sha256
        self.rawBytes = rawBytes
        self.compressedBytes = compressedBytes
    }

    enum CodingKeys: String, CodingKey {
        case sha256
        case rawBytes = "raw_bytes"
        case compressedBytes = "compressed_bytes"
    }
}

/// The data a version was trained on.
public struct TrainingDataInfo: Codable, Sendable, Hashable {
    /// Hex sha256 of the data file as read.
    public var sha256: String
    public var rows: Int
    public var path: String?

    public init(sha256: String, rows: Int, path: String?) {
        self.sha256 = sha256
        self.rows = rows
        self.path = path
    }
}

/// One point of a ROC curve.
public struct ROCPoint: Codable, Sendable, Hashable {
    public var threshold: Double
    public var falsePositiveRate: Double
    public var truePositiveRate: Double

    public init(threshold: Double, falsePositiveRate: Double, truePositiveRate: Double) {
        self.threshold = threshold
        self.falsePositiveRate = falsePositiveRate
        self.truePositiveRate = truePositiveRate
    }

    enum CodingKeys: String, CodingKey {
        case threshold
        case falsePositiveRate = "fpr"
        case truePositiveRate = "tpr"
    }
}
