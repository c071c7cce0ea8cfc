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
/// power loss can lose at most the predictions of the last interval. When the registry cannot
/// take a batch (a shared PostgreSQL registry that is down), the batch goes to the local
/// ``PredictionLogSpool`` and is replayed, in order, once the registry answers again.
final class PredictionLogger: Service, Sendable {
    /// How often queued entries are written: the bound on what a crash can lose.
    static let flushInterval: Duration = .milliseconds(250)

    private let store: PredictionLogStore
    private let spool: PredictionLogSpool?
    /// True while batches are going to the spool (for one warning per outage).
    private let spooling = Atomic<Bool>(false)
    /// Entries waiting in the spool.
    private let spooled = Atomic<Int>(0)
    private let queue = Mutex<[PredictionLogEntry]>([])
    private let stopping = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let stopped = Atomic<Bool>(false)
    private let logger: Logger

    init(store: PredictionLogStore, spool: PredictionLogSpool?, logger: Logger) {
        self.store = store
        self.spool = spool
        self.logger = logger
        // A previous run may have left entries waiting.
        spooled.store(spool?.pendingEntries() ?? 0, ordering: .relaxed)
    }

    /// Prediction log entries waiting on local disk for the registry.
    var spooledEntries: Int { spooled.load(ordering: .relaxed) }

    func append(_ entries: [PredictionLogEntry]) {
        queue.withLock { $0.append(contentsOf: entries) }
    }

    /// Writes what is queued (after anything spooled), on NIO's thread pool.
    func flush() async {
        let entries = takeQueued()
        // The spool's folder is read only while entries wait there (its count says so).
        guard !entries.isEmpty || spooledEntries > 0 else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { self.write(entries) }
        } catch {
            // Cancelled or the pool is gone: write here rather than lose them.
            write(entries)
        }
    }

    /// Replays the spool, oldest first, then writes `entries`; what the registry cannot take
    /// goes to the spool (behind what is already there, so the order holds).
    private func write(_ entries: [PredictionLogEntry]) {
        guard let spool else {
            do {
                try store.append(entries)
            } catch {
                logger.error("could not write \(entries.count) prediction log entries: \(error)")
            }
            return
        }
        var replayed = 0
        var blocked = false
        for file in spooledEntries > 0 ? spool.pending() : [] {
            do {
                let batch = try spool.load(file)
                try store.append(batch)
                spool.remove(file)
                replayed += batch.count
                spooled.subtract(batch.count, ordering: .relaxed)
            } catch is DecodingError {
                logger.error("unreadable prediction log spool file \(file): moved aside")
                try? FileManager.default.moveItem(atPath: file, toPath: file + ".unreadable")
            } catch {
                blocked = true
                break
            }
        }
        if replayed > 0 { logger.notice("the registry answers again: replayed \(replayed) buffered prediction log entries") }
        do {
            if blocked { throw CancellationError() }
            try store.append(entries)
            if spooling.exchange(false, ordering: .relaxed), !blocked { logger.notice("prediction log writing to the registry again") }
        } catch {
            do {
                try spool.save(entries)
                spooled.add(entries.count, ordering: .relaxed)
                if !spooling.exchange(true, ordering: .relaxed) {
                    logger.warning("the registry cannot take the prediction log (\(error)): buffering it in \(spool.folder) until it can")
                }
            } catch let spoolError {
                logger.error("could not write \(entries.count) prediction log entries to the registry (\(error)) nor to \(spool.folder) (\(spoolError))")
            }
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
