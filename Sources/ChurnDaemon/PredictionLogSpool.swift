import ChurnRegistry
import Foundation
import Synchronization

/// Prediction log entries the registry could not take (a shared PostgreSQL registry that is
/// down or unreachable), kept on local disk until it can: one file per failed batch, written
/// whole (temporary file, fsync, rename) so a crash leaves either the batch or nothing, and
/// replayed oldest first, each file removed only once the registry has committed it. Delivery is
/// at least once: a connection lost after the commit but before its answer replays that batch.
final class PredictionLogSpool: Sendable {
    let folder: String
    private let sequence = Atomic<Int>(0)

    /// Opens (creating, mode 0700) the spool folder.
    init(folder: String) throws {
        self.folder = folder
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Batch files waiting, oldest first.
    func pending() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".spool") }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Entries waiting in all files.
    func pendingEntries() -> Int {
        pending().reduce(0) { $0 + ((try? load($1).count) ?? 0) }
    }

    /// Writes one batch durably.
    func save(_ entries: [PredictionLogEntry]) throws {
        guard !entries.isEmpty else { return }
        let data = try JSONEncoder().encode(entries)
        // Names sort in write order: milliseconds, then a per-process sequence.
        let stamp = String(format: "%015.0f", Date().timeIntervalSince1970 * 1000)
        let name = "\(stamp)-\(getpid())-\(String(format: "%08d", sequence.wrappingAdd(1, ordering: .relaxed).newValue)).spool"
        let path = (folder as NSString).appendingPathComponent(name)
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: partial])
        }
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        guard rename(partial, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    func load(_ file: String) throws -> [PredictionLogEntry] {
        try JSONDecoder().decode([PredictionLogEntry].self, from: Data(contentsOf: URL(fileURLWithPath: file)))
    }

    func remove(_ file: String) {
        try? FileManager.default.removeItem(atPath: file)
    }
}
