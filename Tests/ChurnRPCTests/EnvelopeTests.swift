import ChurnProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

@testable import ChurnRPC

/// A method whose work is done when it answers, with a smaller answer for an oversized one.
enum RecordMethod: RPCMethod {
    static let name = "record"
    struct Params: Codable, Sendable { var size: Int }
    struct Result: Codable, Sendable {
        var recorded: Int
        var detail: String?
    }
    static func compacted(_ result: Result) -> Result? { Result(recorded: result.recorded, detail: nil) }
}

/// Counts how often a handler ran, to prove a refused request ran nothing.
final class RunCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

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
    let runs = RunCounter()

    private var table: RPCMethodTable {
        var table = RPCMethodTable()
        let runs = self.runs
        table.register(EchoMethod.self) { params, _ in
            runs.increment()
            return EchoMethod.Result(count: params.count)
        }
        table.register(RecordMethod.self) { params, _ in
            runs.increment()
            return RecordMethod.Result(recorded: 1, detail: String(repeating: "x", count: params.size))
        }
        table.register(DaemonMethod.Health.self) { _, _ in
            throw RPCError(.shuttingDown, "test")
        }
        return table
    }

    private func respond(_ text: String, maximum: Int = 1 << 20, refusing: Set<String> = []) async throws -> [String: Any]? {
        let dispatch = RPCDispatch(peer: nil, logger: Logger(label: "t"), maximumResponse: maximum, refuses: { refusing.contains($0) })
        guard let frame = await table.respond(to: ByteBuffer(bytes: Array(text.utf8)), dispatch: dispatch) else {
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
        let response = await table.respond(to: frame, dispatch: RPCDispatch(peer: nil, logger: Logger(label: "t")))
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

    @Test func nullIDIsRefusedBeforeAnythingRuns() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":null,"method":"echo","params":{"customers":[],"count":1}}"#)
        #expect(errorCode(response) == -32600)
        #expect(response?["id"] is NSNull)
        #expect(runs.value == 0)
    }

    @Test(arguments: [#""bar""#, "null", "3", "true"])
    func paramsThatAreNotAnObjectAreInvalidParams(params: String) async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":\#(params)}"#)
        #expect(errorCode(response) == -32602)
        let data = (response?["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["field"] as? String == "params")
        #expect(runs.value == 0)
    }

    @Test func aCompletedActionWithAnOversizedAnswerAnswersSmallerInsteadOfFailing() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":4,"method":"record","params":{"size":5000}}"#, maximum: 1000)
        let result = try #require(response?["result"] as? [String: Any])
        #expect(result["recorded"] as? Int == 1)
        #expect(result["detail"] == nil)
        // Without oversize the full answer goes out.
        let full = try await respond(#"{"jsonrpc":"2.0","id":5,"method":"record","params":{"size":50}}"#, maximum: 1000)
        #expect(((full?["result"] as? [String: Any])?["detail"] as? String)?.count == 50)
    }

    @Test func anOversizedAnswerWithoutASmallerFormIsAnErrorNamingTheLimit() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":4,"method":"echo","params":{"customers":[],"count":1}}"#, maximum: 10)
        #expect(errorCode(response) == -32603)
        #expect(((response?["error"] as? [String: Any])?["message"] as? String)?.contains("frame limit of 10 bytes") == true)
    }

    @Test func whileDrainingRefusedMethodsGetShuttingDownAndRunNothing() async throws {
        let response = try await respond(#"{"jsonrpc":"2.0","id":6,"method":"echo","params":{"customers":[],"count":1}}"#, refusing: ["echo"])
        #expect(errorCode(response) == -32003)
        #expect(response?["id"] as? Int == 6)
        #expect(runs.value == 0)
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
