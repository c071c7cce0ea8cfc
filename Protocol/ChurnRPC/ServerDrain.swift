import NIOCore
import Synchronization

/// How an ``RPCServer`` drains on graceful shutdown.
///
/// While draining, connections that are already open stay open and keep being read: a new
/// request is answered at once with -32003 (shutting down), unless its method is one of
/// ``RPCServerConfiguration/methodsServedWhileDraining`` (`health` reports `draining`). Requests
/// that were in flight finish and are answered. When the last one has been answered, every
/// connection is closed and ``RPCServer/run()`` returns.
final class ServerDrain: Sendable {
    private struct State {
        var draining = false
        var inFlight = 0
        var nextConnection = 0
        var connections: [Int: any Channel] = [:]
        var closed = false
        /// The connections closed when draining finished, for ``waitUntilClosed()``.
        var closing: [any Channel] = []
        var closeWaiters: [CheckedContinuation<[any Channel], Never>] = []
    }

    private let state = Mutex(State())

    /// Whether the server has begun to drain.
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Registers an open connection; returns its token, or nil when draining already finished
    /// (the caller closes it at once).
    func open(_ channel: any Channel) -> Int? {
        state.withLock { state in
            guard !state.closed else { return nil }
            let token = state.nextConnection
            state.nextConnection += 1
            state.connections[token] = channel
            return token
        }
    }

    /// Forgets a connection that closed.
    func close(_ token: Int) {
        _ = state.withLock { $0.connections.removeValue(forKey: token) }
    }

    /// Counts a received frame as in flight until ``end()``; a request refused while draining
    /// is counted too, briefly, so its -32003 answer leaves before connections close.
    func beginRequest() {
        state.withLock { $0.inFlight += 1 }
    }

    /// A request has been answered.
    func end() {
        let toClose = state.withLock { state -> [any Channel] in
            state.inFlight -= 1
            return Self.closeIfIdle(&state)
        }
        for channel in toClose { channel.close(promise: nil) }
    }

    /// Starts draining; closes every connection at once when nothing is in flight.
    func beginDraining() {
        let toClose = state.withLock { state -> [any Channel] in
            state.draining = true
            return Self.closeIfIdle(&state)
        }
        for channel in toClose { channel.close(promise: nil) }
    }

    /// Closes every connection now, whatever is in flight (cancellation).
    func closeNow() {
        let toClose = state.withLock { state -> [any Channel] in
            state.draining = true
            state.inFlight = 0
            return Self.closeIfIdle(&state)
        }
        for channel in toClose { channel.close(promise: nil) }
    }

    /// Returns once draining has finished and every connection it closed is closed.
    func waitUntilClosed() async {
        let channels = await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [any Channel]? in
                guard state.closed else {
                    state.closeWaiters.append(continuation)
                    return nil
                }
                return state.closing
            }
            if let ready { continuation.resume(returning: ready) }
        }
        for channel in channels { try? await channel.closeFuture.get() }
    }

    private static func closeIfIdle(_ state: inout State) -> [any Channel] {
        guard state.draining, state.inFlight == 0, !state.closed else { return [] }
        state.closed = true
        let channels = Array(state.connections.values)
        state.connections.removeAll()
        state.closing = channels
        for waiter in state.closeWaiters { waiter.resume(returning: channels) }
        state.closeWaiters.removeAll()
        return channels
    }
}
