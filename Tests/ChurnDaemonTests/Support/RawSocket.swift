#if canImport(Glibc)
import Glibc
#endif
import ChurnRPC
import Foundation

/// A blocking Unix-socket client that sends arbitrary bytes: for testing what the daemon does
/// with input no well-behaved client would send.
final class RawSocket {
    private(set) var descriptor: Int32

    init(path: String) throws {
        guard let descriptor = UnixSocketFile.connectBlocking(path) else {
            throw RawSocketError.system("connect", errno)
        }
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Sends all of `bytes` (in one write call where the kernel allows).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw RawSocketError.system("send", errno) }
            offset += written
        }
    }

    /// Sends `payload` behind a 4-byte big-endian length.
    func sendFrame(_ payload: [UInt8]) throws {
        try send(Self.frame(payload))
    }

    func sendFrame(_ text: String) throws {
        try sendFrame(Array(text.utf8))
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            + payload
    }

    /// Reads one frame; nil when the peer closed the connection first.
    func readFrame(timeout: Double = 10) throws -> [UInt8]? {
        guard let header = try read(count: 4, timeout: timeout) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        return try read(count: length, timeout: timeout)
    }

    /// Reads one frame as a JSON object.
    func readJSON(timeout: Double = 10) throws -> [String: Any]? {
        guard let frame = try readFrame(timeout: timeout) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any]
    }

    /// True when the peer has closed the connection (reads EOF within `timeout`).
    func isClosedByPeer(timeout: Double = 5) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready > 0 {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count <= 0 { return true }
            }
        }
        return false
    }

    private func read(count: Int, timeout: Double) throws -> [UInt8]? {
        var result = [UInt8]()
        result.reserveCapacity(count)
        var buffer = [UInt8](repeating: 0, count: min(max(count, 1), 1 << 16))
        let deadline = Date().addingTimeInterval(timeout)
        while result.count < count {
            let remaining = Int32(max(deadline.timeIntervalSinceNow * 1000, 0))
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, remaining) > 0 else { throw RawSocketError.timeout }
            let received = recv(descriptor, &buffer, min(buffer.count, count - result.count), 0)
            if received == 0 { return nil }
            guard received > 0 else { throw RawSocketError.system("recv", errno) }
            result += buffer[0..<received]
        }
        return result
    }
}

enum RawSocketError: Error, CustomStringConvertible {
    case system(String, Int32)
    case timeout

    var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .timeout: "timed out waiting for the daemon"
        }
    }
}

/// Open file descriptors of this process.
func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}
