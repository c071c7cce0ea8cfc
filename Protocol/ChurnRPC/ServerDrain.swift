import NIOCore
import Synchronization

/// How an ``RPCServer`` drains on graceful shutdown, so that every request it has read is
/// answered before its connection closes.
///
/// While draining, connections that are already open stay open and keep being read: a new
/// request is answered at once with -32003 (shutting down), unless its method is one of
/// ``RPCServerConfiguration/methodsServedWhileDraining`` (`health` reports `draining`). Requests
/// in flight finish and are answered. A connection is closed, on its own event loop (so no frame
/// can slip in between the check and the close), only when nothing it sent is unanswered and it
/// has been quiet for ``quietPeriod``: a client that receives an answer and sends its next
/// request at once has that request read and refused, not cut off. A client that keeps sending
/// after its -32003 answers is closed once nothing of its is in flight after ``lingerLimit``.
/// When every connection is closed, ``RPCServer/run()`` returns.
final class ServerDrain: Sendable {
    /// One open connection, as the drain and its request handler both see it.
    final class Connection: Sendable {
        let channel: any Channel
        /// Requests read (frames received) and not yet answered.
        let inFlight = Atomic<Int>(0)
        /// When a frame was last read or an answer last written (uptime nanoseconds).
        let lastActivity = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
        /// Whether reading is paused for backpressure.
        let paused = Atomic<Bool>(false)

        init(channel: any Channel) {
            self.channel = channel
        }

        /// A frame was read: it is unanswered from now on.
        func requestRead() -> Int {
            lastActivity.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
            return inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        }

        /// A request was answered (its answer written, or none owed).
        func requestAnswered() -> Int {
            lastActivity.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
            return inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
        }
    }

    private struct State {
        var draining = false
        var drainStarted = NIODeadline.now()
        var nextToken = 0
        var connections: [Int: Connection] = [:]
        /// Draining has finished: every connection is closed.
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How long a connection with nothing in flight must be quiet before a drain closes it.
    let quietPeriod: TimeAmount
    /// After this long draining, a connection is closed as soon as nothing of its is in flight.
    let lingerLimit: TimeAmount
    private let state = Mutex(State())

    init(quietPeriod: TimeAmount = .milliseconds(250), lingerLimit: TimeAmount = .seconds(3)) {
        self.quietPeriod = quietPeriod
        self.lingerLimit = lingerLimit
    }

    /// Whether the server has begun to drain.
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Registers an open connection; returns it and its token, or nil when draining already
    /// finished (the caller closes it at once). A connection opened while draining is closed
    /// like the others once it is quiet.
    func open(_ channel: any Channel) -> (token: Int, connection: Connection)? {
        let opened = state.withLock { state -> (Int, Connection, Bool)? in
            guard !state.finished else { return nil }
            let token = state.nextToken
            state.nextToken += 1
            let connection = Connection(channel: channel)
            state.connections[token] = connection
            return (token, connection, state.draining)
        }
        guard let (token, connection, draining) = opened else { return nil }
        if draining { scheduleCheck(connection, after: quietPeriod) }
        return (token, connection)
    }

    /// Forgets a connection that closed; finishes the drain when it was the last.
    func close(_ token: Int) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connections.removeValue(forKey: token)
            return Self.finishIfEmpty(&state)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Starts draining: every connection is closed once it is answered and quiet.
    func beginDraining() {
        let (connections, waiters) = state.withLock { state -> ([Connection], [CheckedContinuation<Void, Never>]) in
            guard !state.draining else { return ([], []) }
            state.draining = true
            state.drainStarted = .now()
            return (Array(state.connections.values), Self.finishIfEmpty(&state))
        }
        for waiter in waiters { waiter.resume() }
        for connection in connections { scheduleCheck(connection, after: .zero) }
    }

    /// Closes every connection now, whatever is in flight (cancellation).
    func closeNow() {
        let (connections, waiters) = state.withLock { state -> ([Connection], [CheckedContinuation<Void, Never>]) in
            state.draining = true
            // With no connection open, nothing else would finish the drain.
            return (Array(state.connections.values), Self.finishIfEmpty(&state))
        }
        for waiter in waiters { waiter.resume() }
        for connection in connections { connection.channel.close(promise: nil) }
    }

    /// Returns once draining has finished: every connection is closed.
    func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                guard state.finished else {
                    state.waiters.append(continuation)
                    return false
                }
                return true
            }
            if done { continuation.resume() }
        }
    }

    /// Closes `connection` on its own loop when it is answered and quiet; else looks again.
    private func scheduleCheck(_ connection: Connection, after delay: TimeAmount) {
        connection.channel.eventLoop.scheduleTask(in: delay) { [self] in
            guard connection.channel.isActive else { return }
            let now = NIODeadline.now()
            let quietFor = now.uptimeNanoseconds &- connection.lastActivity.load(ordering: .relaxed)
            let drainedFor = now - state.withLock { $0.drainStarted }
            let answered = connection.inFlight.load(ordering: .acquiring) == 0
            if answered, Int64(quietFor) >= quietPeriod.nanoseconds || drainedFor >= lingerLimit {
                connection.channel.close(promise: nil)
            } else {
                let wait = answered ? max(quietPeriod - .nanoseconds(Int64(quietFor)), .milliseconds(5)) : .milliseconds(20)
                scheduleCheck(connection, after: wait)
            }
        }
    }

    private static func finishIfEmpty(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        guard state.draining, state.connections.isEmpty, !state.finished else { return [] }
        state.finished = true
        defer { state.waiters.removeAll() }
        return state.waiters
    }
}
