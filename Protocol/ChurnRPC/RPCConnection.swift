import ChurnProtocol
import Foundation
import NIOCore
import NIOFoundationCompat
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
        let id = RPCID.number(nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        let frame = try JSONEncoder().encodeAsByteBuffer(
            RPCRequest(id: id, method: M.name, params: params), allocator: channel.allocator)
        guard frame.readableBytes <= maximumFramePayload else {
            throw RPCConnectionError.requestTooLarge(bytes: frame.readableBytes, maximum: maximumFramePayload)
        }
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<M.Result, any Error>) in
                let call = OutgoingCall(
                    id: id, method: M.name, frame: frame, timeout: timeout, onProgress: onProgress,
                    complete: { outcome in
                        switch outcome {
                        case .success(let container):
                            do {
                                continuation.resume(returning: try container.decode(M.Result.self, forKey: .result))
                            } catch let error as DecodingError {
                                let (field, reason) = error.fieldAndReason
                                continuation.resume(
                                    throwing: RPCConnectionError.invalidResponse(
                                        method: M.name, reason: "\(field): \(reason)"))
                            } catch {
                                continuation.resume(throwing: error)
                            }
                        case .failure(let error):
                            continuation.resume(throwing: error)
                        }
                    })
                channel.writeAndFlush(call).whenFailure { error in
                    channel.pipeline.fireUserInboundEventTriggered(CallFailed(id: id, error: error))
                }
            }
        } onCancel: {
            channel.pipeline.fireUserInboundEventTriggered(CallFailed(id: id, error: CancellationError()))
        }
    }

    /// Sends a notification (no response).
    public func notify<N: RPCNotificationMethod>(_ notification: N.Type, _ params: N.Params) async throws {
        let frame = try JSONEncoder().encodeAsByteBuffer(
            RPCNotification(method: N.name, params: params), allocator: channel.allocator)
        try await channel.writeAndFlush(frame)
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

/// The decoding result of one response, handed to the waiting call on the event loop.
typealias CallOutcome = Result<KeyedDecodingContainer<EnvelopeKey>, any Error>

struct OutgoingCall: Sendable {
    let id: RPCID
    let method: String
    let frame: ByteBuffer
    let timeout: Duration?
    let onProgress: (@Sendable (ProgressUpdate) -> Void)?
    let complete: @Sendable (CallOutcome) -> Void
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
        let timer: Scheduled<Void>?
    }

    private var pending: [RPCID: Pending] = [:]
    private let onNotification: (@Sendable (String, ByteBuffer) -> Void)?
    private let decoder = JSONDecoder()
    private let lookup = PendingLookup()

    init(onNotification: (@Sendable (String, ByteBuffer) -> Void)?) {
        self.onNotification = onNotification
        decoder.userInfo[IncomingResponse.lookupKey] = lookup
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
            method: call.method, complete: call.complete, onProgress: call.onProgress, timer: timer)
        context.write(wrapOutboundOut(call.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lookup.table = self
        defer { lookup.table = nil }
        do {
            let response = try decoder.decode(IncomingResponse.self, from: frame)
            switch response {
            case .handled:
                break
            case .notification(let method):
                if method == ProgressNotification.name, let progress = try? decoder.decode(
                    RPCNotificationEnvelope<ProgressUpdate>.self, from: frame).params
                {
                    pending[progress.request]?.onProgress?(progress)
                } else {
                    onNotification?(method, frame)
                }
            case .unmatched:
                break  // a response to a call that timed out or was cancelled
            }
        } catch {
            // Not JSON, or not a response: the peer is broken. Fail everything and close.
            failAll(RPCConnectionError.invalidResponse(method: "?", reason: "\(error)"))
            context.close(promise: nil)
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
        failAll(RPCConnectionError.invalidResponse(method: "?", reason: "\(error)"))
        context.close(promise: nil)
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

    fileprivate func complete(_ id: RPCID, with outcome: CallOutcome) -> Bool {
        guard let call = take(id) else { return false }
        call.complete(outcome)
        return true
    }
}

/// Gives the response decoder access to the handler's pending calls while it decodes
/// one frame on the event loop, so a response is parsed once, straight into its result type.
final class PendingLookup: @unchecked Sendable {
    // Only touched on the channel's event loop, inside `channelRead`.
    fileprivate var table: RPCClientHandler?
}

private struct RPCNotificationEnvelope<P: Decodable>: Decodable {
    var params: P
}

enum IncomingResponse: Decodable {
    case handled
    case unmatched
    case notification(method: String)

    static let lookupKey = CodingUserInfoKey(rawValue: "churn.pendingLookup")!

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKey.self)
        if !container.contains(.id), let method = try? container.decode(String.self, forKey: .method) {
            self = .notification(method: method)
            return
        }
        guard let handler = (decoder.userInfo[Self.lookupKey] as? PendingLookup)?.table else {
            self = .unmatched
            return
        }
        let id = try container.decodeIfPresent(RPCID.self, forKey: .id)
        if container.contains(.error) {
            let error = try container.decode(RPCError.self, forKey: .error)
            guard let id else {
                // An error with a null id: the peer could not read our request at all.
                self = .unmatched
                throw RPCConnectionError.remote(error)
            }
            self = handler.complete(id, with: .failure(RPCConnectionError.remote(error))) ? .handled : .unmatched
        } else if container.contains(.result), let id {
            self = handler.complete(id, with: .success(container)) ? .handled : .unmatched
        } else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "a response needs an id and a result or an error"))
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
