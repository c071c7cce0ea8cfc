import ChurnProtocol
import Foundation
import Testing

/// The predict path's hand-written coding must say exactly what the ordinary coders say.
@Suite("Predict path coding")
struct PredictPathCodingTests {
    static let customers: [CustomerRecord] = [
        ["customerID": "7590-VHVEG", "tenure": 1, "MonthlyCharges": 29.85, "Contract": "Month-to-month", "SeniorCitizen": false,
         "TotalCharges": .null],
        ["customerID": "quote \" backslash \\ newline \n tab \t bell \u{07} é 日本", "tenure": 72, "MonthlyCharges": -0.5],
    ]
    static let predictions = [
        Prediction(customerID: "a", churnProbability: 0.123456789, churn: false, model: ModelRef(name: "churn", version: 3), arm: "champion"),
        Prediction(customerID: "b\"c", churnProbability: 1, churn: true, model: ModelRef(name: "m", version: 12), arm: "challenger"),
        Prediction(customerID: "d", churnProbability: 0.5, churn: true, model: ModelRef(name: "m", version: 12), arm: "direct", history: .stored),
    ]
    /// A record with its months inline.
    static let withMonths = CustomerRecord(
        ["customerID": "SYN-1", "tenure": 3],
        history: [["period": "2026-09", "data_gb": 1.5, "plan": "basic"], ["period": "2026-10", "data_gb": .null, "late": true]])

    /// The JSON a value writes directly, and the JSON the tree encoder writes, as parsed trees.
    private func bothWays<T: Encodable & JSONDirectWriting>(_ value: T) throws -> (direct: JSONValue, tree: JSONValue) {
        var direct: [UInt8] = []
        value.writeJSON(into: &direct)
        return (try JSONParser.parse(direct), try JSONValueEncoder.encode(value))
    }

    @Test func healthIsWrittenDirectlyExactlyAsTheEncoderWouldWriteIt() throws {
        let description = PluginDescription(
            kind: "echo", pluginVersion: "1", protocolVersion: 1, capabilities: ["predict"], summary: "s \"q\"")
        let full = HealthResult(
            status: "degraded", daemonVersion: "0.1.0", pid: 42, uptimeSeconds: 12.25, socket: "/tmp/a \\ b.sock",
            plugins: [
                PluginStatus(kind: "echo", executable: "/x", state: .ready, pid: 7, description: description, restarts: 2, lastError: "exited with status 1"),
                PluginStatus(kind: "lstm", executable: "/y", state: .refused, pid: nil, description: nil, restarts: 0, lastError: nil),
            ],
            champion: ModelRef(name: "churn", version: 3),
            experiment: ExperimentInfo(
                id: 2, model: "churn", mode: .ab, share: 0.1, championVersion: 3, challengerVersion: 4, status: .running,
                startedAt: "2026-11-25T15:00:00.000Z", startedBy: "alice", stoppedAt: nil, stoppedBy: nil, note: nil),
            serving: [ServingSeries(model: ModelRef(name: "churn", version: 3), arm: .champion, requests: 9, customers: 10, errors: 1, p50Milliseconds: 0.21, p99Milliseconds: 0.9)])
        let bare = HealthResult(status: "ok", daemonVersion: "0.1.0", pid: 1, uptimeSeconds: 0, socket: "s", plugins: [], champion: nil)
        for health in [full, bare] {
            let (direct, tree) = try bothWays(health)
            #expect(direct == tree)
        }
    }

    @Test func directWritingEqualsTheEncodableForm() throws {
        let samples: [any Encodable & JSONDirectWriting] = [
            PredictParams(customers: Self.customers), PredictParams(customers: Self.customers, model: "churn@2"),
            PredictParams(customers: Self.customers + [Self.withMonths]),
            PluginPredictParams(model: "churn@3", customers: [Self.withMonths]),
            PredictResult(predictions: Self.predictions), PluginPredictParams(model: "churn@3", customers: Self.customers),
            PluginPredictResult(probabilities: [0, 0.5, 1e-12, 0.9999999999]),
            ProgressUpdate(request: .number(12), stage: "epoch", step: 3, total: 30, message: "epoch 3/30", metrics: ["loss": 0.42]),
            ProgressUpdate(request: .string("a \"b\""), stage: "trees", step: 0, message: ""),
        ]
        for sample in samples {
            let (direct, tree) = try bothWays(sample)
            #expect(direct == tree, "\(type(of: sample))")
        }
        // And Foundation reads the direct text as the same value.
        var bytes: [UInt8] = []
        PredictResult(predictions: Self.predictions).writeJSON(into: &bytes)
        #expect(try JSONDecoder().decode(PredictResult.self, from: Data(bytes)).predictions == Self.predictions)
    }

    @Test func fastDecodingEqualsFoundationDecoding() throws {
        let request = PredictParams(customers: Self.customers + [Self.withMonths], model: "champion")
        let text = try JSONEncoder().encode(request)
        #expect(try JSONValueDecoder.decode(PredictParams.self, fromJSON: Array(text)) == request)
        #expect(try JSONDecoder().decode(PredictParams.self, from: text) == request)
        let plugin = PluginPredictParams(model: "h", customers: Self.customers)
        #expect(try JSONValueDecoder.decode(PluginPredictParams.self, fromJSON: Array(try JSONEncoder().encode(plugin))) == plugin)
        let result = PredictResult(predictions: Self.predictions)
        #expect(try JSONValueDecoder.decode(PredictResult.self, fromJSON: Array(try JSONEncoder().encode(result))) == result)
    }

    @Test func malformedMessagesStillGetPreciseErrors() throws {
        // A nested object where a field belongs: the fast path steps aside, the error names the field.
        let bad = #"{"customers": [{"customerID": "a"}, {"customerID": "b", "tenure": {"months": 3}}]}"#
        do {
            _ = try JSONValueDecoder.decode(PredictParams.self, fromJSON: Array(bad.utf8))
            Issue.record("a nested object was accepted as a field")
        } catch let error as DecodingError {
            guard case .typeMismatch(_, let context) = error else { throw error }
            #expect(context.codingPath.map(\.stringValue) == ["customers", "1", "tenure"])
        }
        let wrongModel = #"{"customers": [], "model": 3}"#
        #expect(throws: DecodingError.self) { try JSONValueDecoder.decode(PredictParams.self, fromJSON: Array(wrongModel.utf8)) }
        let badProbability = #"{"probabilities": [0.5, "high"]}"#
        #expect(throws: DecodingError.self) {
            try JSONValueDecoder.decode(PluginPredictResult.self, fromJSON: Array(badProbability.utf8))
        }
    }
}

/// `predict` params read straight from bytes (``JSONDirectReading``) hold what the ordinary
/// decoder reads from the same text, and the reader declines what it does not take.
@Suite("Predict params read directly")
struct PredictParamsDirectReadingTests {
    private func direct(_ text: String) -> PredictParams? {
        Array(text.utf8).withUnsafeBytes { bytes in
            var reader = JSONReader(bytes)
            guard let params = PredictParams.read(from: &reader), reader.isAtEnd() else { return nil }
            return params
        }
    }

    private func decoded(_ text: String) throws -> PredictParams {
        try JSONValueDecoder.decode(PredictParams.self, from: JSONParser.parse(Array(text.utf8)))
    }

    @Test(arguments: [
        #"{"customers":[{"customerID":"7590-VHVEG","tenure":1,"MonthlyCharges":29.85,"Senior":false,"TotalCharges":null}]}"#,
        #"{"log":false,"customers":[{"a":"x","b":1},{"b":2,"a":"y"},{"a":"z","b":3e2}],"model":"churn@champion"}"#,
        #"{"customers":[{"name":"tab\t é \u00e9 \ud83d\ude00 \"q\" \\"}],"model":null,"log":null}"#,
    ])
    func readsWhatTheDecoderReads(text: String) throws {
        let params = try #require(direct(text))
        guard case .columns(let columns) = params.sent else {
            Issue.record("not read by column")
            return
        }
        let expected = try decoded(text)
        #expect(params == expected)
        #expect(columns.records == expected.customers, "the columns give back exactly the records sent")
        #expect(params.model == expected.model && params.log == expected.log)
    }

    @Test(arguments: [
        #"{"customers":[]}"#, #"{"model":"x"}"#, #"{}"#,
        #"{"customers":[{"a":1}],"customers":[{"a":2}]}"#,
        #"{"customers":[{"a":1,"a":2}]}"#,
        #"{"customers":[{"a":1},{"b":1}]}"#,
        #"{"customers":[{"a":1},{"a":1,"b":2}]}"#,
        #"{"customers":[{"a":1,"b":2},{"a":1}]}"#,
        #"{"customers":[{"a":[1]}]}"#,
        #"{"customers":[{"a":1,"history":[]}]}"#,
        #"{"customers":[{"a":1}],"top":1}"#,
        #"{"customers":[{"a":1}],"log":1}"#,
        #"{"customers":[{"a":1}],"model":3}"#,
        #"{"customers":[{"a":1}]"#,
        #"{"customers":[{"a":01}]}"#,
        #"{"customers":[{"a":"\ud800"}]}"#,
    ])
    func declinesWhatItDoesNotTake(text: String) {
        #expect(direct(text) == nil, "\(text)")
    }
}
