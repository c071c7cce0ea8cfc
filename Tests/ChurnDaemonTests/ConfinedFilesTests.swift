#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Synchronization
import Testing

@testable import ChurnDaemon

/// Files beneath churnd's roots are resolved from the root's descriptor without following any
/// symlink, so a folder swapped for a symlink while a request runs never leads outside; only
/// regular files are read; a training's copies of the data are removed once it is registered.
@Suite("Confined files: roots, races, FIFOs, training copies", .serialized)
struct ConfinedFilesTests {
    /// Swaps the real folder at `path` for a symlink to `outside` and back, as fast as it can,
    /// until stopped: the race a check-then-open implementation loses (the check sees the
    /// folder, the open follows the symlink).
    private final class Swapper: Sendable {
        private let running = Atomic<Bool>(true)
        private let stopped = DispatchSemaphore(value: 0)
        private let path: String
        private let outside: String

        init(path: String, outside: String) {
            self.path = path
            self.outside = outside
            Thread { [self] in swapUntilStopped() }.start()
        }

        private func swapUntilStopped() {
            let link = path + ".link", parked = path + ".parked"
            symlink(outside, link)
            while running.load(ordering: .relaxed) {
                rename(path, parked)
                rename(link, path)
                rename(path, link)
                rename(parked, path)
            }
            stopped.signal()
        }

        func stop() {
            running.store(false, ordering: .relaxed)
            stopped.wait()
        }
    }

    private func makeFolder(_ path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func exportsRacingASymlinkSwapNeverLandOutsideTheRoot() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        let outside = try makeFolder(NSTemporaryDirectory() + "churn-outside-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let swapped = try makeFolder(harness.root + "/exports")
        let swapper = Swapper(path: swapped, outside: outside)
        var written = 0
        for attempt in 0..<300 {
            if case .success = await outcome({ () async throws(ChurnClientError) in
                try await client.export("champion", to: swapped + "/model-\(attempt).churnmodel", fileOnServer: true)
            }) {
                written += 1
            }
        }
        swapper.stop()
        let leaked = try FileManager.default.contentsOfDirectory(atPath: outside)
        #expect(leaked.isEmpty, "written outside the export root: \(leaked)")
        let inside = try FileManager.default.contentsOfDirectory(atPath: swapped)
        #expect(inside.count == written, "only whole exports inside, no temporary files: \(inside)")
        for name in inside {
            var status = stat()
            #expect(lstat(swapped + "/" + name, &status) == 0 && status.st_mode & 0o7777 == 0o640, "\(name) is 0640 as PROTOCOL.md says")
        }
        print("racing exports: \(written) of 300 written inside the root (while the folder was real), none outside")
        await client.close()
        try await harness.stop()
    }

    @Test func readsRacingASymlinkSwapNeverOpenAFileOutsideTheRoot() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        // Outside: a valid model export (registering it would succeed); inside: one that is not.
        let outside = try makeFolder(NSTemporaryDirectory() + "churn-outside-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        _ = try await client.export("champion", to: outside + "/model.churnmodel")
        let swapped = try makeFolder(harness.root + "/data")
        try Data("secret-looking content that must never be quoted".utf8).write(to: URL(fileURLWithPath: swapped + "/model.churnmodel"))
        let swapper = Swapper(path: swapped, outside: outside)
        for attempt in 0..<150 {
            switch await outcome({ () async throws(ChurnClientError) in
                try await client.importModel(file: swapped + "/model.churnmodel", name: "raced", fileOnServer: true)
            }) {
            case .success: Issue.record("attempt \(attempt) read the file outside the data root")
            case .failure(let error): #expect(!error.description.contains("secret-looking"), "\(error)")
            }
        }
        swapper.stop()
        #expect(try await client.models().allSatisfy { $0.name != "raced" })
        await client.close()
        try await harness.stop()
    }

    @Test func aFIFOUnderTheDataRootIsRefusedAtOnceAndBlocksNobody() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let fifo = harness.root + "/customers.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Six at once, as the issue's reproduction: each refused, none left waiting on a writer.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    await expectDaemonError(.invalidParams, field: "data", messageContains: "FIFO") { () async throws(ChurnClientError) in
                        try await client.train(TrainParams(kind: "echo", data: fifo), filesOnServer: true)
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                Issue.record("a FIFO kept a training waiting for 30 s")
            }
            for _ in 0..<6 { try await group.next() }
            group.cancelAll()
        }
        // An ordinary training beside them still runs.
        let version = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV()), filesOnServer: true)
        #expect(version.version == 1)
        await client.close()
        try await harness.stop()
    }

    @Test func relativePathsAndNULBytesAreRefusedNamingTheField() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        _ = try harness.writeTrainingCSV()
        await expectDaemonError(.invalidParams, field: "data", messageContains: "not an absolute path") {
            () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.ModelsTrain.self, TrainParams(kind: "echo", data: "train.csv"))
        }
        // A NUL would cut the path short at the system call: "…/train.csv\0.txt" is not train.csv.
        await expectDaemonError(.invalidParams, field: "data", messageContains: "NUL") { () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.ModelsTrain.self, TrainParams(kind: "echo", data: harness.root + "/train.csv\u{0}.txt"))
        }
        await expectDaemonError(.invalidParams, field: "history", messageContains: "not an absolute path") {
            () async throws(ChurnClientError) in
            try await client.call(
                DaemonMethod.ModelsTrain.self, TrainParams(kind: "echo", data: harness.root + "/train.csv", history: "panel.csv"))
        }
        #expect(try await client.models().isEmpty)
        await client.close()
        try await harness.stop()
    }

    /// A piece that cannot be stored (here: the file-size limit, as a full disk would) discards
    /// the whole upload, so its partial file does not keep the disk full.
    @Test func anUploadThatCannotBeStoredLeavesNothingBehind() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let piece = Data(repeating: UInt8(ascii: "x"), count: 3 << 20).base64EncodedString()
        let first = try await client.call(DaemonMethod.FilesUpload.self, UploadParams(upload: nil, offset: 0, data: piece))
        // Files of this process may not grow past 4 MiB while the next piece is written.
        signal(SIGXFSZ, SIG_IGN)
        var previous = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous)
        var limited = previous
        limited.rlim_cur = 4 << 20
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited)
        let refused = await outcome { () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.FilesUpload.self, UploadParams(upload: first.upload, offset: first.received, data: piece))
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous)
        guard case .failure(let error) = refused else {
            Issue.record("a piece past the size limit was stored")
            return
        }
        #expect(error.rpcError?.knownCode == .fileError, "\(error)")
        #expect(error.description.contains("discarded"), "\(error)")
        let transfers = try FileManager.default.contentsOfDirectory(atPath: harness.home + "/transfers")
        #expect(transfers.isEmpty, "the partial upload is removed: \(transfers)")
        await expectDaemonError(.invalidParams, field: "upload") { () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.FilesUpload.self, UploadParams(upload: first.upload, offset: first.received, data: piece))
        }
        await client.close()
        try await harness.stop()
    }

    @Test func transfersAnEarlierChurndLeftAreRemovedAtStart() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let transfers = harness.home + "/transfers"
        try FileManager.default.createDirectory(atPath: transfers, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: transfers + "/upload-left-by-a-killed-churnd", contents: Data("customerID,Churn\n".utf8))
        FileManager.default.createFile(atPath: transfers + "/download-never-fetched", contents: Data("bytes".utf8))
        try await harness.start()
        #expect(try FileManager.default.contentsOfDirectory(atPath: transfers).isEmpty)
        try await harness.stop()
    }

    @Test func aRegisteredRunLeavesNoCopyOfTheDataAndAFailedOneIsKeptForAWhile() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let runs = harness.home + "/runs"
        _ = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs).isEmpty, "the registered run's folder is removed")
        #expect(try await client.model("1").trainingData?.path == harness.root + "/train.csv", "the version names the client's file")

        // A run that fails keeps its folder for inspection…
        _ = await outcome { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: try! harness.writeTrainingCSV(), params: ["fail_training": true]))
        }
        let failed = try FileManager.default.contentsOfDirectory(atPath: runs)
        #expect(failed.count == 1, "\(failed)")
        // …until it is older than the retention, when the next training removes it.
        let old = Date().addingTimeInterval(-ModelTraining.failedRunRetention - 60)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: runs + "/" + failed[0])
        _ = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs).isEmpty)
        await client.close()
        try await harness.stop()
    }
}
