import Dispatch

/// Work spread over threads.
public enum Parallel {
    /// Calls `body(index)` for every index in `0..<count`, spread over up to `threads` threads
    /// (thread t takes indices t, t + threads, ...); inline when one thread or one index.
    public static func forEach(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        let parts = max(1, min(threads, count))
        if parts == 1 {
            for index in 0..<count { body(index) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for index in stride(from: part, to: count, by: parts) { body(index) }
        }
    }
}
