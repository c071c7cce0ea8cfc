import ChurnClient
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// Sends PROTOCOL.md's own request examples to a real daemon and checks each answer against the
/// documented response: same JSON types, and no member the spec does not document.
@Suite("PROTOCOL.md examples against a real daemon", .serialized)
struct SpecConformanceTests {
    @Test func documentedRequestsGetDocumentedAnswers() async throws {
        let examples = try SpecExamples.all()
        let harness = try DaemonHarness(kinds: ["echo", "old_protocol"])
        try await harness.start()
        let socket = try RawSocket(path: harness.socketPath)
        let trainingData = try harness.writeTrainingCSV()

        func exchange(_ name: String, edit: (inout [String: JSONValue]) -> Void = { _ in }) throws -> JSONValue {
            let text = try #require(examples["\(name) request"], "no example \(name) request")
            var request = try #require(try JSONDecoder().decode(JSONValue.self, from: text).objectValue)
            edit(&request)
            try socket.sendFrame(Array(try JSONEncoder().encode(JSONValue.object(request))))
            while true {
                let frame = try #require(try socket.readFrame())
                let message = try JSONDecoder().decode(JSONValue.self, from: Data(frame))
                guard message.objectValue?["id"] == nil else { return message }
                // A progress notification ahead of the answer: it must match the documented one.
                let documented = try JSONDecoder().decode(
                    JSONValue.self, from: try #require(examples["progress notification"]))
                #expect(undocumentedDifferences(actual: message, documented: documented) == [])
            }
        }
        func check(_ name: String, _ answer: JSONValue, against documented: String? = nil) throws {
            let key = documented ?? "\(name) response"
            let example = try JSONDecoder().decode(JSONValue.self, from: try #require(examples[key], "no example \(key)"))
            #expect(answer.objectValue?["error"] == nil, "\(name) failed: \(answer)")
            #expect(undocumentedDifferences(actual: answer, documented: example) == [], "\(name)")
        }

        try check("health", try exchange("health"))
        try check("plugins.list", try exchange("plugins.list"))

        // The train example with this machine's plugin kind and data path.
        let trained = try exchange("models.train") { request in
            var params = request["params"]?.objectValue ?? [:]
            params["kind"] = "echo"
            params["data"] = .string(trainingData)
            params["params"] = ["smoothing": 2]
            request["params"] = .object(params)
        }
        try check("models.train", trained)
        let version = try #require(trained.objectValue?["result"]?.objectValue?["version"]?.numberValue)
        _ = try exchange("models.promote") { request in
            request["params"] = ["model": .string("churn@\(Int(version))")]
        }
        try check("models.train", try exchange("models.train") { request in
            request["params"] = ["kind": "echo", "data": .string(trainingData)]
        })
        try check("models.promote", try exchange("models.promote") { request in
            request["params"] = ["model": "churn@2", "reason": "spec example"]
        })
        try check("models.list", try exchange("models.list"))
        try check("models.get", try exchange("models.get"), against: "models.train response")
        try check("models.rollback", try exchange("models.rollback"), against: "models.promote response")
        try check("predict", try exchange("predict"))
        try check("predict.batch", try exchange("predict.batch"))
        try check("explain", try exchange("explain"))

        // Champion is version 1 after the rollback: shadow version 2 beside it.
        try check("experiments.start", try exchange("experiments.start") { request in
            request["params"] = ["challenger": "churn@2", "mode": "shadow", "note": "spec example"]
        })
        try check("predict", try exchange("predict"))
        try check("health", try exchange("health"))
        try check("experiments.status", try exchange("experiments.status"))
        try check("feedback", try exchange("feedback"))
        try check("experiments.report", try exchange("experiments.report"))
        try check("metrics", try exchange("metrics"))
        try check("experiments.stop", try exchange("experiments.stop"))

        let invalid = try exchange("predict") { request in
            request["params"] = ["customers": [["tenure": 1]]]
        }
        let documentedError = try JSONDecoder().decode(
            JSONValue.self, from: try #require(examples["predict invalid-params response"]))
        #expect(invalid.objectValue?["error"] == documentedError.objectValue?["error"])

        // A batch whose Contract codes point past its values is named by its place.
        let malformed = try exchange("predict.batch") { request in
            var params = request["params"]?.objectValue ?? [:]
            var batch = params["batch"]?.objectValue ?? [:]
            var columns = batch["columns"]?.arrayValue ?? []
            columns[15] = ["values": ["Month-to-month"], "codes": [0, 1]]
            batch["columns"] = .array(columns)
            params["batch"] = .object(batch)
            request["params"] = .object(params)
        }
        #expect(
            malformed.objectValue?["error"]?.objectValue?["data"]?.objectValue?["field"]
                == "batch.columns[15].codes[1]", "\(malformed)")

        socket.close()
        try await harness.stop()
    }
}
