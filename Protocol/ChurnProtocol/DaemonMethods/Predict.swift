extension DaemonMethod {
    /// Churn probabilities for customers, from the champion (or the named model).
    public enum Predict: RPCMethod {
        public static let name = "predict"
        public typealias Params = PredictParams
        public typealias Result = PredictResult
    }

    /// Probabilities plus their reasons.
    public enum Explain: RPCMethod {
        public static let name = "explain"
        public typealias Params = ExplainParams
        public typealias Result = ExplainResult
    }
}

/// Params of `predict`.
public struct PredictParams: Codable, Sendable, Hashable {
    /// Customers by their schema's field names, each with its id field.
    public var customers: [CustomerRecord] {
        get {
            switch sent {
            case .records(let records): records
            case .columns(let batch): batch.records
            }
        }
        set { sent = .records(newValue) }
    }
    /// The customers as they were read: records, or (read straight from a request's bytes, when
    /// every customer has the same fields) by column, so that churnd checks and forwards them
    /// without a record per customer.
    public var sent: SentCustomers
    /// A version (`3`, `churn@3`) or alias (`champion`, `challenger`); the routed champion when absent.
    public var model: String?
    /// Whether to write each prediction to the prediction log; true when absent.
    public var log: Bool?

    /// Customers as a request carries them.
    public enum SentCustomers: Sendable {
        case records([CustomerRecord])
        /// Customers that all have the same fields, by column; ``CustomerBatch/records`` gives
        /// back exactly the records sent.
        case columns(CustomerBatch)
    }

    public init(customers: [CustomerRecord], model: String? = nil, log: Bool? = nil) {
        self.sent = .records(customers)
        self.model = model
        self.log = log
    }

    /// Params whose customers were read by column.
    public init(columns: CustomerBatch, model: String? = nil, log: Bool? = nil) {
        self.sent = .columns(columns)
        self.model = model
        self.log = log
    }

    public static func == (left: PredictParams, right: PredictParams) -> Bool {
        left.customers == right.customers && left.model == right.model && left.log == right.log
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(customers)
        hasher.combine(model)
        hasher.combine(log)
    }
}

/// The `predict` result, one prediction per customer in request order.
public struct PredictResult: Codable, Sendable, Hashable {
    public var predictions: [Prediction]
    public init(predictions: [Prediction]) { self.predictions = predictions }
}

/// One customer's churn prediction.
public struct Prediction: Codable, Sendable, Hashable {
    public var customerID: String
    /// Probability of leaving, 0...1.
    public var churnProbability: Double
    /// `churnProbability >= threshold` (the model's decision threshold, 0.5 unless set).
    public var churn: Bool
    /// The version that produced it.
    public var model: ModelRef
    /// `champion` or `challenger`, or `direct` when the request named a version that is neither.
    public var arm: Arm
    /// For a model that reads a monthly panel, which months it read: `inline` (sent with the
    /// record), `stored` (the daemon's history store), or `none` (scored without history);
    /// `derived` for a model reading the history derived from tenure and charges.
    public var history: HistorySource?

    public init(
        customerID: String, churnProbability: Double, churn: Bool, model: ModelRef, arm: Arm, history: HistorySource? = nil
    ) {
        self.customerID = customerID
        self.churnProbability = churnProbability
        self.churn = churn
        self.model = model
        self.arm = arm
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case customerID, churn, model, arm, history
        case churnProbability = "churn_probability"
    }
}

/// Where the months a prediction read came from (open: clients treat unknown values as none).
public struct HistorySource: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Months sent with the record.
    public static let inline = HistorySource(rawValue: "inline")
    /// Months from the daemon's history store.
    public static let stored = HistorySource(rawValue: "stored")
    /// No months: the customer was scored on the static fields alone.
    public static let noMonths = HistorySource(rawValue: "none")
    /// The fallback history derived from tenure and charges (not observed months).
    public static let derived = HistorySource(rawValue: "derived")
}

/// Params of `explain`.
public struct ExplainParams: Codable, Sendable, Hashable {
    public var customers: [CustomerRecord]
    public var model: String?
    /// Contributions per customer, largest first (default 10).
    public var top: Int?

    public init(customers: [CustomerRecord], model: String? = nil, top: Int? = nil) {
        self.customers = customers
        self.model = model
        self.top = top
    }
}

/// The `explain` result.
public struct ExplainResult: Codable, Sendable, Hashable {
    public var explanations: [CustomerExplanation]
    public init(explanations: [CustomerExplanation]) { self.explanations = explanations }
}

/// One customer's prediction with its reasons.
public struct CustomerExplanation: Codable, Sendable, Hashable {
    public var customerID: String
    public var model: ModelRef
    public var arm: Arm
    public var explanation: ModelExplanation
    /// Which months the model read, as in ``Prediction/history``.
    public var history: HistorySource?

    public init(customerID: String, model: ModelRef, arm: Arm, explanation: ModelExplanation, history: HistorySource? = nil) {
        self.customerID = customerID
        self.model = model
        self.arm = arm
        self.explanation = explanation
        self.history = history
    }
}
