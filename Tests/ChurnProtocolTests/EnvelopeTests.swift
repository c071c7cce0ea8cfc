import ChurnProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import ChurnRPC

/// A method with required, typed params, to exercise -32602.
enum EchoMethod: RPCMethod {
    static let name = "echo"
    struct Params: Codable, Sendable {
        var customers: [CustomerRecord]
        var count: Int
    }
    struct Result: Codable, Sendable {
        var count: Int
    }
}

@Suite("Envelope and dispatch")
struct EnvelopeTests {
    private var table: RPCMethodTable {
        var table = RPCMethodTable()
        table.register(EchoMethod.self) { params, _ in EchoMethod.Result(count: params.count) }
        table.register(DaemonMethod.Health.self) { _, _ in
            throw RPCError(.shuttingDown, "test")
        }
        return table
    }

    private func respond(_ text: String) async throws -> [String: Any]? {
        guard let frame = await table.respond(to: ByteBuffer(bytes: Array(text.utf8)), peer: nil, logger: Logger(label: "t"), sendNotification: { _ in }) else {
            return nil
        }
        return try JSONSerialization.jsonObject(with: Data(buffer: frame)) as? [String: Any]
    }

    private func errorCode(_ response: [String: Any]?) -> Int? {
        (response?["error"] as? [String: Any])?["code"] as? Int
    }

    @Test func validRequestGetsItsResultWithItsID() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":"abc","method":"echo","params":{"customers":[],"count":3}}"#)
        #expect(response?["id"] as? String == "abc")
        #expect((response?["result"] as? [String: Any])?["count"] as? Int == 3)
    }

    @Test func invalidJSONIsParseError() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":1,"#)
        #expect(errorCode(response) == -32700)
        #expect(response?.keys.contains("id") == true)
        #expect(response?["id"] is NSNull)
    }

    @Test func invalidUTF8IsParseError() async throws {
        let frame = ByteBuffer(bytes: [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])
        let response = await table.respond(to: frame, peer: nil, logger: Logger(label: "t"), sendNotification: { _ in })
        let object = try JSONSerialization.jsonObject(with: Data(buffer: try #require(response))) as? [String: Any]
        #expect(errorCode(object) == -32700)
    }

    @Test(arguments: [
        #"[1,2,3]"#, #""just a string""#, #"{"jsonrpc":"2.0","id":1}"#, #"{"id":1,"method":"echo"}"#,
        #"{"jsonrpc":"1.0","id":1,"method":"echo"}"#, #"{"jsonrpc":"2.0","id":{"x":1},"method":"echo"}"#,
        #"{"jsonrpc":"2.0","id":1,"result":{}}"#,
    ])
    func notARequestIsInvalidRequest(text: String) async throws {
        #expect(errorCode(try await respond(text)) == -32600)
    }

    @Test func unknownMethodIsMethodNotFound() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":5,"method":"nope"}"#)
        #expect(errorCode(response) == -32601)
        #expect(response?["id"] as? Int == 5)
    }

    @Test func wrongParamsNameTheField() async throws {
        let response = try await respond(
            #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"customers":[{"customerID":"a"},{"tenure":[1]}],"count":1}}"#)
        #expect(errorCode(response) == -32602)
        let data = (response?["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["field"] as? String == "customers[1].tenure")
    }

    @Test func missingParamNamesTheField() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"customers":[]}}"#)
        let data = (response?["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(errorCode(response) == -32602)
        #expect(data?["field"] as? String == "count")
    }

    @Test func positionalParamsAreRejected() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":[1,2]}"#)
        #expect(errorCode(response) == -32602)
        #expect(((response?["error"] as? [String: Any])?["message"] as? String)?.contains("object") == true)
    }

    @Test func handlerErrorsKeepTheirCode() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":9,"method":"health"}"#)
        #expect(errorCode(response) == -32003)
    }

    @Test func notificationsAreNeverAnswered() async throws {
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"echo","params":{"customers":[],"count":1}}"#) == nil)
        #expect(try await respond(#"{"jsonrpc":"2.0","method":"nope"}"#) == nil)
    }
}

@Suite("Model references")
struct ModelReferenceTests {
    @Test func parsesVersionsAndAliases() {
        #expect(ModelReference(parsing: "3") == ModelReference(selector: .version(3)))
        #expect(ModelReference(parsing: "churn@3") == ModelReference(name: "churn", selector: .version(3)))
        #expect(ModelReference(parsing: "champion") == .champion())
        #expect(ModelReference(parsing: "retention@challenger") == ModelReference(name: "retention", selector: .alias("challenger")))
    }

    @Test(arguments: ["", "@", "churn@", "@3", "0", "-1", "a@b@c", "churn@3x!", "9lives@1"])
    func rejectsMalformed(text: String) {
        #expect(ModelReference(parsing: text) == nil)
    }
}
