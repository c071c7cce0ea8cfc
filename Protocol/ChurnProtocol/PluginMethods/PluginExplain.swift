import Foundation

extension PluginMethod {
    /// Probabilities plus the reasons behind them.
    public enum Explain: RPCMethod {
        public static let name = "explain"
        public typealias Params = PluginExplainParams
        public typealias Result = PluginExplainResult
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
