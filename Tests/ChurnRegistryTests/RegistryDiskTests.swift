#if canImport(Glibc)
import Glibc
#endif
import ChurnProtocol
import ChurnRegistry
import ChurnTestSupport
import Foundation
import Testing

/// A registry on a disk that is full or read-only: the error names the folder and the cause (and
/// what to do), not SQLite's bare "attempt to write a readonly database". The disk is a real
/// tmpfs, so the errors come from the kernel.
@Suite("Registry on a full or read-only disk", .serialized)
struct RegistryDiskTests {
    @Test func aReadOnlyHomeIsNamedWithItsCause() async throws {
        let root = try scratchRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard let disk = ScratchDisk.mount(at: root + "/home", megabytes: 8) else {
            print(ScratchDisk.skipped)
            return
        }
        defer { disk.unmount() }
        let file = disk.path + "/registry.sqlite"
        do {
            let registry = try ModelRegistry(path: file)
            _ = try await registry.recordFeedback([Outcome(customerID: "a", churned: true)], user: "ops")
        }
        try disk.remountReadOnly()

        do {
            _ = try ModelRegistry(path: file)
            Issue.record("a registry on a read-only file system cannot be opened for writing")
        } catch {
            guard case .file(let path, let reason) = error else {
                Issue.record("expected a file error naming the folder, got \(error)")
                return
            }
            #expect(path == file)
            #expect(reason.contains("its folder \(disk.path) is on a read-only file system"), "\(reason)")
            #expect(error.description.contains("remount it read-write"), "\(error)")
            #expect(error.rpcError.knownCode == .fileError)
        }
    }

    @Test func aFullDiskIsNamedWithItsCauseForTheRegistryAndThePredictionLog() async throws {
        let root = try scratchRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard let disk = ScratchDisk.mount(at: root + "/home", megabytes: 8) else {
            print(ScratchDisk.skipped)
            return
        }
        defer { disk.unmount() }
        let file = disk.path + "/registry.sqlite"
        let registry = try ModelRegistry(path: file)
        let log = try PredictionLogStore(path: file)
        try disk.fill()
        // SQLite may still have room in pages it holds; one entry at a time uses that up.
        let failure = try #require(exhaust(log), "the prediction log kept taking entries on a full disk")

        guard case .file(let path, let reason) = failure else {
            Issue.record("expected a file error naming the folder, got \(failure)")
            return
        }
        #expect(path == file)
        #expect(reason.contains("the disk holding \(disk.path) is full"), "\(reason)")
        do {
            _ = try await registry.recordFeedback([Outcome(customerID: "a", churned: true)], user: "ops")
            Issue.record("feedback cannot be recorded on a full disk")
        } catch {
            #expect(error.description.contains("the disk holding \(disk.path) is full"), "\(error)")
            #expect(error.description.contains("free space"), "\(error)")
        }
        disk.free()
        _ = try await registry.recordFeedback([Outcome(customerID: "a", churned: true)], user: "ops")
    }
}

/// A fresh folder for a test's mount point.
private func scratchRoot() throws -> String {
    var template = Array("/tmp/churn-disk-XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else { throw RegistryError.file(path: "/tmp", reason: "mkdtemp failed") }
    return String(cString: created)
}

/// Appends one entry at a time until the store refuses one; that error, or nil if it never does.
private func exhaust(_ log: PredictionLogStore) -> RegistryError? {
    for index in 0..<100_000 {
        do {
            try log.append([
                PredictionLogEntry(
                    requestID: "probe", customerID: "probe-\(index)", model: "churn", version: 1, arm: .champion, probability: 0.5,
                    latencyMicroseconds: 1, at: Date().timeIntervalSince1970, experimentID: nil)
            ])
        } catch {
            return error
        }
    }
    return nil
}
