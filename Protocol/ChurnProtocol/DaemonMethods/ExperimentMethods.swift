extension DaemonMethod {
    /// Start a champion/challenger experiment on a model.
    public enum ExperimentsStart: RPCMethod {
        public static let name = "experiments.start"
        public typealias Params = ExperimentStartParams
        public typealias Result = ExperimentInfo
    }

    /// Stop the running experiment on a model.
    public enum ExperimentsStop: RPCMethod {
        public static let name = "experiments.stop"
        public typealias Params = ExperimentModelParams
        public typealias Result = ExperimentInfo
    }

    /// Experiments on a model, the running one first.
    public enum ExperimentsStatus: RPCMethod {
        public static let name = "experiments.status"
        public typealias Params = ExperimentModelParams
        public typealias Result = ExperimentsStatusResult
    }

    /// Compare the arms of an experiment on the outcomes recorded so far.
    public enum ExperimentsReport: RPCMethod {
        public static let name = "experiments.report"
        public typealias Params = ExperimentReportParams
        public typealias Result = ExperimentReport
    }

    /// Record observed outcomes (who churned), for experiment reports.
    public enum Feedback: RPCMethod {
        public static let name = "feedback"
        public typealias Params = FeedbackParams
        public typealias Result = FeedbackResult

        /// Outcomes are recorded before the answer: an oversized list of unknown customers is
        /// cut to its first 1,000, and `unknown_total` still counts them all.
        public static func compacted(_ result: FeedbackResult) -> FeedbackResult? {
            FeedbackResult(
                recorded: result.recorded, unknownCustomers: Array(result.unknownCustomers.prefix(1000)),
                unknownTotal: result.unknownTotal ?? result.unknownCustomers.count)
        }
    }

    /// Outcomes recorded by `feedback`, month by month (of the date each was observed on),
    /// newest first: how many, how many churned.
    public enum FeedbackSummary: RPCMethod {
        public static let name = "feedback.summary"
        public typealias Params = FeedbackSummaryParams
        public typealias Result = FeedbackSummaryResult
    }

    /// Serving metrics in Prometheus text format.
    public enum Metrics: RPCMethod {
        public static let name = "metrics"
        public typealias Params = NoParams
        public typealias Result = MetricsResult
    }
}

/// Params of `experiments.start`.
public struct ExperimentStartParams: Codable, Sendable, Hashable {
    /// The challenger version (`churn@4`, `4`).
    public var challenger: String
    /// `ab` (a sticky share of customers is answered by the challenger) or `shadow` (the champion
    /// answers everyone; the challenger scores the same requests off the hot path, logged only).
    public var mode: ExperimentMode
    /// Share of customers in the challenger arm for `ab`, in (0, 1); default 0.1.
    public var share: Double?
    public var note: String?

    public init(challenger: String, mode: ExperimentMode, share: Double? = nil, note: String? = nil) {
        self.challenger = challenger
        self.mode = mode
        self.share = share
        self.note = note
    }
}

/// Params naming a model (default `churn`).
public struct ExperimentModelParams: Codable, Sendable, Hashable {
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

/// Params of `experiments.report`.
public struct ExperimentReportParams: Codable, Sendable, Hashable {
    /// The model name (default `churn`); its running experiment, else its latest.
    public var name: String?
    /// A specific experiment id.
    public var experiment: Int?
    /// The riskiest share of customers for precision and recall at k (default 0.1).
    public var topFraction: Double?

    public init(name: String? = nil, experiment: Int? = nil, topFraction: Double? = nil) {
        self.name = name
        self.experiment = experiment
        self.topFraction = topFraction
    }

    enum CodingKeys: String, CodingKey {
        case name, experiment
        case topFraction = "top_fraction"
    }
}

/// An experiment.
public struct ExperimentInfo: Codable, Sendable, Hashable {
    public var id: Int
    public var model: String
    public var mode: ExperimentMode
    public var share: Double
    public var championVersion: Int
    public var challengerVersion: Int
    /// `running` or `stopped`.
    public var status: ExperimentStatus
    public var startedAt: String
    public var startedBy: String
    public var stoppedAt: String?
    public var stoppedBy: String?
    public var note: String?

    public init(
        id: Int, model: String, mode: ExperimentMode, share: Double, championVersion: Int, challengerVersion: Int, status: ExperimentStatus,
        startedAt: String, startedBy: String, stoppedAt: String?, stoppedBy: String?, note: String?
    ) {
        self.id = id
        self.model = model
        self.mode = mode
        self.share = share
        self.championVersion = championVersion
        self.challengerVersion = challengerVersion
        self.status = status
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.stoppedAt = stoppedAt
        self.stoppedBy = stoppedBy
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case id, model, mode, share, status, note
        case championVersion = "champion_version"
        case challengerVersion = "challenger_version"
        case startedAt = "started_at"
        case startedBy = "started_by"
        case stoppedAt = "stopped_at"
        case stoppedBy = "stopped_by"
    }
}

/// The `experiments.status` result.
public struct ExperimentsStatusResult: Codable, Sendable, Hashable {
    public var running: ExperimentInfo?
    public var experiments: [ExperimentInfo]

    public init(running: ExperimentInfo?, experiments: [ExperimentInfo]) {
        self.running = running
        self.experiments = experiments
    }
}

/// A value with its bootstrap 95% interval.
public struct Interval: Codable, Sendable, Hashable {
    public var value: Double
    public var low: Double
    public var high: Double

    public init(value: Double, low: Double, high: Double) {
        self.value = value
        self.low = low
        self.high = high
    }
}

/// One arm of a report.
public struct ArmReport: Codable, Sendable, Hashable {
    /// `champion`, `challenger` or `shadow`.
    public var arm: Arm
    public var version: Int
    /// Customers scored in this arm.
    public var predictions: Int
    /// Of those, customers with a recorded outcome (the ones scored below).
    public var outcomes: Int
    public var churners: Int
    public var rocAUC: Interval?
    public var logLoss: Interval?
    public var brier: Interval?
    public var precisionAtTop: Interval?
    public var recallAtTop: Interval?
    /// The money beside the ranking: the monthly bills of the churners among this arm's riskiest
    /// `top_fraction`, what contacting them could keep (absent without logged bills).
    public var revenueAtTop: Interval?
    /// That as a share of all this arm's churners' monthly bills (comparable across arm sizes).
    public var revenueShareAtTop: Interval?

    public init(
        arm: Arm, version: Int, predictions: Int, outcomes: Int, churners: Int, rocAUC: Interval?, logLoss: Interval?,
        brier: Interval?, precisionAtTop: Interval?, recallAtTop: Interval?, revenueAtTop: Interval? = nil,
        revenueShareAtTop: Interval? = nil
    ) {
        self.revenueAtTop = revenueAtTop
        self.revenueShareAtTop = revenueShareAtTop
        self.arm = arm
        self.version = version
        self.predictions = predictions
        self.outcomes = outcomes
        self.churners = churners
        self.rocAUC = rocAUC
        self.logLoss = logLoss
        self.brier = brier
        self.precisionAtTop = precisionAtTop
        self.recallAtTop = recallAtTop
    }

    enum CodingKeys: String, CodingKey {
        case arm, version, predictions, outcomes, churners, brier
        case rocAUC = "roc_auc"
        case logLoss = "log_loss"
        case precisionAtTop = "precision_at_top"
        case recallAtTop = "recall_at_top"
        case revenueAtTop = "revenue_at_top"
        case revenueShareAtTop = "revenue_share_at_top"
    }
}

/// DeLong's paired test of challenger AUC − champion AUC on the same customers (shadow mode).
public struct PairedTest: Codable, Sendable, Hashable {
    public var customers: Int
    public var aucDifference: Double
    public var standardError: Double
    public var z: Double
    public var p: Double

    public init(customers: Int, aucDifference: Double, standardError: Double, z: Double, p: Double) {
        self.customers = customers
        self.aucDifference = aucDifference
        self.standardError = standardError
        self.z = z
        self.p = p
    }

    enum CodingKeys: String, CodingKey {
        case customers, z, p
        case aucDifference = "auc_difference"
        case standardError = "standard_error"
    }
}

/// The `experiments.report` result.
public struct ExperimentReport: Codable, Sendable, Hashable {
    public var experiment: ExperimentInfo
    /// The riskiest share used for precision and recall at the top.
    public var topFraction: Double
    public var arms: [ArmReport]
    /// Shadow mode: the paired test on customers scored by both.
    public var paired: PairedTest?
    /// `challenger better`, `challenger worse` or `not yet distinguishable`, with the counts behind it.
    public var verdict: String
    /// The verdict as a closed word a client can translate or act on.
    public var decision: ExperimentDecision?

    public init(
        experiment: ExperimentInfo, topFraction: Double, arms: [ArmReport], paired: PairedTest?, verdict: String,
        decision: ExperimentDecision? = nil
    ) {
        self.experiment = experiment
        self.topFraction = topFraction
        self.arms = arms
        self.paired = paired
        self.verdict = verdict
        self.decision = decision
    }

    enum CodingKeys: String, CodingKey {
        case experiment, arms, paired, verdict, decision
        case topFraction = "top_fraction"
    }
}

/// What an experiment report concludes (open: clients treat unknown values as undecided).
public struct ExperimentDecision: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The challenger is better, with 95% confidence.
    public static let challengerBetter = ExperimentDecision(rawValue: "challenger_better")
    /// The challenger is worse, with 95% confidence.
    public static let challengerWorse = ExperimentDecision(rawValue: "challenger_worse")
    /// Enough outcomes, no significant difference yet.
    public static let notDistinguishable = ExperimentDecision(rawValue: "not_distinguishable")
    /// Fewer outcomes (or churners) per arm than a verdict needs.
    public static let tooFewOutcomes = ExperimentDecision(rawValue: "too_few_outcomes")
}

/// One observed outcome.
public struct Outcome: Codable, Sendable, Hashable {
    public var customerID: String
    public var churned: Bool
    /// When it was observed, `YYYY-MM-DD` (default: today).
    public var date: String?

    public init(customerID: String, churned: Bool, date: String? = nil) {
        self.customerID = customerID
        self.churned = churned
        self.date = date
    }
}

/// Params of `feedback`.
public struct FeedbackParams: Codable, Sendable, Hashable {
    public var outcomes: [Outcome]
    public init(outcomes: [Outcome]) { self.outcomes = outcomes }
}

/// The `feedback` result.
public struct FeedbackResult: Codable, Sendable, Hashable {
    public var recorded: Int
    /// Customers the daemon never scored (recorded anyway, and reported).
    public var unknownCustomers: [String]
    /// Present when `unknown_customers` was cut to fit the frame limit: how many there were.
    public var unknownTotal: Int?

    public init(recorded: Int, unknownCustomers: [String], unknownTotal: Int? = nil) {
        self.recorded = recorded
        self.unknownCustomers = unknownCustomers
        self.unknownTotal = unknownTotal
    }

    enum CodingKeys: String, CodingKey {
        case recorded
        case unknownCustomers = "unknown_customers"
        case unknownTotal = "unknown_total"
    }
}

/// The `metrics` result.
public struct MetricsResult: Codable, Sendable, Hashable {
    /// Prometheus text exposition format.
    public var prometheus: String
    public init(prometheus: String) { self.prometheus = prometheus }
}

/// Params of `feedback.summary`.
public struct FeedbackSummaryParams: Codable, Sendable, Hashable {
    /// Months to return, newest first (1-120, default 12).
    public var months: Int?
    public init(months: Int? = nil) { self.months = months }
}

/// The `feedback.summary` result: one row per month that has outcomes, newest first.
public struct FeedbackSummaryResult: Codable, Sendable, Hashable {
    public var months: [FeedbackMonth]
    public init(months: [FeedbackMonth]) { self.months = months }
}

/// The outcomes observed in one calendar month.
public struct FeedbackMonth: Codable, Sendable, Hashable {
    /// `YYYY-MM`.
    public var month: String
    /// Outcomes recorded with a date in the month (a customer's repeated outcomes each count).
    public var outcomes: Int
    /// Of them, how many churned.
    public var churned: Int

    public init(month: String, outcomes: Int, churned: Int) {
        self.month = month
        self.outcomes = outcomes
        self.churned = churned
    }

    /// The share that churned.
    public var churnRate: Double { outcomes == 0 ? 0 : Double(churned) / Double(outcomes) }
}
