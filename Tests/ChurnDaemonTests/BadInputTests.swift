import ChurnClient
import ChurnProtocol
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

