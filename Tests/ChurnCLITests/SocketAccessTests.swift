#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The `churn` executable against sockets it cannot use: a missing or dead socket says to start
/// a daemon; a socket (or its folder) closed to the user says permission was denied, with the
/// socket's owner, group and mode, and how to be let in. Refusals are real: as root the command
/// runs as `nobody` (runuser); otherwise the modes shut the user out.
@Suite("churn against sockets it cannot use", .serialized)
struct SocketAccessTests {
    static var churn: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent + "/churn"
    }

    /// A scratch folder anyone may enter.
    private func folder() throws -> String {
        let path = "/tmp/churn-socket-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// A Unix socket listening at `path` (nobody accepts on it: connecting is all that is tried).
    private func listen(at path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind \(path): \(String(cString: strerror(errno)))")
        try #require(Glibc.listen(descriptor, 4) == 0)
        return descriptor
    }

    /// `churn health --socket socket` as another user (as root: `nobody`), its exit status and stderr.
    private func health(_ socket: String) throws -> (status: Int32, message: String) {
        let process = Process()
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "nobody", "--", Self.churn, "health", "--socket", socket]
        } else {
            process.executableURL = URL(fileURLWithPath: Self.churn)
            process.arguments = ["health", "--socket", socket]
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }

    /// The user the command runs as.
    private var user: String {
        if getuid() == 0 { return "nobody" }
        return getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid:\(getuid())"
    }

    @Test func aSocketClosedToTheUserSaysPermissionWasDeniedAndHowToBeLetIn() throws {
        let root = try folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/churnd.sock"
        let listener = try listen(at: path)
        defer { close(listener) }
        // Root: the socket is root's and its group's (nobody is in neither). Anyone else: its own, mode 0.
        let mode: mode_t = getuid() == 0 ? 0o660 : 0
        chmod(path, mode)
        let (status, message) = try health(path)
        #expect(status == 77, "EX_NOPERM: \(message)")
        #expect(message.contains("permission denied: you (\(user)) may not use churnd's socket \(path)"), "\(message)")
        #expect(message.contains("mode " + String(format: "%04o", mode)), "\(message)")
        #expect(!message.contains("churn serve"), "a running daemon is not started again: \(message)")
        if getuid() == 0 {
            #expect(message.contains("(owner root, group root, mode 0660)"), "\(message)")
            #expect(message.contains("ask an administrator to add you to group root (e.g. `sudo usermod -aG root nobody`"), "\(message)")
            #expect(message.contains("--socket-group"), "\(message)")
        }
    }

    @Test func aFolderClosedToTheUserIsNamedWithItsOwnerGroupAndMode() throws {
        let root = try folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let closed = root + "/run"
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true)
        let listener = try listen(at: closed + "/churnd.sock")
        defer { close(listener) }
        chmod(closed + "/churnd.sock", 0o666)
        chmod(closed, getuid() == 0 ? 0o750 : 0)
        defer { chmod(closed, 0o755) }
        let (status, message) = try health(closed + "/churnd.sock")
        #expect(status == 77, "\(message)")
        #expect(message.contains("may not enter \(closed), a folder on the way to churnd's socket \(closed)/churnd.sock"), "\(message)")
        if getuid() == 0 { #expect(message.contains("(owner root, group root, mode 0750)"), "\(message)") }
        #expect(!message.contains("churn serve"), "\(message)")
    }

    @Test func noSocketOrADeadOneSaysToStartADaemon() throws {
        let root = try folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = try health(root + "/none.sock")
        #expect(missing.status == 69, "\(missing.message)")
        #expect(missing.message.contains("no daemon at \(root)/none.sock") && missing.message.contains("churn serve"), "\(missing.message)")
        // A socket file left behind by a daemon that stopped: nobody listens (ECONNREFUSED).
        let stale = root + "/stale.sock"
        close(try listen(at: stale))
        chmod(stale, 0o666)
        let dead = try health(stale)
        #expect(dead.status == 69, "\(dead.message)")
        #expect(dead.message.contains("no daemon at \(stale)") && !dead.message.contains("permission denied"), "\(dead.message)")
    }
}
