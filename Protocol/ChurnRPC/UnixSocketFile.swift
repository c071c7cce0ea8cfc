#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a Unix socket path cannot be used.
public enum UnixSocketPathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another process accepts connections on the path.
    case inUse(path: String)
    /// Something that is not a socket sits at the path; it is never removed.
    case notASocket(path: String)
    /// The path is longer than the kernel's limit for socket addresses.
    case tooLong(path: String, limit: Int)
    /// The folder for the socket could not be created or the file could not be removed.
    case fileSystem(path: String, reason: String)

    public var description: String {
        switch self {
        case .inUse(let path):
            "a live process is already serving at \(path): stop it first, or choose another path with --socket"
        case .notASocket(let path):
            "\(path) exists and is not a socket: remove it yourself or choose another path with --socket"
        case .tooLong(let path, let limit):
            "socket path \(path) is \(path.utf8.count) bytes; Unix sockets allow \(limit): choose a shorter --socket"
        case .fileSystem(let path, let reason):
            "cannot prepare \(path): \(reason)"
        }
    }
}

/// Checks on socket files: is someone listening, is the file stale.
public enum UnixSocketFile {
    /// The longest path a `sockaddr_un` holds, without its terminating zero.
    public static let maximumPathLength: Int = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// True when a process accepts connections at `path` right now.
    public static func isLive(_ path: String) -> Bool {
        guard let descriptor = connectBlocking(path) else { return false }
        close(descriptor)
        return true
    }

    /// A blocking socket connected to `path`, or nil when nothing accepts there. The caller
    /// owns (and closes) the descriptor. For probes, tests and benchmarks; clients use NIO.
    public static func connectBlocking(_ path: String) -> Int32? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = socketAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// The `sockaddr_un` of `path` (cut to the kernel's limit).
    public static func socketAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(maximumPathLength))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Makes `path` ready to bind: refuses a live owner or a non-socket file, removes a stale
    /// socket left by a dead process, creates the parent folder (mode 0700) when missing.
    /// Returns true when a stale socket file was removed.
    @discardableResult
    public static func prepareForBinding(_ path: String) throws(UnixSocketPathError) -> Bool {
        guard path.utf8.count <= maximumPathLength else {
            throw .tooLong(path: path, limit: maximumPathLength)
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(
                    atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .fileSystem(path: parent, reason: error.localizedDescription)
            }
        }
        var status = stat()
        guard lstat(path, &status) == 0 else { return false }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else { throw .notASocket(path: path) }
        if isLive(path) { throw .inUse(path: path) }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .fileSystem(path: path, reason: String(cString: strerror(errno)))
        }
        return true
    }

    /// Removes the socket file at `path` if it is a socket.
    public static func remove(_ path: String) {
        var status = stat()
        if lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFSOCK {
            unlink(path)
        }
    }
}
