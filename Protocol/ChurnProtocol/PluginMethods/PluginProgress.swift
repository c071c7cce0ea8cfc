import Foundation

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
