#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
@testable import ChurnDaemon
import ChurnProtocol
import ChurnRegistry
import ChurnTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Nothing of the prediction log is lost silently when the disk is full: entries the registry
/// and the spool cannot take wait in memory (bounded) and are written once there is room; those
/// pushed out of the bound are counted (`health`, `churn_prediction_log_lost_total`) and logged
/// as errors. The disk is a real tmpfs filled to the last byte, so the failures are the kernel's.
@Suite("Prediction log on a full disk", .serialized)
struct LogDurabilityTests {
    @Test func entriesWaitInMemoryAndThoseBeyondTheBoundAreCountedAndLogged() async throws {
        var template = Array("/tmp/churn-log-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard let disk = ScratchDisk.mount(at: root + "/home", megabytes: 8) else {
            print(ScratchDisk.skipped)
            return
        }
        defer { disk.unmount() }
        let store = try PredictionLogStore(path: disk.path + "/registry.sqlite")
        let spool = try PredictionLogSpool(folder: disk.path + "/spool")
        let messages = CapturedLog()
        let log = PredictionLogger(
            store: store, spool: spool, maximumHeld: 100, logger: Logger(label: "test") { _ in messages.handler })
        let metrics = ServingMetrics()
        log.countLosses(in: metrics.predictionLogLost)

        try disk.fill()
        let probes = try #require(entriesTaken(untilFull: store), "the prediction log kept taking entries on a full disk")
        log.append(entries(0..<60))
        await log.flush()
        #expect(log.heldEntries == 60 && log.lostEntries == 0 && log.spooledEntries == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.folder).isEmpty, "no half-written spool file stays")
        #expect(messages.errors.contains { $0.contains("wait in memory") && $0.contains("the disk holding \(disk.path) is full") })

        log.append(entries(60..<130))
        await log.flush()
        #expect(log.heldEntries == 100 && log.lostEntries == 30)
        #expect(metrics.prometheusText().contains("churn_prediction_log_lost_total 30"), "\(metrics.prometheusText())")
        #expect(messages.errors.contains { $0.contains("lost 30 prediction log entries") }, "\(messages.errors)")

        // Room again: what waited is written at the next attempt.
        disk.free()
        try await DaemonHarness.waitUntil(seconds: 30) {
            await log.flush()
            return log.heldEntries == 0
        }
        #expect(try store.count() == probes + 100)
        #expect(log.lostEntries == 30, "entries written late are not lost")

        // Full again at shutdown: what cannot be written then is lost, counted and logged.
        try disk.fill()
        _ = entriesTaken(untilFull: store)
        log.append(entries(130..<135))
        log.finish()
        #expect(log.lostEntries == 35)
        #expect(messages.errors.last?.contains("lost 5 prediction log entries") == true, "\(messages.errors)")
        #expect(messages.errors.last?.contains("churnd stops") == true, "\(messages.errors)")
    }

    @Test func entriesGoToTheSpoolWhereThereIsRoomAndReachTheRegistryOnceItHasRoom() async throws {
        var template = Array("/tmp/churn-log-XXXXXX".utf8CString)
        let root = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard let registryDisk = ScratchDisk.mount(at: root + "/registry", megabytes: 8),
            let spoolDisk = ScratchDisk.mount(at: root + "/spool", megabytes: 8)
        else {
            print(ScratchDisk.skipped)
            return
        }
        defer {
            registryDisk.unmount()
            spoolDisk.unmount()
        }
        let store = try PredictionLogStore(path: registryDisk.path + "/registry.sqlite")
        let spool = try PredictionLogSpool(folder: spoolDisk.path + "/prediction-log")
        let log = PredictionLogger(store: store, spool: spool, maximumHeld: 100, logger: Logger(label: "test"))

        try registryDisk.fill()
        let probes = try #require(entriesTaken(untilFull: store), "the prediction log kept taking entries on a full disk")
        log.append(entries(0..<150))
        await log.flush()
        #expect(log.spooledEntries == 150 && log.heldEntries == 0 && log.lostEntries == 0, "the spool's disk has room")

        registryDisk.free()
        try await DaemonHarness.waitUntil(seconds: 30) {
            await log.flush()
            return log.spooledEntries == 0
        }
        #expect(try store.count() == probes + 150)
        #expect(spool.pending().isEmpty)
    }

    @Test func aFullDiskDegradesHealthUntilTheLogCatchesUp() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        guard let disk = ScratchDisk.mount(at: harness.home, megabytes: 16) else {
            print(ScratchDisk.skipped)
            try? FileManager.default.removeItem(atPath: harness.root)
            return
        }
        try await harness.startWithChampion()
        let client = try await harness.client()
        #expect(try await client.metrics().contains("churn_prediction_log_lost_total 0"), "the counter is there before any loss")

        try disk.fill()
        let registryFile = harness.home + "/registry.sqlite"
        let probes = try #require(
            entriesTaken(untilFull: try PredictionLogStore(path: registryFile)), "the prediction log kept taking entries on a full disk")
        var answered = 0
        for batch in 0..<5 {
            answered += try await client.predict((0..<20).map { testCustomer("full-\(batch)-\($0)") }).count
        }
        #expect(answered == 100, "predictions are served on a full disk")
        try await DaemonHarness.waitUntil(seconds: 30) { try await client.health().registry?.heldLogEntries == 100 }
        let degraded = try await client.health()
        #expect(degraded.status == "degraded", "the log is not being written")
        #expect(degraded.registry?.lostLogEntries == 0 && degraded.registry?.spooledLogEntries == 0)
        // A write names the folder and the cause.
        await expectDaemonError(.fileError, messageContains: "the disk holding \(harness.home) is full") {
            () async throws(ChurnClientError) in try await client.feedback([Outcome(customerID: "full-0-0", churned: true)])
        }
        let spoolFolder = harness.home + "/spool/prediction-log"
        #expect(try FileManager.default.contentsOfDirectory(atPath: spoolFolder).isEmpty, "no half-written spool file stays")

        disk.free()
        try await DaemonHarness.waitUntil(seconds: 30) {
            let health = try await client.health()
            return health.status == "ok" && health.registry?.heldLogEntries == 0
        }
        #expect(try PredictionLogStore(path: registryFile).count() == probes + 100, "every answered prediction is logged")
        #expect(try await client.health().registry?.lostLogEntries == 0)
        await client.close()
        try await harness.stopKeepingState()
        disk.unmount()
        try? FileManager.default.removeItem(atPath: harness.root)
    }
}

/// Entries numbered `range`, as the daemon logs them.
private func entries(_ range: Range<Int>) -> [PredictionLogEntry] {
    range.map {
        PredictionLogEntry(
            requestID: "r\($0)", customerID: "c\($0)", model: "churn", version: 1, arm: .champion, probability: 0.5,
            latencyMicroseconds: 10, at: Date().timeIntervalSince1970, experimentID: nil)
    }
}

/// Appends one entry at a time until `store` refuses one (SQLite may have room left in pages it
/// already holds); how many it took, or nil if it never refused.
private func entriesTaken(untilFull store: PredictionLogStore) -> Int? {
    for index in 0..<100_000 {
        do {
            try store.append(entries(index..<index + 1))
        } catch {
            return index
        }
    }
    return nil
}

/// What a logger wrote, for checking the errors a test expects.
private final class CapturedLog: Sendable {
    private let lines = Mutex<[(level: Logger.Level, message: String)]>([])

    var handler: Handler { Handler(log: self) }

    var errors: [String] { lines.withLock { $0.filter { $0.level >= .error }.map(\.message) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.lines.withLock { $0.append((event.level, event.message.description)) }
        }
    }
}
