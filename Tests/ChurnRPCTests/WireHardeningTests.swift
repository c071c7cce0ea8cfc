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

    @Test func aSyntaxErrorSaysThePathOfTheValueItIsIn() throws {
        func path(_ text: String) -> String? {
            do {
                _ = try JSONParser.parse(Array(text.utf8))
                return nil
            } catch {
                return error.path
            }
        }
        #expect(path(#"{"a":[1,{"b":[[0],[1,tru]]}]}"#) == "a[1].b[1][1]")
        #expect(path(#"{"a\"b":{"c":"\q"}}"#) == #"a"b.c"#, "names are read with their escapes")
        #expect(path(#"{"a":1,"b":[1,2],"c":}"#) == "c")
        #expect(path(#"{"a":1} x"#) == "")
        // A hostile frame: deep, with long names. The path keeps its inner end, cut to a bound.
        let name = String(repeating: "n", count: 1_000)
        let deep = String(repeating: #"{"\#(name)":"#, count: 400) + "x" + String(repeating: "}", count: 400)
        let long = try #require(path(deep))
        #expect(long.hasPrefix("…") && long.hasSuffix(String(repeating: "n", count: 57) + "..."), "\(long.prefix(80))")
        #expect(long.utf8.count <= 310)
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

    // MARK: Ids echoed exactly (item 15)

    @Test(arguments: [
        "9007199254740992", "9007199254740993", "18446744073709551616", "123456789012345678901234567890", "-9007199254740993",
        "1.0", "1e2", "1E+2", "-0", "0.1", "2.50", "\"9007199254740993\"", "\"\"", "\"a \\\" b\"",
    ])
    func theAnswerCarriesTheIdExactlyAsSent(id: String) async throws {
        let success = try #require(await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"echo","params":{"customers":[],"count":3}}"#))
        #expect(success.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"result":"#), "\(success)")
        // Errors after the id was read carry it too: an unknown method, bad params.
        let unknown = try #require(await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"nope"}"#))
        #expect(unknown.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"error":"#), "\(unknown)")
        let invalid = try #require(await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"echo","params":{"count":"x"}}"#))
        #expect(invalid.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"error":"#), "\(invalid)")
    }

    @Test(arguments: ["true", "[1]", #"{"n":1}"#])
    func anIdThatIsNeitherAStringNorANumberIsInvalidRequest(id: String) async throws {
        let answer = try await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"echo","params":{"customers":[],"count":3}}"#)
        let (code, message, _) = try error(answer)
        #expect(code == -32600)
        #expect(message.contains("must be a string or a number"), "\(message)")
        #expect(try object(answer)["id"] is NSNull)
        #expect(runs.value == 0)
    }

    @Test func aNumericIdKeepsItsTextThroughProgressAndBack() throws {
        let id = RPCID.number(try #require(RPCID.Number(text: "9007199254740993")))
        let frame = try RPCFrames.notification(
            method: ProgressNotification.name, params: ProgressUpdate(request: id, stage: "trees", step: 1, message: "1 tree"))
        #expect(String(buffer: frame).contains(#""request":9007199254740993"#), "\(String(buffer: frame))")
        // Only JSON numbers are numeric ids.
        for text in ["1.0", "-0", "1e2", "123456789012345678901234567890"] { #expect(RPCID.Number(text: text)?.text == text) }
        for text in [" 1", "1 ", "01", "1.", ".5", "1e", "+1", "0x10", "NaN", "", "\"1\""] {
            #expect(RPCID.Number(text: text) == nil, "\(text) is not a JSON number")
        }
        // Ids are equal when their texts are: the client's matching relies on it.
        #expect(RPCID.number(7) == RPCID(member: .number(7), numericText: "7"))
        #expect(RPCID.number(1) != RPCID(member: .number(1), numericText: "1.0"))
    }

    // MARK: The role before the params (item 7)

    @Test(arguments: [#""bad""#, "null", "[1,2]", "3", #"{"count":"not a number"}"#, "{}"])
    func aCallerWithoutTheRoleGetsPermissionDeniedWhateverItsParams(params: String) async throws {
        var table = self.table
        table.authorize = { method, _ in RPCError(.permissionDenied, "\(method) needs the admin role") }
        let answer = try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":\#(params)}"#, to: table)
        #expect(try error(answer).code == -32017, "\(answer ?? "")")
        #expect(runs.value == 0)
        // With the role, the same params are checked as before.
        table.authorize = { _, _ in nil }
        let allowed = try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":\#(params)}"#, to: table)
        #expect(try error(allowed).code == -32602, "\(allowed ?? "")")
    }

    // MARK: Outcome dates (item 14)

    @Test func calendarDatesAreReadStrictlyAndComparedAsDays() throws {
        for text in ["2026-02-03", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"] {
            #expect(try CalendarDate(parsing: text).description == text)
        }
        let refused: [(String, String)] = [
            ("2026-02-30", "month 2 of 2026 has 28 days"), ("1900-02-29", "month 2 of 1900 has 28 days"),
            ("2026-04-31", "month 4 of 2026 has 30 days"), ("2026-13-01", "no month 13"), ("2026-00-10", "no month 0"),
            ("2026-01-00", "month 1 of 2026 has 31 days"), ("0000-01-01", "years run from 0001 to 9999"),
            ("2026-2-3", "expected an ISO 8601 date YYYY-MM-DD"), ("-2026-01-01", "expected an ISO 8601 date"),
            ("+2026-01-01", "expected an ISO 8601 date"), ("2026-02-03T10:00", "expected an ISO 8601 date"),
            ("20260203", "expected an ISO 8601 date"), ("2026/02/03", "expected an ISO 8601 date"), ("", "expected an ISO 8601 date"),
            ("２０２６-02-03", "expected an ISO 8601 date"),
        ]
        for (text, reason) in refused {
            do {
                let date = try CalendarDate(parsing: text)
                Issue.record("\(text) was read as \(date)")
            } catch {
                #expect(error.reason.contains(reason), "\(text): \(error.reason)")
            }
        }
        // As days: February 3 is before December 1, though "2026-2-3" sorts after "2026-12-01" as text.
        let stored = try #require(CalendarDate(storedText: "2026-2-3"))
        #expect(stored == (try CalendarDate(parsing: "2026-02-03")))
        #expect(stored < (try CalendarDate(parsing: "2026-12-01")))
        #expect(try CalendarDate(parsing: "2025-12-31") < (try CalendarDate(parsing: "2026-01-01")))
        for text in ["2026-02-30", "0000-1-1", "-2026-1-1", "2026-123-1", "2026-1-", "26-1-1"] {
            #expect(CalendarDate(storedText: text) == nil, "\(text)")
        }
    }
}

