import Foundation

/// Runs model work on a thread of its own, off the event loop that serves the socket, so a
/// plugin keeps answering (health checks, other requests) while it trains or scores a big batch.
public enum ComputeThread {
    /// Batches up to this many customers are scored inline: moving them would cost more than it saves.
    public static let inlineLimit = 256

    /// Runs `body` on a new thread with an 8 MiB stack and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body` inline when `size` is small, else on a thread of its own.
    public static func runIfLarge<T: Sendable>(_ size: Int, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        size <= inlineLimit ? try body() : try await run(body)
    }
}
