import ChurnClient
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import ChurnTestSupport
import Foundation
import Synchronization
import Testing

@testable import ChurnDaemon

/// Issue 22's wire and access items against a real daemon on a real socket: refused calls
/// audited in bounded rows (6), the role before the params (7), outcome dates (14), ids echoed
/// as sent (15), `describe` (16), repeated member names (18).
@Suite("Protocol hardening against a real daemon", .serialized)
struct ProtocolHardeningTests {
    /// A running daemon of which nobody, not even this test's user, is an admin.
    private func readOnlyDaemon() async throws -> DaemonHarness {
        let harness = try DaemonHarness(kinds: ["echo"])
        var configuration = harness.configuration
        configuration.access = AccessPolicy(adminUsers: [], adminGroups: [])
        try await harness.start(configuration: configuration)
        return harness
    }

    private func error(_ frame: [UInt8]?) throws -> (code: Int?, message: String, data: [String: Any]) {
        let bytes = Data(try #require(frame))
        let object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any], "\(object)")
        return (error["code"] as? Int, error["message"] as? String ?? "", error["data"] as? [String: Any] ?? [:])
    }

    // MARK: 6. Refused calls in the audit log

    @Test func aFloodOfRefusedCallsIsAuditedInTwoRowsThatCountEveryCall() async throws {
        let harness = try await readOnlyDaemon()
        let client = try await harness.client()
        let calls = 500
        let refused = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<calls {
                group.addTask {
                    guard case .failure(let error) = await outcome({ () async throws(ChurnClientError) in try await client.verify() }) else {
                        return false
                    }
                    return error.rpcError?.knownCode == .permissionDenied
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refused == calls)
        // The first refusal is in the log at once; the others are counted for the minute.
        try await DaemonHarness.waitUntil { try await client.audit().contains { $0.action == .refused } }
        let during = try await client.audit().filter { $0.action == .refused }
        #expect(during.map(\.detail) == ["uid \(getuid()) called models.verify without the admin role"])
        await client.close()
        // Stopping the daemon writes what the minute held back, in one row.
        try await harness.stopKeepingState()
        let rows = try await #require(harness.registry).auditLog().filter { $0.action == .refused }
        #expect(rows.count == 2)
        let summary = try #require(rows.first?.detail)
        #expect(
            summary.hasPrefix("uid \(getuid()) called models.verify without the admin role \(calls - 1) more times from 20"),
            "\(summary)")
        try? FileManager.default.removeItem(atPath: harness.root)
    }

    @Test func refusalsAreWrittenFirstThenSummedUpPerUidAndMethodEachWindow() async throws {
        let written = Mutex<[RefusalAudit.Row]>([])
        let rows: @Sendable () -> [RefusalAudit.Row] = { written.withLock { $0 } }
        let audit = RefusalAudit(window: .seconds(1)) { row in written.withLock { $0.append(row) } }
        for _ in 0..<5 { audit.record(uid: 7, user: "u", method: "models.delete") }
        audit.record(uid: 8, user: "v", method: "models.delete")
        audit.record(uid: 7, user: "u", method: "models.verify")
        // The window ends: the four held back are summed up in one row.
        try await DaemonHarness.waitUntil { rows().contains(where: \.repeated) }
        let delete = rows().filter { $0.uid == 7 && $0.method == "models.delete" }
        #expect(delete.map(\.count) == [1, 4])
        #expect(delete.map(\.repeated) == [false, true])
        #expect(delete[1].first <= delete[1].last)
        #expect(rows().filter { $0.uid != 7 || $0.method != "models.delete" }.map(\.count) == [1, 1], "one refusal each: nothing to sum up")
        // After the window, the next refusal is written at once again; finish writes what waits.
        audit.record(uid: 7, user: "u", method: "models.delete")
        audit.record(uid: 7, user: "u", method: "models.delete")
        await audit.finish()
        #expect(rows().filter { $0.uid == 7 && $0.method == "models.delete" }.map(\.count) == [1, 4, 1, 1])
        #expect(rows().map(\.count).reduce(0, +) == 9, "every refusal is counted")
    }

    // MARK: 7. The role before the params

    @Test func aNonAdminCallingAnAdminMethodWithBadParamsGetsPermissionDenied() async throws {
        let harness = try await readOnlyDaemon()
        let socket = try RawSocket(path: harness.socketPath)
        for params in [#""bad""#, "null", "[1]", #"{"model":3}"#] {
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"models.promote","params":\#(params)}"#)
            let (code, message, data) = try error(try socket.readFrame())
            #expect(code == -32017, "params \(params): \(message)")
            #expect(data["method"] as? String == "models.promote")
        }
        try await harness.stop()
    }

    // MARK: 14. Outcome dates

    @Test func feedbackRefusesDatesThatAreNotCalendarDaysNamingTheRow() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        for date in ["2026-02-30", "2026-2-3", "-2026-01-01", "0000-01-01", "2026-02-03T10:00:00Z"] {
            await expectDaemonError(.invalidParams, field: "outcomes[1].date", messageContains: "7590-VHVEG") {
                () async throws(ChurnClientError) in
                try await client.feedback([
                    Outcome(customerID: "3668-QPYBK", churned: false, date: "2026-12-01"),
                    Outcome(customerID: "7590-VHVEG", churned: true, date: date),
                ])
            }
        }
        #expect(try await client.feedback([Outcome(customerID: "a", churned: true, date: "2024-02-29")]).recorded == 1)
        await client.close()
        try await harness.stop()
    }

    // MARK: 15 and 18. Ids as sent, repeated member names

    @Test func theDaemonEchoesIdsAsSentAndRefusesRepeatedNames() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let socket = try RawSocket(path: harness.socketPath)
        for id in ["9007199254740993", "123456789012345678901234567890", "1.0", "1e2"] {
            try socket.sendFrame(#"{"jsonrpc":"2.0","id":\#(id),"method":"health"}"#)
            let answer = String(decoding: try #require(try socket.readFrame()), as: UTF8.self)
            #expect(answer.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"result":"#), "\(answer.prefix(80))")
        }
        try socket.sendFrame(#"{"jsonrpc":"2.0","id":2,"method":"predict","params":{"customers":[\#(customerJSON("a").dropLast()),"tenure":99}]}}"#)
        let (code, message, data) = try error(try socket.readFrame())
        #expect(code == -32700)
        #expect(data["path"] as? String == "params.customers[0]")
        #expect(message.contains(#"member "tenure" appears twice"#), "\(message)")
        try await harness.stop()
    }

    // MARK: 16. describe

    @Test func describeIsAReadMethodListingExactlyTheDocumentedMethods() async throws {
        let harness = try await readOnlyDaemon()
        let client = try await harness.client()
        let description = try await client.call(DaemonMethod.Describe.self, NoParams())
        #expect(description.name == "churnd")
        #expect(description.daemonVersion == ChurnDaemon.version)
        #expect(description.protocolVersion == ChurnProtocolVersion.current)
        #expect(description.methods == description.methods.sorted())
        // The spec's list of daemon methods, and the read methods of the Roles, are what it serves.
        let spec = try String(contentsOfFile: SpecExamples.documentPath, encoding: .utf8)
        let start = try #require(spec.range(of: "\nSummary: "), "PROTOCOL.md lists no daemon methods")
        let summary = String(spec[start.upperBound...]).components(separatedBy: "\n\n")[0]
        let documented = summary.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(Set(description.methods) == Set(documented), "served but not documented, or documented but not served")
        #expect(AccessPolicy.readMethods.isSubset(of: Set(description.methods)), "a read method the daemon does not serve")
        // The documented example matches the answer.
        let examples = try SpecExamples.all()
        let socket = try RawSocket(path: harness.socketPath)
        try socket.sendFrame(Array(try #require(examples["churnd describe request"])))
        let frame = try #require(try socket.readFrame())
        let answer = try JSONDecoder().decode(JSONValue.self, from: Data(frame))
        let documentedAnswer = try JSONDecoder().decode(JSONValue.self, from: try #require(examples["churnd describe response"]))
        #expect(undocumentedDifferences(actual: answer, documented: documentedAnswer) == [])
        await client.close()
        try await harness.stop()
    }
}
