#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Who may connect to churnd's socket: the socket file's mode and group.
///
/// The socket is the only way in: a user who can open it gets the read methods, and the admin
/// role decides the rest (``AccessPolicy``). An operator who lets analysts in names their group
/// (`--socket-group churn`): churnd sets the socket's group, and a folder churnd creates for the
/// socket (its home, or the socket's own folder) lets that group through (0710: reach the socket
/// by name, list nothing, read nothing).
public struct SocketPermissions: Sendable, Equatable {
    /// The socket file's permission bits (default 0660).
    public var mode: mode_t = 0o660
    /// The socket file's group; nil: churnd's own group.
    public var group: gid_t?

    public init(mode: mode_t = 0o660, group: gid_t? = nil) {
        self.mode = mode
        self.group = group
    }

    /// `text` as an octal mode (`0660`, `660`, `0o600`) that gives churnd's own user read and
    /// write and nobody execute; nil otherwise.
    public static func mode(parsing text: String) -> mode_t? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 4, let mode = mode_t(digits, radix: 8), mode <= 0o777,
            mode & 0o600 == 0o600, mode & 0o111 == 0
        else { return nil }
        return mode
    }
}

/// churnd's home holds the registry (the prediction log, feedback, the audit log), copies of
/// training data while a run lasts, uploads and the artifact cache: it is churnd's alone.
///
/// On start churnd sets its umask to 077 (every file it creates is 0600, every folder 0700),
/// creates its home 0700, and takes away every permission other users have on an existing home
/// and anything beneath it, logging what it tightened. The one exception: when the socket lives
/// in the home and a socket group is set, the home is 0710 with that group, so the group can
/// reach the socket and nothing else.
public enum StatePermissions {
    /// Makes new files and folders churnd's alone, for the life of the process.
    public static func restrictNewFiles() {
        umask(0o077)
    }

    /// Creates `home` (0700) or tightens an existing one and everything beneath it: nothing for
    /// other users, nothing for the group on files. Returns the paths it changed, with their
    /// old modes, so the caller can warn; logs a warning when there were any.
    @discardableResult
    public static func secureHome(_ home: String, socket: SocketPermissions, socketPath: String, logger: Logger) throws -> [(
        path: String, oldMode: mode_t
    )] {
        let socketInHome = (socketPath as NSString).deletingLastPathComponent == (home as NSString).standardizingPath
        let homeGroup = socketInHome ? socket.group : nil
        let homeMode: mode_t = homeGroup != nil ? 0o710 : 0o700
        var status = stat()
        // The home itself may be a symlink an operator made (/var/lib/churn -> /data/churn).
        if stat(home, &status) != 0 {
            do {
                try FileManager.default.createDirectory(
                    atPath: (home as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                throw DaemonSettingsError(description: "cannot create the folder of churnd's home \(home): \(error.localizedDescription)")
            }
            guard mkdir(home, homeMode) == 0 || errno == EEXIST else {
                throw DaemonSettingsError(description: "cannot create churnd's home \(home): \(String(cString: strerror(errno)))")
            }
            chmod(home, homeMode)
            if let homeGroup { chown(home, uid_t.max, homeGroup) }
            return []
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw DaemonSettingsError(description: "churnd's home \(home) is not a folder")
        }
        let socketPath = socketPath.hasPrefix(home + "/") ? (realPath(home) ?? home) + socketPath.dropFirst(home.count) : socketPath
        let home = realPath(home) ?? home
        var changed: [(String, mode_t)] = []
        func tighten(_ path: String, to wanted: (mode_t) -> mode_t) {
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFLNK else { return }
            let mode = status.st_mode & 0o7777
            let tightened = wanted(mode)
            guard tightened != mode else { return }
            if chmod(path, tightened) == 0 { changed.append((path, mode)) }
        }
        // The home: owner's bits kept, the group only to reach a socket it owns, others nothing.
        tighten(home) { mode in (mode & 0o700) | (homeGroup != nil ? 0o010 : 0) }
        if let homeGroup, status.st_gid != homeGroup { chown(home, uid_t.max, homeGroup) }
        if let walker = FileManager.default.enumerator(atPath: home) {
            for case let relative as String in walker {
                let path = (home as NSString).appendingPathComponent(relative)
                // The socket keeps its own mode (set when it is bound).
                if path == socketPath { continue }
                tighten(path) { mode in mode & 0o700 }
            }
        }
        if !changed.isEmpty {
            let examples = changed.prefix(3).map { "\($0.0) (was \(String($0.1, radix: 8)))" }.joined(separator: ", ")
            logger.warning(
                "churnd's home was open to other users: took their permissions away from \(changed.count) entries, e.g. \(examples); churnd's state (the registry with the prediction log, feedback and audit log, training copies, uploads) is for churnd's user alone: let others in through the socket (--socket-group)",
                metadata: ["home": "\(home)"])
        }
        return changed
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Gives `group` passage (`g+x`) through `folder` when it is churnd's to change: the
    /// socket's folder that churnd created. Returns true when it changed anything.
    @discardableResult
    static func letGroupReach(_ folder: String, group: gid_t) -> Bool {
        var status = stat()
        guard lstat(folder, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR, status.st_uid == geteuid() else { return false }
        let mode = status.st_mode & 0o7777
        guard status.st_gid != group || mode & 0o010 == 0 else { return false }
        chown(folder, uid_t.max, group)
        chmod(folder, (mode & 0o700) | 0o010)
        return true
    }
}
