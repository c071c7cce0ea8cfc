import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// Real monthly histories through the daemon: training reads a panel (and stores its months),
/// predictions read months sent inline, else stored, else none, and say which; the store takes
/// appends and corrections, survives a restart, and refuses bad months naming them.
@Suite("Monthly histories through the daemon", .serialized)
struct HistoryTests {
    /// Progress messages of a training run.
    final class Messages: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    private func record(_ fixture: PanelFixture, _ id: String, months: Bool) -> CustomerRecord {
        let row = fixture.generated.dataset.customers.ids.firstIndex(of: id)!
        var record = fixture.generated.dataset.record(at: row)
        if months { record.history = fixture.months(of: id) }
        return record
    }

    @Test func aPanelModelReadsInlineThenStoredMonthsAndSaysWhich() async throws {
        let fixture = try PanelFixture(customers: 1200, seed: 41)
        defer { fixture.remove() }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        try await harness.start()
        let client = try await harness.client()
        let messages = Messages()
        let version = try await client.train(
            TrainParams(kind: "random_forest", data: fixture.customersPath, history: fixture.fullHistoryPath, params: ["n_trees": 80], seed: 1)
        ) { messages.append($0.message) }
        #expect(version.historySource == "panel")
        #expect((version.metrics["test_roc_auc"] ?? 0) > 0.75, "\(version.metrics)")
        let schema = try DatasetSchema.decode(try #require(version.datasetSchema), source: "v1")
        let panel = try #require(schema.history, "the inferred panel is part of the version's schema")
        #expect(panel.inputs.map(\.name) == SyntheticTelco.panelColumns)
        #expect(panel.input(named: "plan")?.type == .categorical && panel.input(named: "support_calls")?.type == .numeric)
        #expect(messages.all.contains { $0.hasPrefix("history: ") && $0.contains("customers have months") }, "\(messages.all)")
        #expect(messages.all.contains { $0.contains("stored the panel's months") })
        _ = try await client.promote("1")

        // A known customer: stored months; the same months inline give the same answer.
        let ids = fixture.generated.dataset.customers.ids.filter { fixture.generated.panel.histories[$0] != nil }
        let known = Array(ids.prefix(20))
        let stored = try await client.predict(known.map { record(fixture, $0, months: false) })
        let inline = try await client.predict(known.map { record(fixture, $0, months: true) })
        #expect(stored.allSatisfy { $0.history == .stored } && inline.allSatisfy { $0.history == .inline })
        #expect(stored.map(\.churnProbability) == inline.map(\.churnProbability))
        // A customer the store does not know is scored without months, and says so.
        var stranger = record(fixture, known[0], months: false)
        stranger["customerID"] = "NEW-1"
        #expect(try await client.predict([stranger]).first?.history == .noMonths)
        let explained = try await client.explain([record(fixture, known[0], months: false)], top: 40)
        #expect(explained.first?.history == .stored)
        #expect(explained.first?.explanation.contributions.contains { $0.feature.hasPrefix("history.") } == true)

        // history.get shows the stored months, oldest first.
        let shown = try await client.history(of: known[0])
        #expect(shown.months.map { $0["period"]?.text } == fixture.months(of: known[0]).map { $0["period"]?.text })

        // Appending a bad month names it, and stores nothing of the call.
        let last = MonthlyPanel.parsePeriod(shown.months.last!["period"]!.text!)!
        var next = shown.months.last!
        next["customerID"] = .string(known[0])
        next["period"] = .string(MonthlyPanel.periodText(last + 1))
        next["dropped_calls"] = 9
        next["support_calls"] = 6
        var bad = next
        bad["period"] = .string(MonthlyPanel.periodText(last + 2))
        bad["support_calls"] = "lots"
        await expectDaemonError(.invalidParams, field: "months[1].support_calls") { () async throws(ChurnClientError) in
            try await client.appendHistory([next, bad])
        }
        #expect(try await client.history(of: known[0]).months.count == shown.months.count)
        // A new month moves the prediction; the same again changes nothing; a correction replaces.
        let appended = try await client.appendHistory([next])
        #expect(appended.appended == 1 && appended.replaced == 0 && appended.customers == 1)
        let moved = try await client.predict([record(fixture, known[0], months: false)])[0]
        #expect(moved.history == .stored && moved.churnProbability != stored[0].churnProbability)
        #expect(try await client.appendHistory([next]).unchanged == 1)
        next["dropped_calls"] = 0
        #expect(try await client.appendHistory([next]).replaced == 1)
        #expect(try await client.history(of: known[0]).months.last?["dropped_calls"] == .number(0))

        // Stored months outlive the daemon.
        await client.close()
        try await harness.stopKeepingState()
        try await harness.start()
        let again = try await harness.client()
        let after = try await again.predict([record(fixture, known[1], months: false)])[0]
        #expect(after.history == .stored && after.churnProbability == stored[1].churnProbability)
        await again.close()
        try await harness.stop()
    }

    @Test func trainingRefusesPanelsItCannotUseAndRegistersNothing() async throws {
        let fixture = try PanelFixture(customers: 300, seed: 42)
        defer { fixture.remove() }
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        func panel(_ name: String, _ text: String) throws -> String {
            let path = harness.root + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let ids = fixture.generated.dataset.customers.ids
        // A panel column that is the label.
        let leaking = try panel("leak.csv", "customer_id,period,calls,Churn\n" + ids.prefix(50).enumerated().map { "\($1),2026-01,\($0 % 4),\($0 % 3 == 0 ? "Yes" : "No")" }.joined(separator: "\n") + "\n")
        await expectDaemonError(.invalidData, messageContains: "Churn") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: fixture.customersPath, history: leaking))
        }
        // No customer in common.
        let strangers = try panel("strangers.csv", "customer_id,period,calls\nX1,2026-01,1\nX2,2026-02,3\n")
        await expectDaemonError(.invalidData, messageContains: "no customer") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: fixture.customersPath, history: strangers))
        }
        // A bad cell, named by line and column.
        let broken = try panel("broken.csv", "customer_id,period,calls\n\(ids[0]),2026-01,1\n\(ids[1]),2026-01,x\n\(ids[1]),2026-01,1\n")
        do {
            _ = try await client.train(
                TrainParams(
                    kind: "echo", data: fixture.customersPath, history: broken,
                    schema: SyntheticTelco.schemaWithHistory.replacingPanel(PanelSchema(columns: [SchemaColumn(name: "calls", type: .numeric)])).jsonValue))
            Issue.record("trained on a broken panel")
        } catch {
            #expect(error.rpcError?.knownCode == .invalidData, "\(error)")
            let errors = error.rpcError?.data?.objectValue?["errors"]?.arrayValue ?? []
            let places = errors.compactMap { $0.objectValue }.map { "\(Int($0["line"]?.numberValue ?? 0)) \($0["column"]?.stringValue ?? "")" }
            #expect(places == ["3 calls"], "\(errors)")
        }
        // Data without ids cannot be joined to months.
        let operatorFile = harness.root + "/operator.csv"
        try SyntheticOperator.write(SyntheticOperator.generate(customers: 200, seed: 1), to: operatorFile)
        await expectDaemonError(.invalidParams, field: "history") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: operatorFile, history: fixture.fullHistoryPath, label: "Churn"))
        }
        // A schema naming a panel, without the file; and a file that is not there.
        await expectDaemonError(.invalidParams, field: "history") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: fixture.customersPath, schema: SyntheticTelco.schemaWithHistory.jsonValue))
        }
        do {
            _ = try await client.train(TrainParams(kind: "echo", data: fixture.customersPath, history: harness.root + "/missing.csv"))
            Issue.record("a missing panel file must be refused")
        } catch {
            guard case .localFile(let path, _) = error else {
                Issue.record("expected a local file error, got \(error)")
                return
            }
            #expect(path.hasSuffix("missing.csv"))
        }
        // And appending months for a model that reads no panel says what to do.
        await expectDaemonError(.invalidParams, field: "model", messageContains: "--history") { () async throws(ChurnClientError) in
            try await client.appendHistory([["customerID": "a", "period": "2026-01", "calls": 1]])
        }
        #expect(try await client.models().isEmpty)
        await client.close()
        try await harness.stop()
    }

    @Test func aRequiredPanelRefusesCustomersWithoutMonths() async throws {
        let fixture = try PanelFixture(customers: 400, seed: 43)
        defer { fixture.remove() }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        try await harness.start()
        let client = try await harness.client()
        var required = SyntheticTelco.panelSchema
        required.required = true
        _ = try await client.train(
            TrainParams(
                kind: "random_forest", data: fixture.customersPath, history: fixture.fullHistoryPath, params: ["n_trees": 10],
                schema: SyntheticTelco.schemaWithHistory.replacingPanel(required).jsonValue))
        let id = fixture.generated.dataset.customers.ids.first { fixture.generated.panel.histories[$0] != nil }!
        var stranger = record(fixture, id, months: false)
        stranger["customerID"] = "NEW-2"
        await expectDaemonError(.invalidParams, field: "customers[1].history") { () async throws(ChurnClientError) in
            try await client.predict([record(fixture, id, months: false), stranger], model: "1")
        }
        // Sent inline, a month with a bad value is named by customer, month and column.
        var inline = record(fixture, id, months: true)
        inline.history![0]["plan"] = "platinum"
        await expectDaemonError(.invalidParams, field: "customers[0].history[0].plan") { () async throws(ChurnClientError) in
            try await client.predict([inline], model: "1")
        }
        await client.close()
        try await harness.stop()
    }

    @Test func anLSTMExplainsStoredMonthsOverTheSocket() async throws {
        let fixture = try PanelFixture(customers: 600, seed: 44)
        defer { fixture.remove() }
        let harness = try DaemonHarness(kinds: [], shipped: ["lstm-attention"])
        try await harness.start()
        let client = try await harness.client()
        let version = try await client.train(
            TrainParams(kind: "lstm_attention", data: fixture.customersPath, history: fixture.fullHistoryPath, params: ["epochs": 2]))
        #expect(version.historySource == "panel")
        let id = fixture.generated.dataset.customers.ids.first { (fixture.generated.panel.histories[$0]?.count ?? 0) >= 14 }!
        let explained = try await client.explain([record(fixture, id, months: false)], model: "1")[0]
        #expect(explained.history == .stored)
        let periods = fixture.months(of: id).map { $0["period"]!.text! }
        #expect(explained.explanation.months?.map(\.period) == Array(periods.suffix(12)))
        #expect(explained.explanation.monthMethod == "attention" && explained.explanation.history == "observed months")
        await client.close()
        try await harness.stop()
    }
}

extension DatasetSchema {
    /// The schema with `panel` as its monthly panel.
    func replacingPanel(_ panel: PanelSchema) -> DatasetSchema {
        var schema = self
        schema.history = panel
        return schema
    }
}
