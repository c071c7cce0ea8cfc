#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnProtocol
import ChurnRPC
import Foundation

/// churnd's private folders for plugin sockets, `$TMPDIR/churnd-XXXXXX` (mode 0700): one per
/// running churnd, removed when it stops gracefully. A churnd that was killed (SIGKILL, a crash,
/// power loss) cannot remove its own, so each churnd that starts removes those of its user whose
/// churnd is gone.
///
/// Each folder names its owner in `churnd.pid`: the process id and, on Linux, the process's start
/// time (field 22 of `/proc/<pid>/stat`), so a dead churnd's pid reused by another process does not
/// keep its folder. A folder without that file (made by a churnd before this one, or being made at
/// this moment) goes only when it is over a minute old and no socket in it answers.
enum PluginSocketFolder {
    static let prefix = "churnd-"
    static let ownerFile = "churnd.pid"
    /// How old a folder without an owner file must be before it counts as stale.
    static let unownedGrace: TimeInterval = 60

    /// Removes the stale folders under `base`, then makes a fresh one owned by this process.
    static func make(base: String) throws(RPCError) -> String {
        removeStale(under: base)
        var template = Array((base as NSString).appendingPathComponent(prefix + "XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw RPCError(
                .fileError,
                "cannot create a folder for plugin sockets under \(base): \(String(cString: strerror(errno))) (set TMPDIR to a writable folder)")
        }
        let folder = String(cString: created)
        // Written whole, then renamed: a starting churnd never reads half an owner file.
        let owner = (folder as NSString).appendingPathComponent(ownerFile)
        do {
            try Data(ownerRecord(getpid()).utf8).write(to: URL(fileURLWithPath: owner + ".new"))
            guard rename(owner + ".new", owner) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw RPCError(.fileError, "cannot write \(owner): \(error.localizedDescription)")
        }
        return folder
    }

    /// Removes every folder under `base` named like churnd's, owned by this user, whose churnd is
    /// gone; returns their paths.
    @discardableResult
    static func removeStale(under base: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) && name.count == prefix.count + 6 {
            let folder = (base as NSString).appendingPathComponent(name)
            guard isStale(folder) else { continue }
            if (try? FileManager.default.removeItem(atPath: folder)) != nil { removed.append(folder) }
        }
        return removed
    }

    /// True when `folder` is a folder of this user (not a link to one) whose churnd is gone.
    static func isStale(_ folder: String) -> Bool {
        var status = stat()
        guard lstat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == getuid() else {
            return false
        }
        let ownerPath = (folder as NSString).appendingPathComponent(ownerFile)
        if let text = try? String(contentsOfFile: ownerPath, encoding: .utf8) {
            let fields = text.split(whereSeparator: \.isWhitespace)
            if let pid = fields.first.flatMap({ pid_t($0) }), pid > 0 {
                return !isRunning(pid, startedAt: fields.dropFirst().first.map(String.init))
            }
        }
        // No owner named: an older churnd's folder, or one a churnd is making right now.
        let modified = (try? FileManager.default.attributesOfItem(atPath: folder))?[.modificationDate] as? Date
        guard let modified, -modified.timeIntervalSinceNow > unownedGrace else { return false }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return !entries.contains { UnixSocketFile.isLive((folder as NSString).appendingPathComponent($0)) }
    }

    /// The owner file's text for process `pid`: its id, then its start time when known.
    static func ownerRecord(_ pid: pid_t) -> String {
        [String(pid), processStatus(pid)?.startTime].compactMap { $0 }.joined(separator: " ") + "\n"
    }

    /// True when `pid` runs (a zombie does not) and, if `startedAt` is given and the system
    /// says, started then.
    private static func isRunning(_ pid: pid_t, startedAt: String?) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let status = processStatus(pid) else { return true }
        return status.state != "Z" && (startedAt == nil || status.startTime == startedAt)
    }

    /// The state (field 3) and start time in clock ticks since boot (field 22) of `/proc/<pid>/stat`;
    /// nil without `/proc`.
    private static func processStatus(_ pid: pid_t) -> (state: Substring, startTime: String)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name (which may hold spaces) come fields 3, 4, ...: field 22 is the 20th.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 19 ? (fields[0], String(fields[19])) : nil
    }
}
