import ChurnRegistry
import Foundation
import Logging
import NIOPosix
import Synchronization

/// Queues prediction log entries on the hot path (an append under a lock) and writes them to
/// SQLite in batches, off the event loop, every quarter second; prunes by age and row count
/// every ten minutes.
final class PredictionLogger: Sendable {
    private let store: PredictionLogStore
    private let queue = Mutex<[PredictionLogEntry]>([])
    private let logger: Logger

    init(store: PredictionLogStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func append(_ entries: [PredictionLogEntry]) {
        queue.withLock { $0.append(contentsOf: entries) }
    }

    /// Writes what is queued.
    func flush() async {
        let entries = queue.withLock { queue -> [PredictionLogEntry] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !entries.isEmpty else { return }
        let store = self.store
        do {
            try await NIOThreadPool.singleton.runIfActive { try store.append(entries) }
        } catch {
            logger.error("could not write \(entries.count) prediction log entries: \(error)")
        }
    }

    /// Flushes every 250 ms and prunes every ten minutes until cancelled, then flushes once more.
    func run() async {
        var sincePrune = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(250)) } catch { break }
            await flush()
            if ContinuousClock.now - sincePrune > .seconds(600) {
                sincePrune = ContinuousClock.now
                let store = self.store
                _ = try? await NIOThreadPool.singleton.runIfActive { try store.prune() }
            }
        }
        await flush()
    }
}
