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
    func train(_ request: PluginTrainParams, progress: ProgressReporter) async throws -> PluginTrainResult

    /// Rebuilds a model from artifact bytes whose sha256 the runtime has already checked.
    func load(artifact: Data) throws -> any LoadedChurnModel
}

/// A model ready to score customers.
public protocol LoadedChurnModel: Sendable {
    /// The input features the model reads, in its own naming.
    var features: [String] { get }

    /// Churn probabilities in the order of `customers`.
    func predict(_ customers: [CustomerRecord]) throws -> [Double]

    /// Probabilities with reasons, in the order of `customers`; at most `top` contributions each.
    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation]
}

/// Sends `progress` notifications for the call being served.
public struct ProgressReporter: Sendable {
    private let send: @Sendable (String, Int, Int?, String, [String: Double]?) async -> Void

    public init(_ send: @escaping @Sendable (String, Int, Int?, String, [String: Double]?) async -> Void) {
        self.send = send
    }

    /// A reporter that drops everything (for training outside the daemon).
    public static let silent = ProgressReporter { _, _, _, _, _ in }

    /// Reports that `step` of `total` steps of `stage` are done.
    public func report(
        stage: String, step: Int, total: Int? = nil, message: String, metrics: [String: Double]? = nil
    ) async {
        await send(stage, step, total, message, metrics)
    }
}
