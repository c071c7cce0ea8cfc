import ChurnProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

@testable import ChurnRPC

/// The direct path (a `predict` read from its bytes into columns, no tree) must answer exactly
/// as the ordinary path does: the same results, the same errors in the same order.
@Suite("Requests read directly from their bytes")
struct DirectRequestTests {
    /// How the last request's customers arrived.
    private final class Seen: Sendable {
        let byColumn = Mutex<[Bool]>([])
    }
    private let seen = Seen()

    private func table(authorize: (@Sendable (String, PeerCredentials?) -> RPCError?)? = nil) -> RPCMethodTable {
        var table = RPCMethodTable()
        let seen = self.seen
        table.register(DaemonMethod.Predict.self) { params, _ in
            if case .columns = params.sent { seen.byColumn.withLock { $0.append(true) } } else { seen.byColumn.withLock { $0.append(false) } }
            // An answer that shows every field the handler got, in a stable order.
            let predictions = params.customers.enumerated().map { index, customer in
                let fields = customer.fields.keys.sorted().map { "\($0)=\(customer[$0]!)" }.joined(separator: ";")
                return Prediction(
                    customerID: fields + (customer.history.map { " months=\($0.count)" } ?? ""), churnProbability: Double(index) / 10,
                    churn: false, model: ModelRef(name: params.model ?? "none", version: params.log == false ? 0 : 1), arm: "direct")
            }
            return PredictResult(predictions: predictions)
        }
        table.authorize = authorize
        return table
    }

    private func answer(_ text: String, table: RPCMethodTable? = nil, refusing: Set<String> = []) async -> String {
        let dispatch = RPCDispatch(peer: nil, logger: Logger(label: "t"), refuses: { refusing.contains($0) })
        let frame = await (table ?? self.table()).respond(to: ByteBuffer(bytes: Array(text.utf8)), dispatch: dispatch)
        return frame.map { String(buffer: $0) } ?? "(no answer)"
    }

    /// The answers as JSON trees (an error object's members come in no fixed order).
    private func tree(_ answer: String) -> JSONValue? {
        try? JSONParser.parse(Array(answer.utf8))
    }

    /// The same request with `method` after `params`, which the direct path leaves to the ordinary one.
    private func ordinary(_ params: String, id: String = "7") -> String {
        #"{"jsonrpc":"2.0","params":\#(params),"id":\#(id),"method":"predict"}"#
    }

    private func plain(_ params: String, id: String = "7") -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"predict","params":\#(params)}"#
    }

    static let accepted = [
        #"{"customers":[{"customerID":"A-1","tenure":3,"Contract":"Month-to-month","Senior":false,"TotalCharges":null}]}"#,
        #"{"model":"churn@2","customers":[{"customerID":"A","tenure":1},{"tenure":2.5e1,"customerID":"B"}],"log":false}"#,
        #"{ "customers" : [ { "customerID" : "é \"q\" \\ \u00e9 \ud83d\ude00" , "x" : -0.0 } ] , "model" : null , "log" : null }"#,
        #"{"customers":[{"id":1},{"id":2},{"id":3}],"log":true}"#,
    ]

    @Test(arguments: accepted)
    func aPlainPredictIsReadByColumnAndAnsweredAsTheOrdinaryPathAnswers(params: String) async {
        let direct = await answer(plain(params))
        let ordinary = await answer(ordinary(params))
        #expect(tree(direct) != nil && tree(direct) == tree(ordinary), "\(direct)\n\(ordinary)")
        #expect(seen.byColumn.withLock { $0 } == [true, false], "the first went by column, the second as records")
    }

    static let declined = [
        // months inline, a customer with other fields, a repeated field, no customers, a nested value, an unknown member
        #"{"customers":[{"customerID":"A","history":[{"period":"2026-01"}]}]}"#,
        #"{"customers":[{"customerID":"A","tenure":1},{"customerID":"B"}]}"#,
        #"{"customers":[{"customerID":"A"},{"customerID":"B","tenure":1}]}"#,
        #"{"customers":[]}"#,
        #"{"customers":[{"customerID":"A","plan":{"name":"x"}}]}"#,
        #"{"customers":[{"customerID":"A"}],"top":3}"#,
        #"{"customers":[{"":"A"}]}"#,
    ]

    @Test(arguments: declined)
    func whatTheDirectPathDoesNotTakeIsReadTheOrdinaryWayWithTheSameAnswer(params: String) async {
        let direct = await answer(plain(params))
        let ordinary = await answer(ordinary(params))
        #expect(tree(direct) != nil && tree(direct) == tree(ordinary), "\(direct)\n\(ordinary)")
        #expect(seen.byColumn.withLock { $0 }.allSatisfy { !$0 }, "\(params)")
    }

    @Test(arguments: [
        // a repeated member (in a customer, in params, in the envelope), bad JSON, a null id, a bad version
        plainText(#"{"customers":[{"customerID":"A","customerID":"B"}]}"#),
        plainText(#"{"customers":[{"customerID":"A"}],"log":true,"log":false}"#),
        #"{"jsonrpc":"2.0","id":7,"id":8,"method":"predict","params":{"customers":[{"customerID":"A"}]}}"#,
        plainText(#"{"customers":[{"customerID":"A"}]"#),
        #"{"jsonrpc":"2.0","id":null,"method":"predict","params":{"customers":[{"customerID":"A"}]}}"#,
        #"{"jsonrpc":"1.0","id":7,"method":"predict","params":{"customers":[{"customerID":"A"}]}}"#,
        plainText(#"{"customers":[{"customerID":"A"}],"log":"yes"}"#),
    ])
    func badRequestsGetTheOrdinaryPathsExactError(request: String) async {
        let answer = await answer(request)
        #expect(answer.contains(#""error":"#), "\(answer)")
        #expect(seen.byColumn.withLock { $0 }.isEmpty, "nothing ran")
    }

    static func plainText(_ params: String) -> String {
        #"{"jsonrpc":"2.0","id":7,"method":"predict","params":\#(params)}"#
    }

    @Test func aNumericIDIsAnsweredWithTheTextItWasSentWith() async {
        let answer = await answer(plain(Self.accepted[0], id: "1.50"))
        #expect(answer.hasPrefix(#"{"jsonrpc":"2.0","id":1.50,"result":"#), "\(answer)")
        #expect(seen.byColumn.withLock { $0 } == [true])
    }

    @Test func theRoleAndTheDrainAreCheckedBeforeAnythingRuns() async {
        let refusing = table(authorize: { method, _ in RPCError(.permissionDenied, "\(method) needs the operator role") })
        let refused = await answer(plain(Self.accepted[0]), table: refusing)
        let refusedOrdinary = await answer(ordinary(Self.accepted[0]), table: refusing)
        #expect(refused.contains("-32017") && refused.contains("needs the operator role"), "\(refused)")
        #expect(tree(refused) == tree(refusedOrdinary))
        let draining = await answer(plain(Self.accepted[0]), refusing: ["predict"])
        #expect(draining.contains("-32003"), "\(draining)")
        #expect(seen.byColumn.withLock { $0 }.isEmpty, "nothing ran")
    }
}
