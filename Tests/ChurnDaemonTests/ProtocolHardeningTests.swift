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
