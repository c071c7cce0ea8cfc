import ChurnClient
import ChurnProtocol
import Foundation
import Synchronization
import Testing

@Suite("Daemon over a real socket", .serialized)
struct DaemonIntegrationTests {
    @Test func healthAndPluginsReportReadyAndRefusedPlugins() async throws {
        let harness = try DaemonHarness(kinds: ["echo", "exit_at_start", "old_protocol", "stderr_noise"])
        try await harness.start()
        let client = try await harness.client()
        let plugins = try await client.plugins()
        let byKind = Dictionary(uniqueKeysWithValues: plugins.map { ($0.kind, $0) })
        #expect(byKind["echo"]?.state == "ready")
        #expect(byKind["stderr_noise"]?.state == "ready", "output on stdout/stderr must not break the protocol")
        #expect(byKind["old_protocol"]?.state == "refused")
        #expect(byKind["old_protocol"]?.lastError?.contains("protocol version 999") == true)
        #expect(byKind["exit_at_start"]?.state == "refused")
        #expect(byKind["exit_at_start"]?.lastError?.contains("exited with status 3") == true)

        let health = try await client.health()
        #expect(health.status == "degraded")
        #expect(health.protocolVersion == ChurnProtocolVersion.current)
        #expect(health.champion == nil)
        await client.close()
        try await harness.stop()
    }

    @Test func trainPromotePredictExplainAndRollBackEndToEnd() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let data = try harness.writeTrainingCSV()

        // Before any model: a clear error naming the fix.
        do {
            _ = try await client.predict([testCustomer("a")])
            Issue.record("predict without a champion must fail")
        } catch {
            #expect(error.rpcError?.knownCode == .noChampion)
            #expect(error.description.contains("churn train"))
        }

        let progress = Mutex<[ProgressUpdate]>([])
        let first = try await client.train(TrainParams(kind: "echo", data: data, notes: "first")) { update in
            progress.withLock { $0.append(update) }
        }
        #expect(first.version == 1)
        #expect(first.kind == "echo")
        #expect(first.notes == "first")
        #expect(first.artifact.rawBytes > 0)
        let stages = progress.withLock { $0.map { "\($0.stage) \($0.step)" } }
        #expect(
            stages == ["split 0", "schema 1", "split 1", "epoch 1", "epoch 2", "epoch 3", "evaluate 0", "evaluate 8", "calibrate 1", "register 1"],
            "the daemon's and the plugin's progress arrive in order, before the result")
        #expect(first.metrics["test_roc_auc"] != nil && first.metrics["test_f1"] != nil, "held-back metrics are recorded")
        #expect(first.rocCurve?.first?.falsePositiveRate == 0 && first.rocCurve?.last?.truePositiveRate == 1)
        #expect(first.trainingData?.rows == 40)

        let second = try await client.train(TrainParams(kind: "echo", data: data, params: ["smoothing": 5]))
        #expect(second.version == 2)

        let promoted = try await client.promote("1")
        #expect(promoted == AliasChange(name: "churn", alias: "champion", from: nil, to: 1))
        let predictions = try await client.predict([testCustomer("a", tenure: 1), testCustomer("b", tenure: 70)])
        #expect(predictions.map(\.customerID) == ["a", "b"])
        #expect(predictions.allSatisfy { $0.model == ModelRef(name: "churn", version: 1) && $0.arm == "champion" })
        #expect(predictions[0].churnProbability > predictions[1].churnProbability)

        _ = try await client.promote("churn@2", reason: "more smoothing")
        #expect(try await client.predict([testCustomer("a")])[0].model.version == 2)
        let pinned = try await client.predict([testCustomer("a")], model: "1")
        #expect(pinned[0].model.version == 1 && pinned[0].arm == "direct")

        let explanations = try await client.explain([testCustomer("a")])
        #expect(explanations.count == 1 && explanations[0].explanation.bias != nil)

        let back = try await client.rollback(reason: "test")
        #expect(back == AliasChange(name: "churn", alias: "champion", from: 2, to: 1))
        #expect(try await client.predict([testCustomer("a")])[0].model.version == 1)
        #expect(try await client.health().champion == ModelRef(name: "churn", version: 1))

        let listed = try await client.models()
        #expect(listed.map(\.version) == [2, 1])
        #expect(listed.first { $0.version == 1 }?.aliases == ["champion"])

        await client.close()
        try await harness.stop()
    }

    @Test func badParamsAndUnknownModelsGetPreciseErrors() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let data = try harness.writeTrainingCSV()

        await expectDaemonError(.invalidParams, field: "customers") { () async throws(ChurnClientError) in
            try await client.predict([])
        }
        await expectDaemonError(.invalidParams, field: "params.depth") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: data, params: ["depth": 3]))
        }
        await expectDaemonError(.pluginUnavailable, messageContains: "churn-plugin-gradient-boosting") {
            () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "gradient_boosting", data: data))
        }
        // A local file that is not there: the client says so before sending anything.
        do {
            _ = try await client.train(TrainParams(kind: "echo", data: "/nonexistent/file.csv"))
            Issue.record("training on a missing local file must fail")
        } catch {
            guard case .localFile(let path, let reason) = error else {
                Issue.record("expected a local file error, got \(error)")
                return
            }
            #expect(path == "/nonexistent/file.csv" && reason.contains("no such file"))
        }
        // Named for churnd to read: outside its data roots it is refused, inside but missing a file error.
        await expectDaemonError(.invalidParams, field: "data", messageContains: "outside churnd's data roots") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: "/nonexistent/file.csv"), filesOnServer: true)
        }
        await expectDaemonError(.fileError, field: "data") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: harness.root + "/missing.csv"), filesOnServer: true)
        }
        await expectDaemonError(.modelNotFound) { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")], model: "churn@9")
        }
        // Records are checked against the schema of the version that answers: there must be one.
        _ = try await client.train(TrainParams(kind: "echo", data: data))
        _ = try await client.promote("1")
        await expectDaemonError(.invalidParams, field: "model") { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")], model: "no such@thing")
        }
        await expectDaemonError(.invalidParams, field: "customers[0].customerID") { () async throws(ChurnClientError) in
            try await client.predict([["tenure": 3]])
        }
        var badContract = testCustomer("a")
        badContract["Contract"] = "Three year"
        await expectDaemonError(.invalidParams, field: "customers[1].Contract") { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("ok"), badContract])
        }
        var missingTenure = testCustomer("a")
        missingTenure.fields.removeValue(forKey: "tenure")
        await expectDaemonError(.invalidParams, field: "customers[0].tenure") { () async throws(ChurnClientError) in
            try await client.predict([missingTenure])
        }
        await client.close()
        try await harness.stop()
    }

    @Test func pipelinedRequestsAreAnsweredWithTheirIDs() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()

        // 40 requests in one write: every fourth a slow predict, the rest health checks the
        // daemon answers itself, so answers come back out of order and must keep their ids.
        let socket = try RawSocket(path: harness.socketPath)
        var bytes: [UInt8] = []
        for id in 0..<40 {
            let request =
                id % 4 == 0
                ? #"{"jsonrpc":"2.0","id":\#(id),"method":"predict","params":{"customers":[\#(customerJSON("sleep:\(50 + id)"))]}}"#
                : #"{"jsonrpc":"2.0","id":\#(id),"method":"health"}"#
            bytes += RawSocket.frame(Array(request.utf8))
        }
        try socket.send(bytes)
        var seen: [Int] = []
        for _ in 0..<40 {
            let response = try #require(try socket.readJSON())
            let id = try #require(response["id"] as? Int)
            let result = try #require(response["result"] as? [String: Any])
            if id % 4 == 0 {
                let prediction = try #require((result["predictions"] as? [[String: Any]])?.first)
                #expect(prediction["customerID"] as? String == "sleep:\(50 + id)", "response \(id) carries another request's answer")
            } else {
                #expect(result["status"] != nil, "response \(id) should be a health answer")
            }
            seen.append(id)
        }
        #expect(Set(seen) == Set(0..<40))
        #expect(seen != Array(0..<40), "slow requests must not hold up fast ones")
        socket.close()
        try await harness.stop()
    }

    @Test func manyConcurrentClientsAreServed() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for clientIndex in 0..<32 {
                group.addTask {
                    let client = try await harness.client()
                    var answered = 0
                    for request in 0..<20 {
                        let result = try await client.predict([testCustomer("c\(clientIndex)-\(request)")])
                        if result.first?.customerID == "c\(clientIndex)-\(request)" { answered += 1 }
                    }
                    await client.close()
                    return answered
                }
            }
            var total = 0
            for try await answered in group { total += answered }
            #expect(total == 32 * 20)
        }
        try await harness.stop()
    }
}
