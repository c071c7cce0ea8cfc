import ChurnProtocol
import Foundation

/// The contract every churn model plugin implements: scikit-learn's estimator contract
/// (fit, predict_proba, explain) over the wire.
///
/// A plugin executable's `main` is then a few lines:
/// ```swift
/// @main struct Main {
///     static func main() async { await PluginRuntime.serve(RandomForestPlugin()) }
/// }
/// ```
/// ``PluginRuntime`` handles the socket, the handshake, artifact checksums, model handles,
/// logging to stderr and shutdown.
public protocol ChurnModelPlugin: Sendable {
    /// The handshake answer: kind, versions, capabilities, hyperparameters.
    var description: PluginDescription { get }

    /// Fits a model on `request.trainPath`, writes its artifact to `request.artifactPath`
    /// and reports metrics. Unknown or out-of-range hyperparameters must be rejected with
    /// ``RPCError/invalidParams(field:_:)`` naming the parameter.
    ///
    /// Runs on a thread of its own, so it may compute for minutes (and start more threads)
    /// while the plugin keeps answering health checks.
    func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult

    /// Rebuilds a model from artifact bytes whose sha256 the runtime has already checked.
    func load(artifact: Data) throws -> any LoadedChurnModel
}

/// A model ready to score customers.
public protocol LoadedChurnModel: Sendable {
    /// The input features the model reads, in its own naming.
    var features: [String] { get }

    /// Churn probabilities in the order of `customers`.
    func predict(_ customers: [CustomerRecord]) throws -> [Double]

    /// Churn probabilities for customers sent by column, in batch order. churnd sends batches
    /// only to plugins that list the `columnar` capability; the default scores the batch's
    /// records with ``predict(_:)``.
    func predict(batch: CustomerBatch) throws -> [Double]

    /// Probabilities with reasons, in the order of `customers`; at most `top` contributions each.
    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation]

    /// For an uplift model, each customer's churn probability without and with the offer.
    /// The default answers -32015: most models are not uplift models.
    func uplift(_ customers: [CustomerRecord]) throws -> PluginUpliftResult
}

extension LoadedChurnModel {
    public func predict(batch: CustomerBatch) throws -> [Double] {
        try predict(batch.records)
    }

    public func uplift(_ customers: [CustomerRecord]) throws -> PluginUpliftResult {
        throw RPCError(.notSupported, "this model is not an uplift model: train one from a campaign (churn campaign uplift)")
    }
}

/// Sends `progress` notifications for the call being served, in order, ahead of its response.
/// Safe to call from any thread; it never blocks on the socket.
public struct ProgressReporter: Sendable {
    private let send: @Sendable (ProgressStep) -> Void

    /// One reported step.
    public struct ProgressStep: Sendable {
        public var stage: String
        public var step: Int
        public var total: Int?
        public var message: String
        public var metrics: [String: Double]?
    }

    public init(_ send: @escaping @Sendable (ProgressStep) -> Void) {
        self.send = send
    }

    /// A reporter that drops everything (for training outside the daemon).
    public static let silent = ProgressReporter { _ in }

    /// Reports that `step` of `total` steps of `stage` are done.
    public func report(
        stage: String, step: Int, total: Int? = nil, message: String, metrics: [String: Double]? = nil
    ) {
        send(ProgressStep(stage: stage, step: step, total: total, message: message, metrics: metrics))
    }
}
