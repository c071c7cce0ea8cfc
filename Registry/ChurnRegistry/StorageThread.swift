#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Where registry work runs, so that it never stalls the event loops serving clients.
///
/// SQLite calls of the ``ModelRegistry`` actor run on one thread of their own (the actor's
/// executor); CPU-heavy work on artifacts (zlib, SHA-256 over megabytes) runs on a background
/// thread pool of its own. Neither is an event loop of the RPC server, and both run at a lower
/// scheduling priority (nice 10) than serving: on a busy machine a `verify` or a large
/// registration takes longer rather than taking CPU from predictions.
enum StorageThread {
    /// The registry actor's executor: one event loop thread that serves no sockets.
    static let loop: any EventLoop = {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
        loop.execute { BackgroundPriority.lowerCurrentThread() }
        return loop
    }()

    /// Artifact compression and checking: one background thread.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        // The pool's only thread runs this first.
        pool.submit { _ in BackgroundPriority.lowerCurrentThread() }
        return pool
    }()

    /// Runs `body` on the background pool, mapping its error to a ``RegistryError``.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(RegistryError) -> T {
        do {
            return try await pool.runIfActive(body)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw .conflict("\(error)")
        }
    }
}

/// The scheduling priority of the calling thread: on Linux `setpriority(PRIO_PROCESS, 0, n)`
/// sets the nice value of the calling thread alone.
enum BackgroundPriority {
    /// The nice value background work runs at.
    static let niceness: Int32 = 10

    /// Lowers the calling thread to ``niceness`` (for good: an unprivileged thread cannot raise
    /// it back, so only threads that do background work alone call this).
    static func lowerCurrentThread() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }
}
