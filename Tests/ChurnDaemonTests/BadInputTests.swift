#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRPC
import ChurnTestSupport
import Foundation
import Testing

/// Hostile and broken input over a real socket. Each time the daemon answers or drops that one
/// connection, keeps serving the others, and ends with the same number of open descriptors.
@Suite("Bad input over a real socket", .serialized)
struct BadInputTests {
    /// Runs `body` against a real churnd process while a bystander client stays connected,
    /// then checks the bystander is still served, the daemon is alive, and its number of open
    /// file descriptors is what it was before.
    private func withDaemon(_ body: (DaemonHarness) async throws -> Void) async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let daemon = try harness.launchProcess()
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try await harness.waitUntilLive()
        try await harness.waitUntilPluginsSettle()
        let bystander = try await harness.client()
        _ = try await bystander.health()
        let descriptors = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/fd").count) ?? -1 }
        let descriptorsBefore = descriptors()

        try await body(harness)

        #expect(daemon.isRunning, "churnd died: \(harness.processLog())")
        #expect(try await bystander.health().protocolVersion == ChurnProtocolVersion.current)
        var descriptorsAfter = descriptors()
        for _ in 0..<100 where descriptorsAfter != descriptorsBefore {
            try await Task.sleep(for: .milliseconds(20))
            descriptorsAfter = descriptors()
        }
        #expect(descriptorsAfter == descriptorsBefore, "churnd's open descriptors: \(descriptorsBefore) before, \(descriptorsAfter) after")
        await bystander.close()
        daemon.terminate()
        try await DaemonHarness.waitForExit(daemon)
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0, "\(harness.processLog())")
    }

    private func errorCode(_ response: [String: Any]?) -> Int? {
        (response?["error"] as? [String: Any])?["code"] as? Int
    }

    @Test func frameSplitIntoSingleBytesIsAnswered() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            for byte in RawSocket.frame(Array(#"{"jsonrpc":"2.0","id":1,"method":"health"}"#.utf8)) {
                try socket.send([byte])
                usleep(200)
            }
            #expect(try socket.readJSON()?["id"] as? Int == 1)
        }
    }

    @Test func framesCoalescedInOneWriteAreAllAnswered() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            var bytes: [UInt8] = []
            for id in 1...5 { bytes += RawSocket.frame(Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"health"}"#.utf8)) }
            try socket.send(bytes)
            var ids: Set<Int> = []
            for _ in 1...5 { ids.insert(try #require(try socket.readJSON()?["id"] as? Int)) }
            #expect(ids == Set(1...5))
        }
    }

    @Test func zeroLengthFrameIsAnsweredThenClosed() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.send([0, 0, 0, 0])
            let response = try socket.readJSON()
            #expect(errorCode(response) == -32600)
            #expect(response?["id"] is NSNull)
            #expect(socket.isClosedByPeer())
        }
    }

    @Test func frameOverTheMaximumIsAnsweredThenClosed() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.send([0x7f, 0xff, 0xff, 0xff, 0x7b])  // claims 2 GiB
            let response = try socket.readJSON()
            #expect(errorCode(response) == -32600)
            #expect(((response?["error"] as? [String: Any])?["message"] as? String)?.contains("exceeds the maximum") == true)
            #expect(socket.isClosedByPeer())
        }
    }

    @Test func truncatedFrameThenDisconnectIsDropped() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.send([0, 0, 1, 0] + Array(#"{"jsonrpc":"2.0","#.utf8))
            socket.close()
        }
    }

    @Test func invalidUTF8AndInvalidJSONAreParseErrorsOnALiveConnection() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.sendFrame([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])
            #expect(errorCode(try socket.readJSON()) == -32700)
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"health""#)
            #expect(errorCode(try socket.readJSON()) == -32700)
            // The connection survives both.
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":2,"method":"health"}"#)
            #expect(try socket.readJSON()?["id"] as? Int == 2)
        }
    }

    @Test func notARequestUnknownMethodAndWrongParams() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.sendFrame(#"{"hello":"world"}"#)
            #expect(errorCode(try socket.readJSON()) == -32600)
            try socket.sendFrame(#"[{"jsonrpc":"2.0","id":1,"method":"health"}]"#)
            #expect(errorCode(try socket.readJSON()) == -32600)
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":3,"method":"models.delete_everything"}"#)
            let unknown = try socket.readJSON()
            #expect(errorCode(unknown) == -32601 && unknown?["id"] as? Int == 3)
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":4,"method":"predict","params":{"customers":"all of them"}}"#)
            let wrong = try socket.readJSON()
            #expect(errorCode(wrong) == -32602)
            #expect(((wrong?["error"] as? [String: Any])?["data"] as? [String: Any])?["field"] as? String == "customers")
        }
    }

    @Test func aNullIDIsRefusedBeforeTheMethodRuns() async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            let data = try harness.writeTrainingCSV()
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":null,"method":"models.train","params":{"kind":"echo","data":"\#(data)"}}"#)
            let frame = try #require(try socket.readFrame(), "no answer")
            #expect(!frame.isEmpty, "a zero-length frame is a protocol error")
            let response = try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any]
            #expect(errorCode(response) == -32600)
            #expect(response?["id"] is NSNull)
            let client = try await harness.client()
            #expect(try await client.models().isEmpty, "the refused request trained a model")
            await client.close()
        }
    }

    @Test(arguments: [#""bar""#, "null", "[]", "7"])
    func paramsThatAreNotAnObjectAreInvalidParams(params: String) async throws {
        try await withDaemon { harness in
            let socket = try RawSocket(path: harness.socketPath)
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":8,"method":"health","params":\#(params)}"#)
            let response = try socket.readJSON()
            #expect(errorCode(response) == -32602, "\(params)")
            #expect(response?["id"] as? Int == 8)
        }
    }

    @Test func aThousandRapidConnectsAreAllAccepted() async throws {
        // 1,000 sockets here and as many in churnd: raise the soft limit the daemon inherits.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let wanted = min(limit.rlim_max, 8192)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try await withDaemon { harness in
            var descriptors: [Int32] = []
            var refused: [Int32] = []
            var address = UnixSocketFile.socketAddress(harness.socketPath)
            for _ in 0..<1000 {
                let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                if result != 0 { refused.append(errno) }
                // Malformed at once: a zero-length frame.
                var zero: [UInt8] = [0, 0, 0, 0]
                _ = Glibc.send(descriptor, &zero, 4, Int32(MSG_NOSIGNAL))
                descriptors.append(descriptor)
            }
            #expect(refused.isEmpty, "\(refused.count) of 1000 connects failed (errno \(refused.first ?? 0): EAGAIN is a full backlog)")
            // Every one of them is read and answered.
            var answered = 0
            for descriptor in descriptors {
                var header = [UInt8](repeating: 0, count: 4)
                var polled = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&polled, 1, 10_000) > 0, recv(descriptor, &header, 4, 0) == 4 { answered += 1 }
            }
            #expect(answered == 1000)
            for descriptor in descriptors { Glibc.close(descriptor) }
        }
    }

    @Test func clientThatNeverSendsDoesNotBlockOthers() async throws {
        try await withDaemon { harness in
            let idle = try RawSocket(path: harness.socketPath)
            let client = try await harness.client()
            for _ in 0..<10 { _ = try await client.health() }
            await client.close()
            idle.close()
        }
    }

    @Test func aThousandRandomFramesNeverCrashTheDaemon() async throws {
        try await withDaemon { harness in
            var generator = SeededGenerator(seed: 20261125)
            var socket = try RawSocket(path: harness.socketPath)
            for round in 0..<1000 {
                let length = Int.random(in: 1...300, using: &generator)
                let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                do {
                    try socket.sendFrame(payload)
                    let response = try socket.readJSON(timeout: 5)
                    if let response {
                        #expect(errorCode(response) != nil, "random bytes got a result in round \(round)")
                    }
                } catch {
                    // A write to a connection the daemon dropped; open a new one.
                    socket = try RawSocket(path: harness.socketPath)
                }
            }
            socket.close()
        }
    }
}

