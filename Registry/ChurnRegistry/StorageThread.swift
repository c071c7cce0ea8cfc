import NIOCore
import NIOPosix

/// Where registry work runs, so that it never stalls the event loops serving clients.
///
/// SQLite calls of the ``ModelRegistry`` actor run on one thread of their own (the actor's
/// executor); CPU-heavy work on artifacts (zlib, SHA-256 over megabytes) runs on NIO's blocking
/// thread pool. Neither is an event loop of the RPC server.
enum StorageThread {
    /// The registry actor's executor: one event loop thread that serves no sockets.
    static let loop: any EventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    /// Runs `body` on NIO's blocking thread pool, mapping its error to a ``RegistryError``.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(RegistryError) -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive(body)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw .conflict("\(error)")
        }
    }
}
