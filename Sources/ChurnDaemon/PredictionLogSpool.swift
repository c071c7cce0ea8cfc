#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnRegistry
import Foundation
import Synchronization

/// Prediction log entries the registry could not take (a shared PostgreSQL registry that is
/// down or unreachable, an SQLite registry on a full disk), kept on local disk until it can: one
/// file per failed batch, written whole (temporary file, fsync, rename) so a crash leaves either
/// the batch or nothing, and replayed oldest first, each file removed only once the registry has
/// committed it. Delivery is at least once: a connection lost after the commit but before its
/// answer replays that batch. A batch that cannot be written (the spool's disk is full too)
/// leaves no file behind.
final class PredictionLogSpool: Sendable {
    let folder: String
    private let sequence = Atomic<Int>(0)
    /// Files replayed into the registry that could not be removed (a spool disk gone read-only):
    /// never replayed again by this process.
    private let replayed = Mutex<Set<String>>([])

    /// Opens (creating, mode 0700) the spool folder, removing what a crash left half-written.
    init(folder: String) throws {
        self.folder = folder
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasSuffix(".partial") {
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }

    /// Batch files waiting, oldest first.
    func pending() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let done = replayed.withLock { $0 }
        return names.filter { $0.hasSuffix(".spool") }.sorted().map { (folder as NSString).appendingPathComponent($0) }
            .filter { !done.contains($0) }
    }

    /// Entries waiting in all files.
    func pendingEntries() -> Int {
        pending().reduce(0) { $0 + ((try? load($1).count) ?? 0) }
    }

    /// Writes one batch durably, or nothing (no partial file stays behind on failure).
    func save(_ entries: [PredictionLogEntry]) throws(SpoolError) {
        guard !entries.isEmpty else { return }
        let data: Data
        do {
            data = try JSONEncoder().encode(entries)
        } catch {
            throw SpoolError(folder: folder, step: "encode a batch", detail: "\(error)")
        }
        // Names sort in write order: milliseconds, then a per-process sequence.
        let stamp = String(format: "%015.0f", Date().timeIntervalSince1970 * 1000)
        let name = "\(stamp)-\(getpid())-\(String(format: "%08d", sequence.wrappingAdd(1, ordering: .relaxed).newValue)).spool"
        let path = (folder as NSString).appendingPathComponent(name)
        let partial = path + ".partial"
        let file = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw SpoolError(folder: folder, step: "create a file", code: errno) }
        var failure: SpoolError?
        let written = data.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let count = write(file, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += count
            }
            return nil
        }
        if let code = written {
            failure = SpoolError(folder: folder, step: "write \(data.count) bytes", code: code)
        } else if fsync(file) != 0 {
            failure = SpoolError(folder: folder, step: "sync a file", code: errno)
        }
        if close(file) != 0, failure == nil { failure = SpoolError(folder: folder, step: "close a file", code: errno) }
        if failure == nil, rename(partial, path) != 0 { failure = SpoolError(folder: folder, step: "rename a file", code: errno) }
        if let failure {
            // Half a batch is never replayed, and on a full disk it would keep the disk full.
            unlink(partial)
            throw failure
        }
    }

    func load(_ file: String) throws -> [PredictionLogEntry] {
        try JSONDecoder().decode([PredictionLogEntry].self, from: Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// Removes a file whose batch the registry has committed. When that fails, the file is
    /// remembered so this process never replays it twice; the error says what a restart would do.
    func remove(_ file: String) throws(SpoolError) {
        guard unlink(file) == 0 || errno == ENOENT else {
            let code = errno
            replayed.withLock { _ = $0.insert(file) }
            throw SpoolError(folder: folder, step: "remove the replayed batch \((file as NSString).lastPathComponent) (delete it by hand before churnd restarts, or it is logged twice)", code: code)
        }
    }
}

/// A batch the spool could not keep: the folder, the step that failed and why.
struct SpoolError: Error, CustomStringConvertible {
    let folder: String
    let step: String
    let detail: String

    init(folder: String, step: String, detail: String) {
        self.folder = folder
        self.step = step
        self.detail = detail
    }

    init(folder: String, step: String, code: Int32) {
        let disk = code == ENOSPC || code == EDQUOT ? " (the disk is full)" : code == EROFS ? " (a read-only file system)" : ""
        self.init(folder: folder, step: step, detail: String(cString: strerror(code)) + disk)
    }

    var description: String { "cannot \(step) in the spool \(folder): \(detail)" }
}
