#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import Foundation
import Synchronization
import Testing

/// SIGTERM under load: every request churnd has read is answered (its result, or -32003)
/// before its connection closes. Sixteen clients send single-row predicts back to back, each
/// sending the next as soon as it has an answer (the case a drain that closes a connection the
/// moment it has nothing in flight gets wrong), and stop at their first -32003.
@Suite("Shutdown under load", .serialized)
struct ShutdownUnderLoadTests {
    private struct Tally: Sendable {
        var answered = 0
        var refused = 0
        /// Requests sent that never got an answer: the connection closed under them.
        var lost = 0
        var otherErrors: [String] = []
    }

    @Test func sigtermUnderSixteenClientsAnswersEveryRequest() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        let (daemon, client) = try await harness.launchProcessWithChampion()
        await client.close()

        let tally = Mutex(Tally())
        let socketPath = harness.socketPath
        let finished = DispatchGroup()
        let deadline = Date().addingTimeInterval(30)
        for clientIndex in 0..<16 {
            finished.enter()
            Thread {
                defer { finished.leave() }
                guard let socket = try? RawSocket(path: socketPath) else {
                    tally.withLock { $0.otherErrors.append("client \(clientIndex) could not connect") }
                    return
                }
                var id = 0
                while Date() < deadline {
                    id += 1
                    let customer = customerJSON("c\(clientIndex)-\(id)")
                    let request = #"{"jsonrpc":"2.0","id":\#(id),"method":"predict","params":{"customers":[\#(customer)]}}"#
                    do {
                        try socket.sendFrame(request)
                    } catch {
                        tally.withLock { $0.lost += 1 }
                        return
                    }
                    guard let answer = try? socket.readJSON(timeout: 20) else {
                        tally.withLock { $0.lost += 1 }
                        return
                    }
                    if let error = answer["error"] as? [String: Any] {
                        if error["code"] as? Int == -32003 {
                            tally.withLock { $0.refused += 1 }
                            return
                        }
                        tally.withLock { $0.otherErrors.append("\(error)") }
                        return
                    }
                    tally.withLock { $0.answered += 1 }
                }
            }.start()
        }
        // Under load for a moment, then SIGTERM.
        try await DaemonHarness.waitUntil(seconds: 30) { tally.withLock { $0.answered } >= 2000 }
        #expect(kill(daemon.processIdentifier, SIGTERM) == 0)
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                finished.wait()
                continuation.resume()
            }
        }
        try await DaemonHarness.waitForExit(daemon)
        let result = tally.withLock { $0 }
        #expect(result.lost == 0, "requests that got no answer: \(result.lost) (answered \(result.answered), refused \(result.refused))")
        #expect(result.otherErrors.isEmpty, "\(result.otherErrors)")
        #expect(result.refused == 16, "every client learned of the shutdown by a -32003 answer: \(result.refused)")
        #expect(daemon.terminationStatus == 0, "\(harness.processLog())")
    }
}
