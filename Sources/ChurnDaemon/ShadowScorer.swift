import ServiceLifecycle
import Synchronization

/// Runs shadow scorings (a challenger scoring the customers the champion answered) off the hot
/// path, as child tasks of one task group: the service owns them, so a graceful shutdown waits
/// for every one already submitted, and ``settle(within:)`` can wait for them without polling.
final class ShadowScorer: Service, Sendable {
    typealias Scoring = @Sendable () async -> Void

    private struct State {
        var inFlight = 0
        var idleWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let jobs: AsyncStream<Scoring>
    private let submissions: AsyncStream<Scoring>.Continuation
    private let state = Mutex(State())

    init() {
        (jobs, submissions) = AsyncStream.makeStream(of: Scoring.self)
    }

    /// Queues one scoring; false when the scorer has shut down (the scoring is not run).
    @discardableResult
    func submit(_ scoring: @escaping Scoring) -> Bool {
        state.withLock { $0.inFlight += 1 }
        if case .enqueued = submissions.yield(scoring) { return true }
        finished()
        return false
    }

    /// Runs submitted scorings until graceful shutdown, then lets those already submitted finish.
    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await scoring in jobs {
                    group.addTask {
                        await scoring()
                        self.finished()
                    }
                }
            }
        } onGracefulShutdown: {
            self.submissions.finish()
        }
    }

    /// Waits until no scoring is in flight, or `limit` passed.
    func settle(within limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.idle() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once nothing is in flight (at once if nothing is), or when cancelled.
    private func idle() async {
        let id = state.withLock { state -> Int? in
            guard state.inFlight > 0 else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.inFlight > 0, !Task.isCancelled else { return true }
                    state.idleWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func finished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [] }
            defer { state.idleWaiters.removeAll() }
            return Array(state.idleWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
