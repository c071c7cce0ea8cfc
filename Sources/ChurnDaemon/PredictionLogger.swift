import ChurnRegistry
import Foundation
import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// Queues prediction log entries on the hot path (an append under a lock) and writes them to
/// the registry in batches, off the event loop, every ``flushInterval``; prunes by age and row
/// count every ten minutes.
///
/// Durability: an answered prediction reaches the database within one flush interval (plus the
/// time of the write). A graceful shutdown writes everything queued (``finish()``); a SIGKILL or
/// power loss can lose at most the predictions of the last interval.
///
/// Nothing is lost silently. When the registry cannot take a batch (a shared PostgreSQL registry
/// that is down, an SQLite registry on a full or read-only disk), the batch goes to the local
/// ``PredictionLogSpool`` and is replayed, in order, once the registry answers again. When the
/// spool cannot take it either (its disk is full too), the entries wait in memory, at most
/// ``maximumHeld`` of them, and both are tried again with a growing pause (up to
/// ``maximumRetryPause``). Only entries pushed out of that bound, or still waiting at shutdown,
/// are lost: they are counted (``lostEntries``: `health` says `degraded` with the number, and the
/// `churn_prediction_log_lost_total` counter) and each loss is logged as an error.
final class PredictionLogger: Service, Sendable {
    /// How often queued entries are written: the bound on what a crash can lose.
    static let flushInterval: Duration = .milliseconds(250)
    /// The most entries kept in memory by default while neither the registry nor the spool
    /// takes them (a few hundred bytes each).
    static let defaultMaximumHeld = 100_000
    /// The longest pause between attempts while entries wait in memory.
    static let maximumRetryPause: Duration = .seconds(5)
    /// The shortest time between two error messages about lost entries (the count adds up).
    static let lossReportInterval: Duration = .seconds(10)

    private let store: PredictionLogStore
    private let spool: PredictionLogSpool?
    /// The most entries kept in memory while neither the registry nor the spool takes them.
    let maximumHeld: Int
    /// True while batches are going to the spool (for one warning per outage).
    private let spooling = Atomic<Bool>(false)
    /// Entries waiting in the spool.
    private let spooled = Atomic<Int>(0)
    /// Entries waiting in memory (``Writer/held``), readable without waiting for a write.
    private let heldCount = Atomic<Int>(0)
    /// Entries lost since churnd started.
    private let lost = Atomic<Int>(0)
    private let lostCounter = Mutex<Counter?>(nil)
    private let queue = Mutex<[PredictionLogEntry]>([])
    /// One write at a time (the periodic writer, a flush before a report, the final write).
    private let writer = Mutex(Writer())
    private let stopped = Atomic<Bool>(false)
    private let logger: Logger

    /// What one write leaves for the next.
    private struct Writer {
        /// Entries neither the registry nor the spool took, oldest first.
        var held: [PredictionLogEntry] = []
        /// When to try the registry and the spool again with ``held``; nil: at the next flush.
        var retryAt: ContinuousClock.Instant?
        var retryPause: Duration = PredictionLogger.flushInterval
        /// Entries lost since the last error message about it, and when that was.
        var unreported = 0
        var lastReport: ContinuousClock.Instant?
    }

    init(store: PredictionLogStore, spool: PredictionLogSpool?, maximumHeld: Int = defaultMaximumHeld, logger: Logger) {
        self.store = store
        self.spool = spool
        self.maximumHeld = max(1, maximumHeld)
        self.logger = logger
        // A previous run may have left entries waiting.
        spooled.store(spool?.pendingEntries() ?? 0, ordering: .relaxed)
    }

    /// Prediction log entries waiting on local disk for the registry.
    var spooledEntries: Int { spooled.load(ordering: .relaxed) }

    /// Prediction log entries waiting in churnd's memory because neither the registry nor the
    /// spool could take them.
    var heldEntries: Int { heldCount.load(ordering: .relaxed) }

    /// Prediction log entries lost since churnd started.
    var lostEntries: Int { lost.load(ordering: .relaxed) }

    /// Counts lost entries in `counter` too (the daemon's `churn_prediction_log_lost_total`).
    func countLosses(in counter: Counter) {
        lostCounter.withLock { $0 = counter }
    }

    func append(_ entries: [PredictionLogEntry]) {
        queue.withLock { $0.append(contentsOf: entries) }
    }

    /// Entries queued beyond which ``relieve()`` writes before it returns.
    static let backlogBound = 50_000

    /// Writes the queue now when it holds more than ``backlogBound`` entries: called after a
    /// large batch, so that a caller logging faster than the registry writes waits for it
    /// instead of growing churnd's memory.
    func relieve() async {
        guard queue.withLock({ $0.count }) > Self.backlogBound else { return }
        await flush()
    }

    /// Writes what is queued (after anything spooled or held), on NIO's thread pool.
    func flush() async {
        let entries = takeQueued()
        // The spool's folder is read only while entries wait there (its count says so).
        guard !entries.isEmpty || spooledEntries > 0 || heldEntries > 0 else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { self.write(entries) }
        } catch {
            // Cancelled or the pool is gone: write here rather than lose them.
            write(entries)
        }
    }

    /// Replays the spool, oldest first, then writes what is held and `entries`; what the
    /// registry cannot take goes to the spool (behind what is already there, so the order holds),
    /// and what the spool cannot take waits in memory. `final`: the last write, whatever pause
    /// is due; what it cannot write is lost.
    private func write(_ entries: [PredictionLogEntry], final: Bool = false) {
        writer.withLock { state in
            var batch = state.held
            state.held = []
            batch += entries
            if !final, let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                hold(batch, in: &state, failure: nil)
                return
            }
            guard let failure = deliver(batch) else {
                if state.retryAt != nil { logger.notice("the prediction log is written again; nothing waits in memory") }
                state.retryAt = nil
                state.retryPause = Self.flushInterval
                heldCount.store(0, ordering: .relaxed)
                return
            }
            if final {
                lose(batch.count, in: &state, why: "churnd stops and \(failure)", always: true)
                heldCount.store(0, ordering: .relaxed)
                return
            }
            if state.retryAt == nil {
                logger.error(
                    "prediction log entries wait in memory (at most \(maximumHeld)), retried every few seconds: \(failure)")
            } else {
                state.retryPause = min(state.retryPause * 2, Self.maximumRetryPause)
            }
            state.retryAt = ContinuousClock.now + state.retryPause
            hold(batch, in: &state, failure: failure)
        }
    }

    /// Sends `batch` to the registry, else to the spool; nil when one took it, else why neither did.
    private func deliver(_ batch: [PredictionLogEntry]) -> String? {
        guard let spool else {
            do {
                try store.append(batch)
                return nil
            } catch {
                return "the registry cannot take them (\(error))"
            }
        }
        var replayed = 0
        var blocked: (any Error)?
        for file in spooledEntries > 0 ? spool.pending() : [] {
            do {
                let spooledBatch = try spool.load(file)
                try store.append(spooledBatch)
                replayed += spooledBatch.count
                spooled.subtract(spooledBatch.count, ordering: .relaxed)
                do {
                    try spool.remove(file)
                } catch {
                    logger.error("\(error)")
                }
            } catch is DecodingError {
                logger.error("unreadable prediction log spool file \(file): moved aside")
                try? FileManager.default.moveItem(atPath: file, toPath: file + ".unreadable")
            } catch {
                blocked = error
                break
            }
        }
        if replayed > 0 { logger.notice("the registry answers again: replayed \(replayed) buffered prediction log entries") }
        guard !batch.isEmpty else { return nil }
        do {
            if let blocked { throw blocked }
            try store.append(batch)
            if spooling.exchange(false, ordering: .relaxed) { logger.notice("prediction log writing to the registry again") }
            return nil
        } catch {
            do {
                try spool.save(batch)
                spooled.add(batch.count, ordering: .relaxed)
                if !spooling.exchange(true, ordering: .relaxed) {
                    logger.warning("the registry cannot take the prediction log (\(error)): buffering it in \(spool.folder) until it can")
                }
                return nil
            } catch let spoolError {
                return "neither the registry (\(error)) nor the spool (\(spoolError)) can take them"
            }
        }
    }

    /// Keeps `batch` in memory for the next attempt, within ``maximumHeld``: the oldest beyond it are lost.
    private func hold(_ batch: [PredictionLogEntry], in state: inout Writer, failure: String?) {
        state.held = batch
        let excess = state.held.count - maximumHeld
        if excess > 0 {
            state.held.removeFirst(excess)
            lose(excess, in: &state, why: "more than \(maximumHeld) waited in memory" + (failure.map { ": \($0)" } ?? ""))
        }
        heldCount.store(state.held.count, ordering: .relaxed)
    }

    /// Counts `count` lost entries and reports them as an error, at most once per
    /// ``lossReportInterval`` (unless `always`).
    private func lose(_ count: Int, in state: inout Writer, why: String, always: Bool = false) {
        guard count > 0 else { return }
        let total = lost.add(count, ordering: .relaxed).newValue
        lostCounter.withLock { $0?.increment(by: Int64(count)) }
        state.unreported += count
        let now = ContinuousClock.now
        guard always || state.lastReport.map({ now - $0 >= Self.lossReportInterval }) ?? true else { return }
        logger.error(
            "lost \(state.unreported) prediction log entries (\(total) since churnd started) because \(why): free space or fix the registry's disk; `churn health` shows the count")
        state.unreported = 0
        state.lastReport = now
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

    /// Stops the periodic writer and writes everything still queued or held, synchronously:
    /// called once the server has answered its last request, so nothing answered is lost unless
    /// neither the registry nor the spool can take it (then it is counted and logged as lost).
    func finish() {
        stopped.store(true, ordering: .releasing)
        write(takeQueued(), final: true)
    }
}
