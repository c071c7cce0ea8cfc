import ChurnClient
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Testing

/// Where the daemon and PROTOCOL.md must agree, and changes that must not happen by accident:
/// aliases made by a typo, champions moved under a running experiment.
@Suite("Aliases, experiments and error codes", .serialized)
struct AliasAndErrorTests {
    private func twoVersions(_ harness: DaemonHarness) async throws -> ChurnClient {
        try await harness.start()
        let client = try await harness.client()
        let data = try harness.writeTrainingCSV()
        _ = try await client.train(TrainParams(kind: "echo", data: data))
        _ = try await client.train(TrainParams(kind: "echo", data: data, params: ["smoothing": 20]))
        _ = try await client.promote("1")
        return client
    }

    @Test func anAliasIsCreatedOnlyWhenAskedAndANearMissSuggestsTheRightOne() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let client = try await twoVersions(harness)
        await expectDaemonError(.invalidParams, field: "alias", messageContains: "did you mean champion?") {
            () async throws(ChurnClientError) in try await client.promote("2", alias: "champoin")
        }
        await expectDaemonError(.invalidParams, field: "alias", messageContains: "did you mean champion?") {
            () async throws(ChurnClientError) in try await client.promote("2", alias: "Champion", createAlias: true)
        }
        await expectDaemonError(.invalidParams, field: "alias", messageContains: "create_alias") {
            () async throws(ChurnClientError) in try await client.promote("2", alias: "prepaid")
        }
        let registry = try #require(harness.registry)
        #expect(try await registry.aliases(of: "churn") == ["champion"], "a refused promote created an alias")

        let created = try await client.promote("2", alias: "prepaid", createAlias: true)
        #expect(created.to == 2 && created.from == nil)
        // Once it exists it moves like any alias.
        #expect(try await client.promote("1", alias: "prepaid").from == 2)
        #expect(try await client.promote("2", alias: "challenger").to == 2)
        await client.close()
        try await harness.stop()
    }

    @Test func theChampionAndChallengerStayPutWhileAnExperimentComparesThem() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let client = try await twoVersions(harness)
        _ = try await client.startExperiment(challenger: "2", mode: "ab", share: 0.5)
        await expectDaemonError(.conflict, messageContains: "churn experiment stop") { () async throws(ChurnClientError) in
            try await client.promote("2")
        }
        await expectDaemonError(.conflict, messageContains: "churn experiment stop") { () async throws(ChurnClientError) in
            try await client.promote("1", alias: "challenger")
        }
        await expectDaemonError(.conflict) { () async throws(ChurnClientError) in try await client.rollback() }
        #expect(try await client.model("champion").version == 1)
        _ = try await client.stopExperiment()
        #expect(try await client.promote("2").to == 2)
        await client.close()
        try await harness.stop()
    }

    @Test func anUnknownModelIsNotFoundAndAKnownOneWithoutAChampionHasNone() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        await expectDaemonError(.noChampion, messageContains: "churn train") { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")])
        }
        _ = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV(), name: "prepaid"))
        await expectDaemonError(.modelNotFound) { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")], model: "nosuch@champion")
        }
        await expectDaemonError(.modelNotFound) { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")], model: "nosuch@1")
        }
        await expectDaemonError(.noChampion) { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("a")], model: "prepaid@champion")
        }
        await client.close()
        try await harness.stop()
    }

    @Test func aPluginOfAnotherProtocolIsAMismatchAndKeepsItsDescription() async throws {
        let harness = try DaemonHarness(kinds: ["echo", "old_protocol"])
        try await harness.start()
        let client = try await harness.client()
        let refused = try #require(try await client.plugins().first { $0.kind == "old_protocol" })
        #expect(refused.state == "refused")
        #expect(refused.description?.protocolVersion == 999, "plugins.list lost what the plugin said in describe")
        let data = try harness.writeTrainingCSV()
        await expectDaemonError(.protocolMismatch, messageContains: "protocol version 999") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "old_protocol", data: data))
        }
        await expectDaemonError(.pluginUnavailable, messageContains: "did you mean echo?") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "ech", data: data))
        }
        await client.close()
        try await harness.stop()
    }

    @Test func badRowsAreRecordsWithLineColumnValueAndMessage() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let path = try harness.writeTrainingCSV()
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines[3] = lines[3].replacingOccurrences(of: "Month-to-month", with: "Weekly")
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try await client.train(TrainParams(kind: "echo", data: path))
            Issue.record("a file with a bad row trained")
        } catch {
            #expect(error.rpcError?.knownCode == .invalidData)
            let first = try #require(error.rpcError?.data?.objectValue?["errors"]?.arrayValue?.first?.objectValue, "\(error)")
            #expect(first["line"]?.numberValue == 4)
            #expect(first["column"]?.stringValue == "Contract")
            #expect(first["value"]?.stringValue == "Weekly")
            #expect(first["message"]?.stringValue?.contains("unknown value for Contract") == true)
            #expect(first["file"]?.stringValue == path)
        }
        await client.close()
        try await harness.stop()
    }

    @Test func healthHasNoServingSeriesBeforeTheFirstCall() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let socket = try RawSocket(path: harness.socketPath)
        try socket.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"health"}"#)
        let result = try #require(try socket.readJSON()?["result"] as? [String: Any])
        #expect(result["serving"] == nil, "\(result["serving"] ?? "")")
        #expect(result["status"] as? String == "ok")
        socket.close()
        try await harness.stop()
    }

    @Test func auditEntriesCarryEveryDocumentedMember() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        _ = try await twoVersions(harness)
        let socket = try RawSocket(path: harness.socketPath)
        try socket.sendFrame(#"{"jsonrpc":"2.0","id":1,"method":"models.audit"}"#)
        let entries = try #require((try socket.readJSON()?["result"] as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.count == 3)
        for entry in entries {
            #expect(Set(entry.keys) == ["at", "user", "action", "model", "from_version", "to_version", "detail"], "\(entry)")
        }
        socket.close()
        try await harness.stop()
    }

    @Test func aRegistrationWhoseFullAnswerIsTooLargeIsStillReported() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        // A version with a long training curve, exported to a file.
        let source = try ModelRegistry(path: harness.root + "/source.sqlite")
        let curve = (1...3000).map { EpochRecord(epoch: $0, values: ["loss": 1 / Double($0), "val_loss": 2 / Double($0)]) }
        let version = try await source.register(
            ModelRegistration(name: "churn", kind: "echo", pluginVersion: "0.0.1", lossCurve: curve),
            artifact: try JSONEncoder().encode(["base_rate": 0.3]), user: "test")
        let file = harness.root + "/big.churnmodel"
        try await source.export(version.ref).write(to: URL(fileURLWithPath: file))

        var configuration = harness.configuration
        configuration.maximumFramePayload = 32_768
        try await harness.start(configuration: configuration)
        let client = try await harness.client()
        let registered = try await client.importModel(file: file)
        #expect(registered.version == 1)
        #expect(registered.lossCurve == nil, "the summary leaves the curve out")
        #expect(try await client.models().count == 1)
        await client.close()
        try await harness.stop()
    }
}
