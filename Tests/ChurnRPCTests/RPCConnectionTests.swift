import ChurnProtocol
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import ChurnRPC

/// A peer that goes away must fail calls, never leave them waiting: the daemon's predict path
/// depends on it when a plugin dies.
@Suite("RPC connection when the peer goes away", .timeLimit(.minutes(1)))
struct RPCConnectionTests {
    /// Accepts connections and closes each one when its first frame arrives (or at once).
    private final class ClosingPeer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closeOnAccept: Bool
        init(closeOnAccept: Bool) { self.closeOnAccept = closeOnAccept }
        func channelActive(context: ChannelHandlerContext) {
            if closeOnAccept { context.close(promise: nil) }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.close(promise: nil)
        }
    }

    private func withPeer(closeOnAccept: Bool, _ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClosingPeer(closeOnAccept: closeOnAccept))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        do {
            try await body(path)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    private func expectClosed(_ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("a call to a peer that went away cannot succeed")
        } catch let error as RPCConnectionError {
            guard case .closed = error else {
                Issue.record("expected .closed, got \(error)")
                return
            }
        } catch {
            Issue.record("expected RPCConnectionError.closed, got \(error)")
        }
    }

    @Test func aCallPendingWhenThePeerClosesFailsAsClosed() async throws {
        try await withPeer(closeOnAccept: false) { path in
            let connection = try await RPCConnection.connect(to: path)
            await expectClosed { _ = try await connection.call(DaemonMethod.Health.self, NoParams()) }
        }
    }

    @Test func aCallOnAConnectionThatAlreadyClosedFailsAtOnce() async throws {
        try await withPeer(closeOnAccept: true) { path in
            let connection = try await RPCConnection.connect(to: path)
            try await connection.closeFuture.get()
            #expect(!connection.isActive)
            // Before the fix this waited forever: the closed pipeline never saw the call.
            for _ in 0..<3 {
                await expectClosed { _ = try await connection.call(DaemonMethod.Health.self, NoParams()) }
            }
        }
    }

    @Test func aCancelledCallStopsWaiting() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-\(UUID().uuidString.prefix(8)).sock").path
        // A peer that accepts, says when the request arrived, and never answers.
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ArrivalSignal(arrived)) }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        let connection = try await RPCConnection.connect(to: path)
        let call = Task { try await connection.call(DaemonMethod.Health.self, NoParams()) }
        var iterator = arrivals.makeAsyncIterator()
        _ = await iterator.next()  // the call is in flight: its request reached the peer
        call.cancel()
        await #expect(throws: CancellationError.self) { _ = try await call.value }
        await connection.close()
        try await server.close()
    }
}

/// Yields once per read: tells a test its request reached the peer.
private final class ArrivalSignal: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let arrived: AsyncStream<Void>.Continuation

    init(_ arrived: AsyncStream<Void>.Continuation) {
        self.arrived = arrived
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrived.yield()
    }
}
