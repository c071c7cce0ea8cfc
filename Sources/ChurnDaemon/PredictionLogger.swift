import ChurnRegistry
import Foundation
import Logging
import ServiceLifecycle
import NIOPosix
import Synchronization

/// Queues prediction log entries on the hot path (an append under a lock) and writes them to
/// SQLite in batches, off the event loop, every ``flushInterval``; prunes by age and row count
/// every ten minutes.
///
/// Durability: an answered prediction reaches the database within one flush interval (plus the
/// time of the write). A graceful shutdown writes everything queued (``finish()``); a SIGKILL or
/// power loss can lose at most the predictions of the last interval.
final class PredictionLogger: Service, Sendable {
    /// How often queued entries are written: the bound on what a crash can lose.
    static let flushInterval: Duration = .milliseconds(250)

    private let store: PredictionLogStore
    private let queue = Mutex<[PredictionLogEntry]>([])
    private let stopping = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let stopped = Atomic<Bool>(false)
    private let logger: Logger

    init(store: PredictionLogStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func append(_ entries: [PredictionLogEntry]) {
        queue.withLock { $0.append(contentsOf: entries) }
    }

    /// Writes what is queued, on NIO's thread pool.
    func flush() async {
        let entries = takeQueued()
        guard !entries.isEmpty else { return }
        let store = self.store
        do {
            try await NIOThreadPool.singleton.runIfActive { try store.append(entries) }
        } catch {
            // Cancelled or the pool is gone: write here rather than lose them.
            write(entries)
        }
    }

    /// Writes on the calling thread (shutdown, when nothing else runs).
    private func write(_ entries: [PredictionLogEntry]) {
        do {
            try store.append(entries)
        } catch {
            logger.error("could not write \(entries.count) prediction log entries: \(error)")
        }
    }

    private func takeQueued() -> [PredictionLogEntry] {
        queue.withLock { queue -> [PredictionLogEntry] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }

    /// As a service of the daemon: writes periodically until graceful shutdown, then (the
    /// services after it having stopped: the server has answered its last request, shadow
    /// scorings have finished) writes everything still queued.
    func run() async {
        await cancelWhenGracefulShutdown { await self.writePeriodically() }
        finish()
    }

    /// Flushes every ``flushInterval`` and prunes every ten minutes until ``finish()`` or cancellation.
    func writePeriodically() async {
        var sincePrune = ContinuousClock.now
        while !stopped.load(ordering: .acquiring), !Task.isCancelled {
            try? await Task.sleep(for: Self.flushInterval)
            await flush()
            if ContinuousClock.now - sincePrune > .seconds(600) {
                sincePrune = ContinuousClock.now
                let store = self.store
                _ = try? await NIOThreadPool.singleton.runIfActive { try store.prune() }
            }
        }
    }

    /// Stops the periodic writer and writes everything still queued, synchronously: called
    /// once the server has answered its last request, so nothing answered is lost.
    func finish() {
        stopped.store(true, ordering: .releasing)
        write(takeQueued())
    }
}
