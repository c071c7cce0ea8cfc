import ChurnProtocol
import Synchronization

/// Dynamic batching, as Triton and TF Serving do it, for one loaded model: concurrent requests
/// go to the plugin together. A request that finds the model idle (and no `window` set) is sent
/// at once from its own task, with no hand-off; requests arriving while a batch is being scored
/// wait and go together when it returns, at most `maximumRows` customers per call. So batching
/// costs nothing at low load and saves a plugin round trip per request under load.
///
/// The wait is bounded: a request waits at most `window` (capped at 100 ms by the
/// configuration) plus the one plugin call ahead of it. Every batch's size and every request's
/// queue wait are recorded (``BatchObserver``) so the wait is shown, not guessed.
final class PredictBatcher<Customers: BatchedCustomers>: Sendable {
    typealias Send = @Sendable (Customers) async throws -> [Double]

    private struct Waiter {
        let customers: Customers
        let continuation: CheckedContinuation<[Double], any Error>
        let enqueued: ContinuousClock.Instant
    }

    private struct State {
        var queue: [Waiter] = []
        var busy = false
    }

    private let state = Mutex(State())
    private let send: Send
    private let window: Duration
    private let maximumRows: Int
    private let observer: BatchObserver?

    init(window: Duration, maximumRows: Int, observer: BatchObserver? = nil, send: @escaping Send) {
        self.window = window
        self.maximumRows = maximumRows
        self.observer = observer
        self.send = send
    }

    /// Probabilities for `customers`, scored alone or together with concurrent requests.
    func predict(_ customers: Customers) async throws -> [Double] {
        if window == .zero, claimIdle() {
            // Idle: this request is the batch. Send it from this task.
            observer?.batch(rows: customers.count, waits: [.zero])
            defer { handOffQueued() }
            return try await send(customers)
        }
        let enqueued = ContinuousClock.now
        return try await withCheckedThrowingContinuation { continuation in
            observer?.queued(1)
            let start = state.withLock { state -> Bool in
                state.queue.append(Waiter(customers: customers, continuation: continuation, enqueued: enqueued))
                guard !state.busy else { return false }
                state.busy = true
                return true
            }
            if start {
                Task { await self.drain(waitFirst: true) }
            }
        }
    }

    /// Marks the batcher busy if it was idle; false when a batch is already being scored.
    private func claimIdle() -> Bool {
        state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
    }

    /// After an inline send: requests that queued meanwhile go in a task of their own, else the
    /// batcher is idle again.
    private func handOffQueued() {
        let queued = state.withLock { state -> Bool in
            if state.queue.isEmpty { state.busy = false }
            return !state.queue.isEmpty
        }
        if queued { Task { await self.drain(waitFirst: false) } }
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
                var taken = 0
                var rows = 0
                while taken < state.queue.count, taken == 0 || rows + state.queue[taken].customers.count <= maximumRows {
                    rows += state.queue[taken].customers.count
                    taken += 1
                }
                defer { state.queue.removeFirst(taken) }
                return Array(state.queue.prefix(taken))
            }
            guard !batch.isEmpty else { return }
            let customers = batch.count == 1 ? batch[0].customers : Customers.joined(batch.map(\.customers))
            if let observer {
                let now = ContinuousClock.now
                observer.queued(-batch.count)
                observer.batch(rows: customers.count, waits: batch.map { now - $0.enqueued })
            }
            do {
                let probabilities = try await send(customers)
                guard probabilities.count == customers.count else {
                    throw RPCError(.internalError, "the plugin returned \(probabilities.count) probabilities for \(customers.count) customers")
                }
                var offset = 0
                for waiter in batch {
                    waiter.continuation.resume(returning: Array(probabilities[offset..<(offset + waiter.customers.count)]))
                    offset += waiter.customers.count
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}

/// Customers a ``PredictBatcher`` sends together: requests' customers joined into one call.
protocol BatchedCustomers: Sendable {
    /// Customers held.
    var count: Int { get }
    /// `parts`, one after another (at least one).
    static func joined(_ parts: [Self]) -> Self
}

extension Array: BatchedCustomers where Element == CustomerRecord {
    static func joined(_ parts: [[CustomerRecord]]) -> [CustomerRecord] { parts.flatMap { $0 } }
}

/// Receives each batch a ``PredictBatcher`` sends (its rows and each request's time in the
/// queue) and the changes of its queue's length.
protocol BatchObserver: Sendable {
    func batch(rows: Int, waits: [Duration])
    /// `change` requests joined (positive) or left (negative) the queue.
    func queued(_ change: Int)
}
