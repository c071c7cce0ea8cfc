#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnProtocol
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// How an ``RPCServer`` listens.
public struct RPCServerConfiguration: Sendable {
    /// The Unix socket path to bind.
    public var socketPath: String
    /// The largest frame payload accepted or sent.
    public var maximumFramePayload: Int
    /// Permission bits of the socket file (default 0660: owner and group only).
    public var socketMode: mode_t
    /// The socket file's group (nil: the server's own).
    public var socketGroup: gid_t?
    /// Methods still answered while the server drains (others get -32003): `health` says `draining`.
    public var methodsServedWhileDraining: Set<String>
    /// Connections the kernel queues before they are accepted (capped by `net.core.somaxconn`).
    public var backlog: Int32

    public init(
        socketPath: String, maximumFramePayload: Int = FrameLimits.defaultMaximumPayload, socketMode: mode_t = 0o660,
        socketGroup: gid_t? = nil, methodsServedWhileDraining: Set<String> = ["health", "describe"], backlog: Int32 = 4096
    ) {
        self.socketGroup = socketGroup
        self.socketPath = socketPath
        self.maximumFramePayload = maximumFramePayload
        self.socketMode = socketMode
        self.methodsServedWhileDraining = methodsServedWhileDraining
        self.backlog = backlog
    }
}

/// A JSON-RPC server on a Unix socket: one connection per client, requests on a connection
/// handled concurrently (pipelining) and answered with their ids, framing errors answered
/// and that connection closed, everyone else unaffected.
///
/// Each connection's frames are read by an ``RPCRequestHandler`` in its NIO pipeline, which
/// starts one task per request; the task answers by writing to the channel. With NIO's event
/// loops as the concurrency executor, that task runs on the connection's own event loop thread
/// (what it awaits, such as a plugin's connection, may live on another loop).
///
/// On graceful shutdown (swift-service-lifecycle) it stops accepting, lets in-flight requests
/// finish and answer while refusing new ones on open connections with -32003 (see
/// ``ServerDrain``), then closes every connection and removes its socket file.
public final class RPCServer: Sendable {
    public let configuration: RPCServerConfiguration
    private let listener: any Channel
    private let drain: ServerDrain
    /// The method table's ``RPCMethodTable/whenDrained``.
    private let whenDrained: (@Sendable () async -> Void)?

    private init(
        configuration: RPCServerConfiguration, listener: any Channel, drain: ServerDrain,
        whenDrained: (@Sendable () async -> Void)?
    ) {
        self.configuration = configuration
        self.listener = listener
        self.drain = drain
        self.whenDrained = whenDrained
    }

    /// Binds the socket (refusing a path a live process serves, removing a stale one) and
    /// returns a server ready to ``run()``.
    public static func bind(
        configuration: RPCServerConfiguration,
        methods: RPCMethodTable,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RPCServer {
        let path = configuration.socketPath
        if try UnixSocketFile.prepareForBinding(path) {
            logger.notice("removed a stale socket file left by a dead process", metadata: ["socket": "\(path)"])
        }
        let drain = ServerDrain()
        let connection = RPCRequestHandler.Shared(
            methods: methods, drain: drain, logger: logger, maximumPayload: configuration.maximumFramePayload,
            servedWhileDraining: configuration.methodsServedWhileDraining)
        // The socket appears with no more than its mode allows (the mask never loosens what the
        // process already masks: other threads create files meanwhile); chmod below widens it.
        let previousMask = umask(0o077)
        umask(previousMask | (~configuration.socketMode & 0o777))
        defer { umask(previousMask) }
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            // Accept many connections per wake-up, so a burst of connects drains the queue fast.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addChurnFraming(maximumPayload: connection.maximumPayload)
                    try channel.pipeline.syncOperations.addHandler(RPCRequestHandler(shared: connection))
                }
            }
            .bind(unixDomainSocketPath: path).get()
        // The mode was already right when the socket appeared (umask above); the group follows
        // before anyone of it could connect anyway, since the mode excluded others meanwhile.
        if let group = configuration.socketGroup, chown(path, uid_t.max, group) != 0 {
            let reason = String(cString: strerror(errno))
            try? await listener.close()
            throw UnixSocketPathError.fileSystem(path: path, reason: "cannot give the socket to group \(group): \(reason)")
        }
        chmod(path, configuration.socketMode)
        return RPCServer(configuration: configuration, listener: listener, drain: drain, whenDrained: methods.whenDrained)
    }

    /// Serves until graceful shutdown or cancellation, then drains, runs the method table's
    /// ``RPCMethodTable/whenDrained`` and removes the socket file.
    public func run() async throws {
        defer { UnixSocketFile.remove(configuration.socketPath) }
        let listener = self.listener
        let drain = self.drain
        // On graceful shutdown the listening socket closes; connections it had already accepted
        // are still read, their new requests refused with -32003 until the last in-flight request
        // is answered, then closed (``ServerDrain``). Cancellation closes everything at once.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await listener.closeFuture.get()
                await drain.waitUntilClosed()
            } onGracefulShutdown: {
                listener.close(promise: nil)
                drain.beginDraining()
            }
        } onCancel: {
            listener.close(promise: nil)
            drain.closeNow()
        }
        await whenDrained?()
    }
}

extension RPCServer: Service {}

/// Reads one connection's requests (frames) and answers each from a task of its own.
///
/// A client may pipeline: up to ``Shared/maximumInFlight`` requests run at once per
/// connection, then the connection is not read until some are answered (backpressure).
final class RPCRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What every connection of one server shares.
    struct Shared: Sendable {
        let methods: RPCMethodTable
        let drain: ServerDrain
        let logger: Logger
        let maximumPayload: Int
        let servedWhileDraining: Set<String>
        /// Requests one connection may have in flight before it is no longer read.
        var maximumInFlight = 256
    }

    private let shared: Shared
    /// This connection as the drain sees it, shared with its request tasks.
    private var connection: ServerDrain.Connection?
    private var dispatch: RPCDispatch?
    private var token: Int?
    /// Frames read before the peer's credentials were known.
    private var waiting: [ByteBuffer] = []

    init(shared: Shared) {
        self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard let (token, connection) = shared.drain.open(channel) else {
            context.close(promise: nil)
            return
        }
        self.token = token
        self.connection = connection
        let shared = self.shared
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        // On the event loop the socket option is read at once; the frames of a peer whose
        // credentials are not known yet wait for them.
        PeerCredentials.future(of: channel).whenComplete { result in
            let peer = try? result.get()
            var logger = shared.logger
            if let peer { logger[metadataKey: "peer"] = "\(peer)" }
            let handler = loopBound.value
            handler.dispatch = RPCDispatch(
                peer: peer, logger: logger, maximumResponse: shared.maximumPayload,
                refuses: { method in shared.drain.isDraining && !shared.servedWhileDraining.contains(method) },
                sendNotification: { frame in try? await channel.writeAndFlush(frame) },
                isConnected: { channel.isActive })
            let frames = handler.waiting
            handler.waiting = []
            for frame in frames { handler.handle(frame) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let token { shared.drain.close(token) }
        token = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let connection else { return }
        // From the moment it is read, a request is owed an answer: a drain keeps the
        // connection open until it is written.
        let running = connection.requestRead()
        if running >= shared.maximumInFlight, !connection.paused.exchange(true, ordering: .relaxed) {
            connection.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        if dispatch == nil {
            waiting.append(frame)
        } else {
            handle(frame)
        }
    }

    private func handle(_ frame: ByteBuffer) {
        guard let connection, let dispatch else { return }
        let shared = self.shared
        Task {
            let response = await shared.methods.respond(to: frame, dispatch: dispatch)
            let finished: @Sendable () -> Void = {
                let left = connection.requestAnswered()
                if left <= shared.maximumInFlight / 2, connection.paused.exchange(false, ordering: .relaxed) {
                    connection.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                }
            }
            guard let response else { return finished() }
            // The request counts as in flight until its answer is written: a drain closes the
            // connection only after that.
            connection.channel.writeAndFlush(response).whenComplete { _ in finished() }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? FrameError {
            shared.logger.info("closing connection: \(error)")
            let answer = RPCMethodTable.errorFrame(id: nil, .invalidRequest(error.description))
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            shared.logger.debug("connection closed with error: \(error)")
            context.close(promise: nil)
        }
    }
}
