import ChurnProtocol
import Synchronization

/// Dynamic batching, as Triton and TF Serving do it, for one loaded model: concurrent requests
/// go to the plugin together. A request that finds the model idle is sent at once (after
/// `window`, when one is set, to let others join); requests arriving while a batch is being
/// scored wait and go together when it returns, at most `maximumRows` customers per call.
/// So batching costs nothing at low load and saves a plugin round trip per request under load.
final class PredictBatcher: Sendable {
    typealias Send = @Sendable ([CustomerRecord]) async throws -> [Double]

    private struct Waiter {
        let records: [CustomerRecord]
        let continuation: CheckedContinuation<[Double], any Error>
    }

    private struct State {
        var queue: [Waiter] = []
        var queuedRows = 0
        var busy = false
    }

    private let state = Mutex(State())
    private let send: Send
    private let window: Duration
    private let maximumRows: Int

    init(window: Duration, maximumRows: Int, send: @escaping Send) {
        self.window = window
        self.maximumRows = maximumRows
        self.send = send
    }

    /// Probabilities for `records`, scored alone or together with concurrent requests.
    func predict(_ records: [CustomerRecord]) async throws -> [Double] {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.queue.append(Waiter(records: records, continuation: continuation))
                state.queuedRows += records.count
                guard !state.busy else { return false }
                state.busy = true
                return true
            }
            if start {
                Task { await self.drain(waitFirst: true) }
            }
        }
    }

    /// Sends queued requests until the queue is empty, then marks the batcher idle.
    private func drain(waitFirst: Bool) async {
        if waitFirst, window > .zero { try? await Task.sleep(for: window) }
        while true {
            let batch = state.withLock { state -> [Waiter] in
                guard !state.queue.isEmpty else {
                    state.busy = false
                    return []
                }
                var taken: [Waiter] = []
                var rows = 0
                while let next = state.queue.first, taken.isEmpty || rows + next.records.count <= maximumRows {
                    taken.append(state.queue.removeFirst())
                    rows += next.records.count
                }
                state.queuedRows -= rows
                return taken
            }
            guard !batch.isEmpty else { return }
            let records = batch.count == 1 ? batch[0].records : batch.flatMap(\.records)
            do {
                let probabilities = try await send(records)
                guard probabilities.count == records.count else {
                    throw RPCError(.internalError, "the plugin returned \(probabilities.count) probabilities for \(records.count) customers")
                }
                var offset = 0
                for waiter in batch {
                    waiter.continuation.resume(returning: Array(probabilities[offset..<(offset + waiter.records.count)]))
                    offset += waiter.records.count
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
