import Foundation

extension PluginMethod {
    /// Churn probabilities for a batch of customers, in order.
    public enum Predict: RPCMethod {
        public static let name = "predict"
        public typealias Params = PluginPredictParams
        public typealias Result = PluginPredictResult
    }

    /// For an uplift model (trained with a treatment column): each customer's churn
    /// probability without the offer and with it. Plugins without the `uplift` capability, and
    /// models that are not uplift models, answer -32015.
    public enum Uplift: RPCMethod {
        public static let name = "uplift"
        public typealias Params = PluginPredictParams
        public typealias Result = PluginUpliftResult
    }
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
