import ChurnProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import ChurnRPC

/// The envelope's hard edges (issue 22): repeated member names, ids echoed exactly as sent, and
/// the role check before params are read.
@Suite("Wire hardening")
struct WireHardeningTests {
    let runs = RunCounter()

    private var table: RPCMethodTable {
        var table = RPCMethodTable()
        let runs = self.runs
        table.register(EchoMethod.self) { params, _ in
            runs.increment()
            return EchoMethod.Result(count: params.count)
        }
        return table
    }

    /// The response frame's text, exactly as it would go on the wire.
    private func respond(_ text: String, to table: RPCMethodTable? = nil, peer: PeerCredentials? = nil) async -> String? {
        let dispatch = RPCDispatch(peer: peer, logger: Logger(label: "t"))
        guard let frame = await (table ?? self.table).respond(to: ByteBuffer(bytes: Array(text.utf8)), dispatch: dispatch) else {
            return nil
        }
        return String(buffer: frame)
    }

    private func object(_ text: String?) throws -> [String: Any] {
        let bytes = Data(try #require(text).utf8)
        return try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    }

    private func error(_ text: String?) throws -> (code: Int?, message: String, data: [String: Any]) {
        let error = try #require(try object(text)["error"] as? [String: Any])
        return (error["code"] as? Int, error["message"] as? String ?? "", error["data"] as? [String: Any] ?? [:])
    }

    // MARK: Repeated member names (item 18)

    @Test func aRepeatedMemberNameIsASyntaxErrorNamingTheMemberAndWhere() throws {
        let flat = #"{"a":1,"a":2}"#
        do {
            _ = try JSONParser.parse(Array(flat.utf8))
            Issue.record("a repeated name was accepted")
        } catch {
            #expect(error.offset == 7)
            #expect(error.path == "")
            #expect(error.description == #"member "a" appears twice in one object (send each name once) at byte 7"#)
        }
        let nested = #"{"params":{"customers":[{"customerID":"x"},{"tenure":1,"tenure":2}]}}"#
        do {
            _ = try JSONParser.parse(Array(nested.utf8))
            Issue.record("a repeated name inside params was accepted")
        } catch {
            #expect(error.path == "params.customers[1]")
            #expect(error.offset == nested.utf8.count - #""tenure":2}]}}"#.utf8.count, "the offset is the second \"tenure\"")
            #expect(error.description.hasPrefix(#"params.customers[1]: member "tenure" appears twice"#), "\(error)")
        }
        // The same name in different objects is fine.
        #expect(throws: Never.self) { try JSONParser.parse(Array(#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#.utf8)) }
    }

    @Test func aRequestWithARepeatedMemberIsRefusedAndRunsNothing() async throws {
        for text in [
            #"{"jsonrpc":"2.0","id":1,"id":2,"method":"echo","params":{"customers":[],"count":1}}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"customers":[],"count":1,"count":9}}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"customers":[{"customerID":"a","customerID":"b"}],"count":1}}"#,
        ] {
            let answer = try await respond(text)
            let (code, message, data) = try error(answer)
            #expect(code == -32700, "\(text)")
            #expect(message.contains("appears twice"), "\(message)")
            #expect(data["offset"] is Int)
            #expect(try object(answer)["id"] is NSNull, "a repeated member leaves the id unreadable")
        }
        let (_, message, data) = try error(
            try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"customers":[{"customerID":"a","customerID":"b"}],"count":1}}"#))
        #expect(data["path"] as? String == "params.customers[0]")
        #expect(message.contains(#"params.customers[0]: member "customerID" appears twice"#), "\(message)")
        #expect(runs.value == 0)
    }
}
