import ChurnClient
import ChurnProtocol

/// The web app's connection to `churnd`: opened on first use, reopened after the daemon
/// restarts, shared by every request (calls are pipelined on it).
actor DaemonLink {
    let socketPath: String
    private var client: ChurnClient?

    init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Runs `body` with a connected client; a dropped connection is reopened once and retried.
    func with<T: Sendable>(_ body: @Sendable (ChurnClient) async throws(ChurnClientError) -> T) async throws(ChurnClientError) -> T {
        let client = try await connected()
        do {
            return try await body(client)
        } catch .transport {
            // The daemon went away (a restart): reconnect and try once more.
            if self.client === client { self.client = nil }
            await client.close()
            return try await body(try await connected())
        }
    }

    private func connected() async throws(ChurnClientError) -> ChurnClient {
        if let client { return client }
        let fresh = try await ChurnClient.connect(socketPath: socketPath)
        client = fresh
        return fresh
    }

    /// Rows per predict call when scoring many customers.
    static let batchRows = 500

    /// Churn probabilities for `records` from `model`, asked in batches of ``batchRows``.
    func probabilities(_ records: [CustomerRecord], model: String) async throws(ChurnClientError) -> (probabilities: [Double], model: ModelRef?) {
        var probabilities: [Double] = []
        probabilities.reserveCapacity(records.count)
        var answeredBy: ModelRef?
        var start = 0
        while start < records.count {
            let chunk = Array(records[start..<min(start + Self.batchRows, records.count)])
            let predictions = try await with { client throws(ChurnClientError) in try await client.predict(chunk, model: model) }
            probabilities += predictions.map(\.churnProbability)
            answeredBy = answeredBy ?? predictions.first?.model
            start += chunk.count
        }
        return (probabilities, answeredBy)
    }
}
