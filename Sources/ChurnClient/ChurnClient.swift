import ChurnProtocol
import ChurnRPC
import Foundation

/// Why a client call failed, phrased so a person knows what to do next.
public enum ChurnClientError: Error, Sendable, CustomStringConvertible {
    /// Nothing answers at the socket path.
    case noDaemon(path: String, reason: String)
    /// The daemon answered with an error.
    case daemon(RPCError)
    /// The connection failed or the answer was unreadable.
    case transport(String)

    public var description: String {
        switch self {
        case .noDaemon(let path, let reason):
            "no daemon at \(path) (\(reason)): start one with `churn serve`, or point --socket / CHURN_SOCKET at a running one"
        case .daemon(let error):
            error.message
        case .transport(let detail):
            detail
        }
    }

    /// The daemon's error, when it sent one.
    public var rpcError: RPCError? {
        if case .daemon(let error) = self { return error }
        return nil
    }
}

/// A typed client of `churnd`'s methods. Safe to share: concurrent calls are pipelined on
/// one connection.
public final class ChurnClient: Sendable {
    private let connection: RPCConnection

    /// The socket this client talks to.
    public var socketPath: String { connection.path }

    private init(connection: RPCConnection) {
        self.connection = connection
    }

    /// Connects to the daemon at `socketPath`.
    public static func connect(
        socketPath: String, maximumFramePayload: Int = FrameLimits.defaultMaximumPayload
    ) async throws(ChurnClientError) -> ChurnClient {
        do {
            return ChurnClient(
                connection: try await RPCConnection.connect(to: socketPath, maximumFramePayload: maximumFramePayload))
        } catch let RPCConnectionError.cannotConnect(path, reason) {
            throw .noDaemon(path: path, reason: reason)
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Closes the connection.
    public func close() async {
        await connection.close()
    }

    /// Calls any daemon method by its type.
    public func call<M: RPCMethod>(
        _ method: M.Type, _ params: M.Params, timeout: Duration? = nil,
        onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws(ChurnClientError) -> M.Result {
        do {
            return try await connection.call(method, params, timeout: timeout, onProgress: onProgress)
        } catch RPCConnectionError.remote(let error) {
            throw .daemon(error)
        } catch RPCConnectionError.closed {
            throw .transport("the daemon closed the connection before answering \(M.name): see its log")
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Liveness and state.
    public func health() async throws(ChurnClientError) -> HealthResult {
        try await call(DaemonMethod.Health.self, NoParams(), timeout: .seconds(10))
    }

    /// The plugins the daemon found.
    public func plugins() async throws(ChurnClientError) -> [PluginStatus] {
        try await call(DaemonMethod.PluginsList.self, NoParams(), timeout: .seconds(10)).plugins
    }

    /// Churn predictions from the champion, or from `model` when given.
    public func predict(_ customers: [CustomerRecord], model: String? = nil) async throws(ChurnClientError)
        -> [Prediction]
    {
        try await call(DaemonMethod.Predict.self, PredictParams(customers: customers, model: model)).predictions
    }

    /// Predictions with their reasons.
    public func explain(_ customers: [CustomerRecord], model: String? = nil, top: Int? = nil)
        async throws(ChurnClientError) -> [CustomerExplanation]
    {
        try await call(DaemonMethod.Explain.self, ExplainParams(customers: customers, model: model, top: top))
            .explanations
    }

    /// Stores customers' months in the daemon's history store (checked against the panel of
    /// `model`, default `churn`); a month sent again replaces the stored one.
    public func appendHistory(_ months: [[String: FieldValue]], model: String? = nil) async throws(ChurnClientError)
        -> HistoryAppendResult
    {
        try await call(HistoryMethod.Append.self, HistoryAppendParams(model: model, months: months))
    }

    /// A customer's stored months, oldest first.
    public func history(of customer: String, model: String? = nil) async throws(ChurnClientError) -> HistoryGetResult {
        try await call(HistoryMethod.Get.self, HistoryGetParams(model: model, customerID: customer))
    }

    /// Trains, evaluates and registers a version; `onProgress` sees every step.
    public func train(_ params: TrainParams, onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil)
        async throws(ChurnClientError) -> ModelVersionInfo
    {
        try await call(DaemonMethod.ModelsTrain.self, params, onProgress: onProgress)
    }

    /// Registered versions, newest first.
    public func models(name: String? = nil) async throws(ChurnClientError) -> [ModelVersionInfo] {
        try await call(DaemonMethod.ModelsList.self, ModelsListParams(name: name)).versions
    }

    /// One version in full.
    public func model(_ reference: String) async throws(ChurnClientError) -> ModelVersionInfo {
        try await call(DaemonMethod.ModelsGet.self, ModelRefParams(model: reference))
    }

    /// Points `alias` (default champion) at `model`.
    public func promote(_ model: String, alias: String? = nil, reason: String? = nil, createAlias: Bool = false)
        async throws(ChurnClientError) -> AliasChange
    {
        try await call(
            DaemonMethod.ModelsPromote.self,
            PromoteParams(model: model, alias: alias, reason: reason, createAlias: createAlias ? true : nil))
    }

    /// Moves `alias` (default champion) back to its previous version.
    public func rollback(name: String? = nil, alias: String? = nil, reason: String? = nil)
        async throws(ChurnClientError) -> AliasChange
    {
        try await call(DaemonMethod.ModelsRollback.self, RollbackParams(name: name, alias: alias, reason: reason))
    }

    /// Registers the version an export file holds.
    public func importModel(file: String, name: String? = nil) async throws(ChurnClientError) -> ModelVersionInfo {
        try await call(DaemonMethod.ModelsRegister.self, RegisterParams(file: file, name: name))
    }

    /// Writes a version to an export file (written by the daemon).
    public func export(_ model: String, to file: String) async throws(ChurnClientError) -> ExportResult {
        try await call(DaemonMethod.ModelsExport.self, ExportParams(model: model, file: file))
    }

    /// Deletes a version that no alias names.
    public func delete(_ model: String) async throws(ChurnClientError) -> ModelRef {
        try await call(DaemonMethod.ModelsDelete.self, ModelRefParams(model: model))
    }

    /// Checks the registry's integrity and every artifact.
    public func verify() async throws(ChurnClientError) -> VerifyResult {
        try await call(DaemonMethod.ModelsVerify.self, NoParams())
    }

    /// The audit log, newest first.
    public func audit(limit: Int? = nil) async throws(ChurnClientError) -> [AuditRecord] {
        try await call(DaemonMethod.ModelsAudit.self, AuditParams(limit: limit)).entries
    }

    /// Starts a champion/challenger experiment.
    public func startExperiment(challenger: String, mode: ExperimentMode, share: Double? = nil, note: String? = nil)
        async throws(ChurnClientError) -> ExperimentInfo
    {
        try await call(
            DaemonMethod.ExperimentsStart.self, ExperimentStartParams(challenger: challenger, mode: mode, share: share, note: note))
    }

    /// Stops the running experiment.
    public func stopExperiment(name: String? = nil) async throws(ChurnClientError) -> ExperimentInfo {
        try await call(DaemonMethod.ExperimentsStop.self, ExperimentModelParams(name: name))
    }

    /// The running experiment and the history.
    public func experiments(name: String? = nil) async throws(ChurnClientError) -> ExperimentsStatusResult {
        try await call(DaemonMethod.ExperimentsStatus.self, ExperimentModelParams(name: name))
    }

    /// The report of the running (or latest, or given) experiment.
    public func experimentReport(name: String? = nil, experiment: Int? = nil, topFraction: Double? = nil)
        async throws(ChurnClientError) -> ExperimentReport
    {
        try await call(
            DaemonMethod.ExperimentsReport.self, ExperimentReportParams(name: name, experiment: experiment, topFraction: topFraction))
    }

    /// Records who churned.
    public func feedback(_ outcomes: [Outcome]) async throws(ChurnClientError) -> FeedbackResult {
        try await call(DaemonMethod.Feedback.self, FeedbackParams(outcomes: outcomes))
    }

    /// Serving metrics in Prometheus text format.
    public func metrics() async throws(ChurnClientError) -> String {
        try await call(DaemonMethod.Metrics.self, NoParams()).prometheus
    }
}
