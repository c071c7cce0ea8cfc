import Foundation

/// Methods a model plugin serves to the daemon (`Protocol/PROTOCOL.md`, "Plugin methods").
///
/// A plugin is any executable named `churn-plugin-<kind>` that listens on the Unix
/// socket path given by `--socket PATH` and answers these methods.
public enum PluginMethod {
    /// The handshake: who the plugin is and what it can do.
    public enum Describe: RPCMethod {
        public static let name = "describe"
        public typealias Params = NoParams
        public typealias Result = PluginDescription
    }

    /// Fit a model on a training file and write its artifact.
    public enum Train: RPCMethod {
        public static let name = "train"
        public typealias Params = PluginTrainParams
        public typealias Result = PluginTrainResult
    }

    /// Load an artifact under a handle chosen by the daemon.
    public enum Load: RPCMethod {
        public static let name = "load"
        public typealias Params = PluginLoadParams
        public typealias Result = PluginLoadResult
    }

    /// Forget a loaded model.
    public enum Unload: RPCMethod {
        public static let name = "unload"
        public typealias Params = PluginUnloadParams
        public typealias Result = NoParams
    }

    /// Churn probabilities for a batch of customers, in order.
    public enum Predict: RPCMethod {
        public static let name = "predict"
        public typealias Params = PluginPredictParams
        public typealias Result = PluginPredictResult
    }

    /// Probabilities plus the reasons behind them.
    public enum Explain: RPCMethod {
        public static let name = "explain"
        public typealias Params = PluginExplainParams
        public typealias Result = PluginExplainResult
    }

    /// For an uplift model (trained with a treatment column): each customer's churn
    /// probability without the offer and with it. Plugins without the `uplift` capability, and
    /// models that are not uplift models, answer -32015.
    public enum Uplift: RPCMethod {
        public static let name = "uplift"
        public typealias Params = PluginPredictParams
        public typealias Result = PluginUpliftResult
    }

    /// Finish in-flight work, answer, and exit.
    public enum Shutdown: RPCMethod {
        public static let name = "shutdown"
        public typealias Params = NoParams
        public typealias Result = NoParams
    }
}

/// The `progress` notification: sent by a plugin while it trains, and forwarded by the
/// daemon to the client that asked, tagged with that client's request id.
public enum ProgressNotification: RPCNotificationMethod {
    public static let name = "progress"
    public typealias Params = ProgressUpdate
}

/// One step of long-running work.
public struct ProgressUpdate: Codable, Sendable, Hashable {
    /// The id of the request this progress belongs to.
    public var request: RPCID
    /// What is being done: `"split"`, `"trees"`, `"epoch"`, `"evaluate"`, `"register"`, ...
    public var stage: String
    /// Steps done so far in this stage.
    public var step: Int
    /// Steps in this stage, when known.
    public var total: Int?
    /// A line for a person.
    public var message: String
    /// Numbers of this step (`loss`, `val_auc`, ...).
    public var metrics: [String: Double]?

    public init(
        request: RPCID, stage: String, step: Int, total: Int? = nil, message: String,
        metrics: [String: Double]? = nil
    ) {
        self.request = request
        self.stage = stage
        self.step = step
        self.total = total
        self.message = message
        self.metrics = metrics
    }
}

/// What a plugin says about itself in the handshake.
public struct PluginDescription: Codable, Sendable, Hashable {
    /// The model kind, e.g. `random_forest`; the executable is `churn-plugin-random-forest`.
    public var kind: String
    /// The plugin's own version (semantic versioning).
    public var pluginVersion: String
    /// The wire protocol version it speaks; must equal the daemon's.
    public var protocolVersion: Int
    /// What it can do: `train`, `predict`, `explain`, and extras like `contributions`, `attention`.
    public var capabilities: [String]
    /// One line about the model.
    public var summary: String
    /// The hyperparameters `train` accepts, with defaults.
    public var parameters: [ParameterSpec]

    public init(
        kind: String, pluginVersion: String, protocolVersion: Int = ChurnProtocolVersion.current,
        capabilities: [String], summary: String, parameters: [ParameterSpec] = []
    ) {
        self.kind = kind
        self.pluginVersion = pluginVersion
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
        self.summary = summary
        self.parameters = parameters
    }

    enum CodingKeys: String, CodingKey {
        case kind, capabilities, summary, parameters
        case pluginVersion = "plugin_version"
        case protocolVersion = "protocol_version"
    }
}

/// One hyperparameter a plugin accepts: its type, the values `train` accepts, its default, and
/// the part of it a tuner searches (`search`), so churnd tunes any plugin's model the same way.
public struct ParameterSpec: Codable, Sendable, Hashable {
    public var name: String
    /// `integer`, `number`, `string` or `boolean`.
    public var type: String
    public var defaultValue: JSONValue
    public var help: String
    /// The smallest value `train` accepts (integers and numbers).
    public var minimum: Double?
    /// The largest value `train` accepts (integers and numbers).
    public var maximum: Double?
    /// The values `train` accepts, when it is a closed list (strings and booleans; a parameter
    /// with a range may list extra accepted values, e.g. `max_depth` 0 for unlimited).
    public var choices: [JSONValue]?
    /// How values spread over the range: `linear` (the default) or `log`.
    public var scale: ParameterScale?
    /// The values a tuner explores; absent: the parameter is not tuned (it stays at its default,
    /// or at what the request sets).
    public var search: ParameterSearch?
    /// A part the parameter plays for a tuner: `budget` (it scales the cost of a fit, e.g. trees
    /// or epochs, so a tuner first compares configurations with less of it) or `history` (it only
    /// matters when the data has monthly history).
    public var role: ParameterRole?

    public init(
        name: String, type: String, defaultValue: JSONValue, help: String, minimum: Double? = nil, maximum: Double? = nil,
        choices: [JSONValue]? = nil, scale: ParameterScale? = nil, search: ParameterSearch? = nil, role: ParameterRole? = nil
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.scale = scale
        self.search = search
        self.role = role
    }

    enum CodingKeys: String, CodingKey {
        case name, type, help, minimum, maximum, choices, scale, search, role
        case defaultValue = "default"
    }
}

/// How a numeric parameter's values spread: evenly (`linear`) or by orders of magnitude (`log`).
public struct ParameterScale: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let linear = ParameterScale(rawValue: "linear")
    public static let log = ParameterScale(rawValue: "log")
}

/// A part a parameter plays for a tuner (see ``ParameterSpec/role``).
public struct ParameterRole: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Scales the cost of a fit (trees, epochs): a tuner compares configurations with less of it
    /// first, and gives the survivors the full amount.
    public static let budget = ParameterRole(rawValue: "budget")
    /// Only matters when the data has monthly history (a panel, or history derived from the record).
    public static let history = ParameterRole(rawValue: "history")
}

/// The values a tuner explores for one parameter: a range (`minimum`...`maximum` on `scale`) or a
/// list of `choices`.
public struct ParameterSearch: Codable, Sendable, Hashable {
    public var minimum: Double?
    public var maximum: Double?
    public var choices: [JSONValue]?
    /// `log` explores a range by orders of magnitude; `linear` (the default) evenly.
    public var scale: ParameterScale?

    /// A range to explore.
    public static func range(_ minimum: Double, _ maximum: Double, scale: ParameterScale = .linear) -> ParameterSearch {
        ParameterSearch(minimum: minimum, maximum: maximum, choices: nil, scale: scale)
    }

    /// A list of values to explore.
    public static func choices(_ values: [JSONValue]) -> ParameterSearch {
        ParameterSearch(minimum: nil, maximum: nil, choices: values, scale: nil)
    }

    public init(minimum: Double? = nil, maximum: Double? = nil, choices: [JSONValue]? = nil, scale: ParameterScale? = nil) {
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.scale = scale
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

/// Params of the plugin `load` method.
public struct PluginLoadParams: Codable, Sendable, Hashable {
    /// The handle later calls use, chosen by the daemon (e.g. `churn@3`).
    public var model: String
    /// The artifact file.
    public var artifactPath: String
    /// Hex sha256 of the file's bytes; the plugin refuses a file that does not match.
    public var sha256: String

    public init(model: String, artifactPath: String, sha256: String) {
        self.model = model
        self.artifactPath = artifactPath
        self.sha256 = sha256
    }

    enum CodingKeys: String, CodingKey {
        case model, sha256
        case artifactPath = "artifact_path"
    }
}

/// What `load` reports back.
public struct PluginLoadResult: Codable, Sendable, Hashable {
    public var model: String
    /// Input features the model reads, in its own naming.
    public var features: [String]

    public init(model: String, features: [String]) {
        self.model = model
        self.features = features
    }
}

/// Params of the plugin `unload` method.
public struct PluginUnloadParams: Codable, Sendable, Hashable {
    public var model: String
    public init(model: String) { self.model = model }
}

/// Params of the plugin `predict` method.
public struct PluginPredictParams: Codable, Sendable, Hashable {
    /// A handle from `load`.
    public var model: String
    /// Records checked against the model's schema, in canonical form (the id field and every
    /// input field by name), without any label field. Empty when ``batch`` is sent.
    public var customers: [CustomerRecord]
    /// The same customers by column, sent instead of ``customers`` to a plugin that lists the
    /// `columnar` capability: the id field and every input field, canonical values
    /// (categories as dictionary columns), no label.
    public var batch: CustomerBatch?

    public init(model: String, customers: [CustomerRecord]) {
        self.model = model
        self.customers = customers
    }

    public init(model: String, batch: CustomerBatch) {
        self.model = model
        self.customers = []
        self.batch = batch
    }

    /// Customers in the request, in either form.
    public var count: Int { batch?.rows ?? customers.count }
}

/// Probabilities in the order of the customers sent.
public struct PluginPredictResult: Codable, Sendable, Hashable {
    public var probabilities: [Double]
    public init(probabilities: [Double]) { self.probabilities = probabilities }
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

/// Churn probabilities of an uplift model, in the order of the customers sent.
public struct PluginUpliftResult: Codable, Sendable, Hashable {
    /// Without the offer (the control group's model).
    public var untreated: [Double]
    /// With the offer (the treated group's model).
    public var treated: [Double]

    public init(untreated: [Double], treated: [Double]) {
        self.untreated = untreated
        self.treated = treated
    }
}

/// Params of the plugin `explain` method.
public struct PluginExplainParams: Codable, Sendable, Hashable {
    public var model: String
    public var customers: [CustomerRecord]
    /// How many contributions to return per customer, largest magnitude first (all when absent).
    public var top: Int?

    public init(model: String, customers: [CustomerRecord], top: Int? = nil) {
        self.model = model
        self.customers = customers
        self.top = top
    }
}

/// Explanations in the order of the customers sent.
public struct PluginExplainResult: Codable, Sendable, Hashable {
    public var explanations: [ModelExplanation]
    public init(explanations: [ModelExplanation]) { self.explanations = explanations }
}

/// Why a model gave one customer its probability.
public struct ModelExplanation: Codable, Sendable, Hashable {
    public var churnProbability: Double
    /// The model's average output before any feature is considered, when it has one, on
    /// `scale`.
    public var bias: Double?
    /// Per input field: how much it moved the model's output, on `scale` (bias + sum = the
    /// output: the probability, or its log-odds).
    public var contributions: [Contribution]
    /// What `bias` and `contributions` add up to: the probability (absent: the default) or its
    /// log-odds (gradient-boosted trees, whose exact Shapley values are in log-odds).
    public var scale: ContributionScale?
    /// For sequence models with attention: the weight of each month of history (sums to 1).
    public var attention: [MonthWeight]?
    /// What the months are: `observed months` (a monthly panel) or `derived from tenure and
    /// charges` (the fallback, never presented as observed).
    public var history: String?
    /// Month by month: its attention weight (`lstm_attention`) or the change in churn probability
    /// its removal causes (`lstm`, occlusion), and the month's values of the most influential
    /// panel columns.
    public var months: [MonthExplanation]?
    /// How `months` weighs each month: `attention` or `occlusion`.
    public var monthMethod: String?

    public init(
        churnProbability: Double, bias: Double? = nil, contributions: [Contribution] = [],
        attention: [MonthWeight]? = nil, history: String? = nil, months: [MonthExplanation]? = nil, monthMethod: String? = nil,
        scale: ContributionScale? = nil
    ) {
        self.churnProbability = churnProbability
        self.bias = bias
        self.contributions = contributions
        self.scale = scale
        self.attention = attention
        self.history = history
        self.months = months
        self.monthMethod = monthMethod
    }

    enum CodingKeys: String, CodingKey {
        case bias, contributions, attention, history, months, scale
        case churnProbability = "churn_probability"
        case monthMethod = "month_method"
    }

    /// The same explanation with `bias` and `contributions` on the probability scale: unchanged
    /// when they are already; from log-odds, the bias becomes its probability and each
    /// contribution is scaled by (probability − bias probability) / (log-odds − bias log-odds),
    /// so they still add up exactly and keep their signs and proportions (what a person reads
    /// as "points of churn risk"). Call it on a plugin's own explanation, whose
    /// `churnProbability` is the model's (uncalibrated) output: the log-odds are taken from it,
    /// so an explanation cut to its top contributions converts the same way.
    public func onProbabilityScale() -> ModelExplanation {
        guard scale == .logOdds, let bias else { return self }
        let probability = min(max(churnProbability, 1e-15), 1 - 1e-15)
        let raw = log(probability / (1 - probability))
        let baseline = 1 / (1 + exp(-bias))
        let factor = abs(raw - bias) > 1e-12 ? (probability - baseline) / (raw - bias) : baseline * (1 - baseline)
        var converted = self
        converted.bias = baseline
        converted.contributions = contributions.map { contribution in
            var scaled = contribution
            scaled.contribution *= factor
            return scaled
        }
        converted.scale = nil
        return converted
    }
}

/// The units of an explanation's bias and contributions.
public enum ContributionScale: String, Codable, Sendable, Hashable {
    case probability
    case logOdds = "log_odds"
}

/// One month of a customer's history in an explanation.
public struct MonthExplanation: Codable, Sendable, Hashable {
    /// `YYYY-MM`, or the month number for numbered panels and derived histories.
    public var period: String
    /// Attention weight, or the change in probability without this month (occlusion).
    public var weight: Double
    /// The month's values of the most influential panel columns.
    public var values: [String: FieldValue]
    /// What the month adds to the churn probability: with it minus without it (occlusion), on
    /// the scale of field contributions, so months and fields rank together as reasons. Equal
    /// to `weight` for occlusion; absent from plugins that do not measure it.
    public var effect: Double?
    /// The most influential panel column among `values`: the one a reason names the month by.
    public var lead: String?

    public init(period: String, weight: Double, values: [String: FieldValue] = [:], effect: Double? = nil, lead: String? = nil) {
        self.period = period
        self.weight = weight
        self.values = values
        self.effect = effect
        self.lead = lead
    }
}

/// The effect of one input field on one prediction.
public struct Contribution: Codable, Sendable, Hashable {
    /// The field, by its schema name (`Contract`), or a derived input (`history.charge_slope`).
    public var feature: String
    /// The customer's value of it.
    public var value: FieldValue
    /// Change in churn probability attributed to it.
    public var contribution: Double

    public init(feature: String, value: FieldValue, contribution: Double) {
        self.feature = feature
        self.value = value
        self.contribution = contribution
    }
}

/// Attention given to one month of a customer's history.
public struct MonthWeight: Codable, Sendable, Hashable {
    /// Months since the customer joined (1 = first month).
    public var month: Int
    public var weight: Double

    public init(month: Int, weight: Double) {
        self.month = month
        self.weight = weight
    }
}
