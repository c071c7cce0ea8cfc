#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRegistry
import Foundation
import Testing

@Suite("Plugin faults", .serialized)
struct FaultTests {
    @Test func killingAPluginMidRequestFailsThoseRequestsThenItComesBack() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        let before = try #require(try await client.plugins().first)
        let pid = try #require(before.pid)

        // A is on the plugin when it dies. B arrives while A's batch is being scored, so it waits in
        // the model's batch queue: it was never sent to the dead process and is answered by the restarted one.
        let slowID = harness.slowCustomerID(3000, name: "a")
        async let inFlight = outcome { () async throws(ChurnClientError) in try await client.predict([testCustomer(slowID)]) }
        try await harness.waitUntilPluginHas("a")
        async let queued = outcome { () async throws(ChurnClientError) in try await client.predict([testCustomer("sleep:10")]) }
        // B is in the batch queue once the daemon's queue gauge counts it.
        try await DaemonHarness.waitUntil {
            try await client.metrics().split(separator: "\n").contains { $0.hasPrefix("churn_batch_queued_requests{") && $0.hasSuffix(" 1.0") }
        }
        #expect(kill(pid, SIGKILL) == 0)

        switch await inFlight {
        case .success: Issue.record("a request in flight on a killed plugin cannot succeed")
        case .failure(let error):
            #expect(error.rpcError?.knownCode == .pluginCrashed, "\(error)")
            #expect(error.description.contains("retry"))
        }
        switch await queued {
        case .success(let predictions): #expect(predictions.first?.customerID == "sleep:10")
        case .failure(let error): Issue.record("a request queued behind the crash must be served by the restarted plugin: \(error)")
        }

        // The daemon restarts it and reloads the champion; later requests succeed.
        var restarted: PluginStatus?
        for _ in 0..<200 {
            if let status = try await client.plugins().first, status.state == "ready", status.restarts == 1 {
                restarted = status
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        let status = try #require(restarted, "plugin was not restarted")
        #expect(status.pid != pid)
        #expect(status.lastError?.contains("signal 9") == true)
        let prediction = try await client.predict([testCustomer("after")])
        #expect(prediction.first?.customerID == "after")
        await client.close()
        try await harness.stop()
    }

    @Test func aPluginThatCrashesOnARequestIsRestartedAndOthersStillWork() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        await expectDaemonError(.pluginCrashed) { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("crash")])
        }
        let answer = try await client.predict([testCustomer("fine")])
        #expect(answer.first?.customerID == "fine")
        await client.close()
        try await harness.stop()
    }

    @Test func aPluginInAnotherLanguageFromTheSpecIsServed() async throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("python3 is missing: install it (apt-get install python3) to run this test")
            return
        }
        let harness = try DaemonHarness(kinds: [])
        let spec = try String(contentsOfFile: specPath, encoding: .utf8)
        let start = try #require(spec.range(of: "```python\n"))
        let end = try #require(spec.range(of: "```", range: start.upperBound..<spec.endIndex))
        let script = "#!\(python)\n" + spec[start.upperBound..<end.lowerBound]
        let path = harness.pluginFolder + "/churn-plugin-base-rate"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        try await harness.start()
        let client = try await harness.client()
        let plugin = try #require(try await client.plugins().first)
        #expect(plugin.kind == "base_rate" && plugin.state == "ready", "\(plugin)")

        let registry = try #require(harness.registry)
        _ = try await registry.register(
            ModelRegistration(name: "churn", kind: "base_rate", pluginVersion: "0.1.0"), artifact: Data("rate".utf8),
            user: "test")
        _ = try await client.promote("1")
        let predictions = try await client.predict([testCustomer("a"), testCustomer("b")])
        #expect(predictions.map(\.churnProbability) == [0.265, 0.265])
        await client.close()
        try await harness.stop()
    }

    private var specPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/PROTOCOL.md").path
    }
}
