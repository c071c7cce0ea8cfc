#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A small tmpfs mounted for one test, to fill (a full disk) or remount read-only: the errors
/// then come from the kernel (`ENOSPC`, `EROFS`), through the code under test as in production.
/// Mounting needs root; ``mount(at:megabytes:)`` returns nil elsewhere and the test says it skipped.
public final class ScratchDisk: @unchecked Sendable {
    /// The mount point.
    public let path: String
    private var filler: String { path + "/.filler" }

    private init(path: String) {
        self.path = path
    }

    /// Mounts a tmpfs of `megabytes` at `path` (created if missing); nil without root or when
    /// mounting is not allowed here.
    public static func mount(at path: String, megabytes: Int) -> ScratchDisk? {
        guard getuid() == 0 else { return nil }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", path]) else { return nil }
        return ScratchDisk(path: path)
    }

    /// Writes a filler file until the disk takes no more.
    public func fill() throws {
        let file = open(filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw ScratchDiskError("cannot create \(filler): errno \(errno)") }
        defer { close(file) }
        for size in [1 << 20, 4096, 1] {
            let chunk = [UInt8](repeating: 0, count: size)
            while chunk.withUnsafeBytes({ write(file, $0.baseAddress!, size) }) > 0 {}
            guard errno == ENOSPC else { throw ScratchDiskError("filling \(path) stopped with errno \(errno), not ENOSPC") }
        }
    }

    /// Removes the filler: the disk has room again.
    public func free() {
        unlink(filler)
    }

    /// Remounts the disk read-only (nothing may be open for writing on it).
    public func remountReadOnly() throws {
        guard Self.run("/usr/bin/mount", ["-o", "remount,ro", path]) else {
            throw ScratchDiskError("cannot remount \(path) read-only (is a file on it still open for writing?)")
        }
    }

    /// Unmounts the disk (lazily, should something still hold it).
    public func unmount() {
        if !Self.run("/usr/bin/umount", [path]) { _ = Self.run("/usr/bin/umount", ["-l", path]) }
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Why the scratch disk could not be used as asked.
    public struct ScratchDiskError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The message a test prints when it cannot mount one.
    public static let skipped = "skipped: needs root and tmpfs mounts (run the suite as root, as CI does)"
}
