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

/// How an ``RPCServer`` listens.
public struct RPCServerConfiguration: Sendable {
    /// The Unix socket path to bind.
    public var socketPath: String
    /// The largest frame payload accepted or sent.
    public var maximumFramePayload: Int
    /// Permission bits of the socket file (default 0660: owner and group only).
    public var socketMode: mode_t
    /// Methods still answered while the server drains (others get -32003): `health` says `draining`.
    public var methodsServedWhileDraining: Set<String>
    /// Connections the kernel queues before they are accepted (capped by `net.core.somaxconn`).
    public var backlog: Int32

    public init(
        socketPath: String, maximumFramePayload: Int = FrameLimits.defaultMaximumPayload, socketMode: mode_t = 0o660,
        methodsServedWhileDraining: Set<String> = ["health", "describe"], backlog: Int32 = 4096
    ) {
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
/// On graceful shutdown (swift-service-lifecycle) it stops accepting, lets in-flight requests
/// finish and answer while refusing new ones on open connections with -32003 (see
/// ``ServerDrain``), then closes every connection and removes its socket file.
public final class RPCServer: Sendable {
    public let configuration: RPCServerConfiguration
    private let methods: RPCMethodTable
    private let logger: Logger
    private let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let drain = ServerDrain()

    private init(
        configuration: RPCServerConfiguration, methods: RPCMethodTable, logger: Logger,
        listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    ) {
        self.configuration = configuration
        self.methods = methods
        self.logger = logger
        self.listener = listener
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
        let maximum = configuration.maximumFramePayload
        let previousMask = umask(~configuration.socketMode & 0o777)
        defer { umask(previousMask) }
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            // Accept many connections per wake-up, so a burst of connects drains the queue fast.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .bind(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addChurnFraming(maximumPayload: maximum)
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        chmod(path, configuration.socketMode)
        return RPCServer(configuration: configuration, methods: methods, logger: logger, listener: listener)
    }

    /// Serves until graceful shutdown or cancellation, then drains and removes the socket file.
    public func run() async throws {
        defer { UnixSocketFile.remove(configuration.socketPath) }
        let listener = self.listener
        // On graceful shutdown the listening socket closes; connections it had already accepted
        // are still read, their new requests refused with -32003 until the last in-flight request
        // is answered, then closed (``ServerDrain``).
        let drain = self.drain
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                do {
                    try await listener.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                } catch ChannelError.alreadyClosed {
                    // Closed by the shutdown handler.
                }
            }
        } onGracefulShutdown: {
            listener.channel.close(promise: nil)
            drain.beginDraining()
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = await PeerCredentials.of(connection.channel)
        var connectionLogger = self.logger
        if let peer { connectionLogger[metadataKey: "peer"] = "\(peer)" }
        let logger = connectionLogger
        let maximum = configuration.maximumFramePayload
        let methods = self.methods
        let drain = self.drain
        let served = configuration.methodsServedWhileDraining
        guard let token = drain.open(connection.channel) else {
            try? await connection.channel.close()
            return
        }
        defer { drain.close(token) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let send: @Sendable (ByteBuffer) async -> Void = { frame in
                    try? await outbound.write(frame)
                }
                let dispatch = RPCDispatch(
                    peer: peer, logger: logger, maximumResponse: maximum,
                    refuses: { method in drain.isDraining && !served.contains(method) }, sendNotification: send)
                await withDiscardingTaskGroup { group in
                    do {
                        for try await frame in inbound {
                            drain.beginRequest()
                            group.addTask {
                                defer { drain.end() }
                                if let response = await methods.respond(to: frame, dispatch: dispatch) {
                                    await send(response)
                                }
                            }
                        }
                    } catch let error as FrameError {
                        logger.info("closing connection: \(error)")
                        await send(RPCMethodTable.errorFrame(id: nil, .invalidRequest(error.description)))
                    } catch {
                        logger.debug("connection ended: \(error)")
                    }
                }
            }
        } catch {
            logger.debug("connection closed with error: \(error)")
        }
    }
}

extension RPCServer: Service {}
