#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite
import Foundation

/// Why SQLite could not write (or open) a registry file, in terms an operator can act on.
///
/// SQLite only says "attempt to write a readonly database", "unable to open database file" or
/// "database or disk is full"; the file system says which: the folder's file system is mounted
/// read-only, the disk is full, or this process's user may not write the folder or the file.
enum SQLiteFileProblem {
    /// The cause and the next step, naming the file's folder, for a failure of the file system
    /// under `file`; nil for other failures (SQLite's own message then stands).
    static func reason(_ error: SQLiteError, file: String) -> String? {
        let fileCodes = [SQLITE_READONLY, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_IOERR]
        guard fileCodes.contains(error.code), file != ":memory:", !file.isEmpty else { return nil }
        let folder = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
        let said = "SQLite says: \(error.message)"
        var volume = statvfs()
        if statvfs(folder, &volume) == 0 {
            if volume.f_flag & UInt(ST_RDONLY) != 0 {
                return "its folder \(folder) is on a read-only file system (\(said)): remount it read-write, or move the registry (churnd --home) to a writable disk"
            }
            if error.code == SQLITE_FULL || volume.f_bavail == 0 {
                let free = UInt64(volume.f_bavail) * UInt64(volume.f_frsize)
                return "the disk holding \(folder) is full (\(free / 1024) KiB free; \(said)): free space on it, or move the registry (churnd --home) to a disk with room"
            }
        }
        if access(folder, W_OK) != 0 {
            return "user \(userName) may not write in its folder \(folder) (\(said)): give that user write access to the folder, or move the registry (churnd --home) to a folder it owns"
        }
        if access(file, F_OK) == 0, access(file, W_OK) != 0 {
            return "user \(userName) may not write the file (\(said)): give that user write access to it (and to its -wal and -shm files)"
        }
        if error.code == SQLITE_FULL {
            // Room on the disk, but not for this process (a quota, a file size limit).
            return "the disk holding \(folder) takes no more from this process (a quota or file size limit; \(said)): raise the limit or free space"
        }
        return nil
    }

    /// This process's user, by name and uid.
    private static var userName: String {
        let uid = getuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}
