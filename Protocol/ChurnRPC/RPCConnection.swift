import ChurnProtocol
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Why a call over an ``RPCConnection`` did not return a result.
public enum RPCConnectionError: Error, Sendable, CustomStringConvertible {
    /// Nothing listens at the path (or the file is missing).
    case cannotConnect(path: String, reason: String)
    /// The connection closed before the response arrived.
    case closed
    /// No response within the deadline.
    case timedOut(method: String, after: Duration)
    /// The peer answered with a JSON-RPC error.
    case remote(RPCError)
    /// The peer sent something that is not a valid response to this call.
    case invalidResponse(method: String, reason: String)
    /// The request is larger than the frame limit.
    case requestTooLarge(bytes: Int, maximum: Int)

    public var description: String {
        switch self {
        case .cannotConnect(let path, let reason): "cannot connect to \(path): \(reason)"
        case .closed: "the connection closed before the response arrived"
        case .timedOut(let method, let after): "\(method) got no response within \(after)"
        case .remote(let error): error.message
        case .invalidResponse(let method, let reason): "invalid response to \(method): \(reason)"
        case .requestTooLarge(let bytes, let maximum):
            "the request of \(bytes) bytes exceeds the frame limit of \(maximum) bytes: send fewer customers per call"
        }
    }
}

/// A client connection to a churn JSON-RPC server on a Unix socket.
///
/// Calls may be made concurrently from many tasks: they are pipelined on the one connection
/// and matched to their responses by id. `progress` notifications for a call are delivered
/// to that call's `onProgress`.
public final class RPCConnection: Sendable {
    private let channel: any Channel
    private let nextID = Atomic<Int64>(1)
    private let maximumFramePayload: Int
    /// The socket path this connection was opened to.
    public let path: String

    private init(channel: any Channel, path: String, maximumFramePayload: Int) {
        self.channel = channel
        self.path = path
        self.maximumFramePayload = maximumFramePayload
    }

    /// Opens a connection to the server at `path`.
    public static func connect(
        to path: String,
        maximumFramePayload: Int = FrameLimits.defaultMaximumPayload,
        onNotification: (@Sendable (String, ByteBuffer) -> Void)? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RPCConnection {
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addChurnFraming(maximumPayload: maximumFramePayload)
                        try channel.pipeline.syncOperations.addHandler(
                            RPCClientHandler(onNotification: onNotification))
                    }
                }
                .connect(unixDomainSocketPath: path).get()
            return RPCConnection(channel: channel, path: path, maximumFramePayload: maximumFramePayload)
        } catch let error as IOError {
            throw RPCConnectionError.cannotConnect(path: path, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw RPCConnectionError.cannotConnect(path: path, reason: "\(error)")
        }
    }

    /// Calls `method` and waits for its result.
    ///
    /// - Throws: ``RPCConnectionError``; a JSON-RPC error from the peer arrives as `.remote`.
    public func call<M: RPCMethod>(
        _ method: M.Type,
        _ params: M.Params,
        timeout: Duration? = nil,
        onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws -> M.Result {
        let id = RPCID.number(.init(nextID.wrappingAdd(1, ordering: .relaxed).oldValue))
        let frame = try RPCFrames.request(id: id, method: M.name, params: params)
        guard frame.readableBytes <= maximumFramePayload else {
            throw RPCConnectionError.requestTooLarge(bytes: frame.readableBytes, maximum: maximumFramePayload)
        }
        let channel = self.channel
        let completion = CallCompletion()
        let readResult: (@Sendable (inout JSONReader) -> (any Sendable)?)?
        if let direct = M.Result.self as? any JSONDirectReading.Type {
            readResult = { reader in direct.read(from: &reader) }
        } else {
            readResult = nil
        }
        let result = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CallResult, any Error>) in
                completion.set(continuation)
                let call = OutgoingCall(
                    id: id, method: M.name, frame: frame, timeout: timeout, onProgress: onProgress, readResult: readResult,
                    complete: { completion.resume(with: $0) })
                channel.writeAndFlush(call).whenFailure { error in
                    // On a closed channel the handler is gone and never sees the call: answer it here.
                    let closed = error as? ChannelError == .ioOnClosedChannel || error as? ChannelError == .alreadyClosed
                    completion.resume(with: .failure(closed ? RPCConnectionError.closed : error))
                    channel.pipeline.fireUserInboundEventTriggered(CallFailed(id: id, error: error))
                }
            }
        } onCancel: {
            completion.resume(with: .failure(CancellationError()))
            channel.pipeline.fireUserInboundEventTriggered(CallFailed(id: id, error: CancellationError()))
        }
        do {
            switch result {
            case .read(let value): return value as! M.Result
            case .tree(let tree): return try JSONValueDecoder.decode(M.Result.self, from: tree)
            }
        } catch let error as DecodingError {
            let (field, reason) = error.fieldAndReason
            throw RPCConnectionError.invalidResponse(method: M.name, reason: "\(field): \(reason)")
        }
    }

    /// Sends a notification (no response).
    public func notify<N: RPCNotificationMethod>(_ notification: N.Type, _ params: N.Params) async throws {
        try await channel.writeAndFlush(try RPCFrames.notification(method: N.name, params: params))
    }

    /// True until the connection closes.
    public var isActive: Bool { channel.isActive }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Closes the connection; calls still waiting fail with ``RPCConnectionError/closed``.
    public func close() async {
        try? await channel.close()
    }
}

// MARK: - Pipeline handler

/// The `result` of one response (or why there is none), handed to the waiting call.
typealias CallOutcome = Result<CallResult, any Error>

/// A response's `result`: read straight from the frame into the call's result type (which
/// reads itself, ``JSONDirectReading``), or as a tree to decode.
enum CallResult: Sendable {
    case read(any Sendable)
    case tree(JSONValue)
}

struct OutgoingCall: Sendable {
    let id: RPCID
    let method: String
    let frame: ByteBuffer
    let timeout: Duration?
    let onProgress: (@Sendable (ProgressUpdate) -> Void)?
    /// Reads the result straight from the response's bytes, when its type can.
    let readResult: (@Sendable (inout JSONReader) -> (any Sendable)?)?
    let complete: @Sendable (CallOutcome) -> Void
}

/// Resumes a call's continuation exactly once, whoever answers first: the response, the
/// timeout, a failed write or cancellation. Cancellation may come before the continuation exists.
final class CallCompletion: Sendable {
    private enum State {
        case waiting
        case suspended(CheckedContinuation<CallResult, any Error>)
        case finishedEarly(CallOutcome)
        case done
    }
    private let state = Mutex(State.waiting)

    func set(_ continuation: CheckedContinuation<CallResult, any Error>) {
        let early = state.withLock { state -> CallOutcome? in
            if case .finishedEarly(let outcome) = state {
                state = .done
                return outcome
            }
            state = .suspended(continuation)
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with outcome: CallOutcome) {
        let continuation = state.withLock { state -> CheckedContinuation<CallResult, any Error>? in
            switch state {
            case .waiting:
                state = .finishedEarly(outcome)
                return nil
            case .suspended(let continuation):
                state = .done
                return continuation
            case .finishedEarly, .done:
                return nil
            }
        }
        continuation?.resume(with: outcome)
    }
}

struct CallFailed: Sendable {
    let id: RPCID
    let error: any Error
}

/// Matches responses to pending calls by id. All state lives on the channel's event loop.
final class RPCClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutgoingCall
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let method: String
        let complete: @Sendable (CallOutcome) -> Void
        let onProgress: (@Sendable (ProgressUpdate) -> Void)?
        let readResult: (@Sendable (inout JSONReader) -> (any Sendable)?)?
        let timer: Scheduled<Void>?
    }

    private var pending: [RPCID: Pending] = [:]
    private let onNotification: (@Sendable (String, ByteBuffer) -> Void)?

    init(onNotification: (@Sendable (String, ByteBuffer) -> Void)?) {
        self.onNotification = onNotification
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        var timer: Scheduled<Void>?
        if let timeout = call.timeout {
            let id = call.id
            let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
                loopBoundContext.value.pipeline.fireUserInboundEventTriggered(
                    CallFailed(id: id, error: RPCConnectionError.timedOut(method: call.method, after: timeout)))
            }
        }
        pending[call.id] = Pending(
            method: call.method, complete: call.complete, onProgress: call.onProgress, readResult: call.readResult, timer: timer)
        context.write(wrapOutboundOut(call.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let (id, result) = directResult(frame) {
            if let call = take(id) { call.complete(.success(.read(result))) }
            return
        }
        guard let (message, numericIDText) = try? frame.parseMessage(), case .object(let envelope) = message else {
            // Not JSON, or not an object: the peer is broken. Fail everything and close.
            failAll(RPCConnectionError.invalidResponse(method: "?", reason: "the peer sent a frame that is not a JSON object"))
            context.close(promise: nil)
            return
        }
        guard let rawID = envelope["id"] else {
            if case .string(let method) = envelope["method"] {
                if method == ProgressNotification.name, let params = envelope["params"],
                    let progress = try? JSONValueDecoder.decode(ProgressUpdate.self, from: params)
                {
                    pending[progress.request]?.onProgress?(progress)
                } else {
                    onNotification?(method, frame)
                }
            }
            return
        }
        var id = RPCID(member: rawID, numericText: numericIDText)
        // This side numbers its calls with integers: a peer whose JSON library echoes 7 as 7.0
        // (or 7e0) still answers call 7.
        if case .number(let value) = rawID, value.rounded() == value, abs(value) < 9e15 {
            id = .number(RPCID.Number(Int64(value)))
        }
        if let errorValue = envelope["error"] {
            let error =
                (try? JSONValueDecoder.decode(RPCError.self, from: errorValue))
                ?? RPCError.internalError("malformed error object: \(errorValue.brief)")
            guard let id else {
                // An error with a null id: the peer could not read our request at all.
                failAll(RPCConnectionError.remote(error))
                context.close(promise: nil)
                return
            }
            if let call = take(id) { call.complete(.failure(RPCConnectionError.remote(error))) }
        } else if let result = envelope["result"], let id {
            if let call = take(id) { call.complete(.success(.tree(result))) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let failed = event as? CallFailed {
            if let call = take(failed.id) { call.complete(.failure(failed.error)) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RPCConnectionError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is IOError {
            failAll(RPCConnectionError.closed)  // reset or broken pipe: the peer went away
        } else {
            failAll(RPCConnectionError.invalidResponse(method: "?", reason: "\(error)"))
        }
        context.close(promise: nil)
    }

    /// A plain success response to a pending call whose result type reads itself,
    /// `{"jsonrpc":"2.0","id":N,"result":...}` in that order and nothing else, read in one pass
    /// with no tree; nil for anything else, which the ordinary path then reads.
    private func directResult(_ frame: ByteBuffer) -> (RPCID, any Sendable)? {
        let read = frame.readableBytesView.withContiguousStorageIfAvailable { bytes -> (RPCID, any Sendable)? in
            var reader = JSONReader(UnsafeRawBufferPointer(bytes))
            guard reader.take(UInt8(ascii: "{")), reader.memberName() == "jsonrpc", reader.string() == "2.0",
                reader.take(UInt8(ascii: ",")), reader.memberName() == "id", case .number(let number)? = reader.requestID(),
                let integer = Int64(number.text), reader.take(UInt8(ascii: ",")), reader.memberName() == "result"
            else { return nil }
            let id = RPCID.number(RPCID.Number(integer))
            guard let readResult = pending[id]?.readResult, let result = readResult(&reader), reader.take(UInt8(ascii: "}")),
                reader.isAtEnd()
            else { return nil }
            return (id, result)
        }
        return read ?? nil
    }

    private func take(_ id: RPCID) -> Pending? {
        guard let call = pending.removeValue(forKey: id) else { return nil }
        call.timer?.cancel()
        return call
    }

    private func failAll(_ error: any Error) {
        let calls = pending
        pending.removeAll()
        for call in calls.values {
            call.timer?.cancel()
            call.complete(.failure(error))
        }
    }

}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
