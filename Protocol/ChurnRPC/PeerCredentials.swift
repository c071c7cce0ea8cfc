#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Who is connected on a Unix socket, as the kernel reports it (`SO_PEERCRED`).
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// The user's login name, or `uid:N` when the password database has none.
    public var userName: String {
        Self.userName(uid: uid)
    }

    public var description: String { "\(userName) (uid \(uid), pid \(pid))" }

    /// The login name of `uid`, or `uid:N`.
    public static func userName(uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return "uid:\(uid)" }
        return String(cString: name)
    }

    /// The user running this process.
    public static var currentUserName: String { userName(uid: getuid()) }

    /// The peer credentials of a connected Unix-domain channel (Linux), as a future that is
    /// already complete when asked on the channel's event loop; nil where the OS does not tell.
    static func future(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        return readPeerCredentials(provider).map { Optional($0) }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}

#if os(Linux)
/// Linux's `struct ucred` (pid_t, uid_t, gid_t), which Glibc exports only under _GNU_SOURCE.
private struct LinuxPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// `SO_PEERCRED` on Linux.
private let linuxPeerCredentialsOption: Int32 = 17

// Kept non-public and non-inlinable, as NIO's docs require for libc types.
private func readPeerCredentials(_ provider: any SocketOptionProvider) -> EventLoopFuture<PeerCredentials> {
    let future: EventLoopFuture<LinuxPeerCredentials> = provider.unsafeGetSocketOption(
        level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(linuxPeerCredentialsOption))
    return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
}
#endif
