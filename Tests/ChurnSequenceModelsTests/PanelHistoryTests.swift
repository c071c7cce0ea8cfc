import ChurnData
import ChurnML
import ChurnPluginKit
import ChurnProtocol
import ChurnSequenceModels
import ChurnTestSupport
import Foundation
import Testing

/// The LSTMs on customers' real months: they read the panel (not months derived from tenure
/// and charges), their answers follow the months and never the label, and their explanations
/// name real calendar months with their values.
@Suite("LSTM plugins on a monthly panel", .serialized)
struct PanelHistoryTests {
    private func train(
        _ plugin: SequencePlugin, _ fixture: PanelFixture, panel: Bool, epochs: Int = 12
    ) throws -> (PluginTrainResult, any LoadedChurnModel) {
        let artifact = fixture.folder + "/\(plugin.attention)-\(panel).artifact"
        let result = try plugin.train(
            PluginTrainParams(
                trainPath: fixture.trainPath, validationPath: fixture.validationPath, historyPath: panel ? fixture.historyPath : nil,
                params: ["epochs": .number(Double(epochs))], seed: 2, artifactPath: artifact,
                schema: panel ? fixture.schema : BuiltInSchemas.kaggle.canonical.jsonValue),
            progress: .silent)
        return (result, try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact))))
    }

    @Test(arguments: [false, true])
    func realMonthsBeatTheDerivedFallbackByAWideMargin(attention: Bool) throws {
        let fixture = try PanelFixture(customers: 2500, seed: 21)
        defer { fixture.remove() }
        let plugin = SequencePlugin(attention: attention)
        let (withPanel, panelModel) = try train(plugin, fixture, panel: true)
        let (derived, derivedModel) = try train(plugin, fixture, panel: false)
        #expect(withPanel.historySource == "panel" && derived.historySource == "derived")
        #expect(withPanel.metrics["history_months"] == 12)
        let labels = fixture.test.churned!
        let panelAUC = Metrics.rocAUC(labels, try panelModel.predict(fixture.testRecords()))!
        let derivedAUC = Metrics.rocAUC(labels, try derivedModel.predict(fixture.testRecords(withMonths: false)))!
        #expect(panelAUC >= derivedAUC + 0.05, "panel \(panelAUC) vs derived \(derivedAUC)")
        // Panel columns are ranked by how much shuffling each one costs.
        let panelColumns = withPanel.importances.filter { $0.feature.hasPrefix("history.") }.map { String($0.feature.dropFirst(8)) }
        #expect(Set(panelColumns) == Set(SyntheticTelco.panelColumns), "\(panelColumns)")
        #expect(panelModel.features.contains("history.dropped_calls"))
    }

    @Test func answersFollowTheMonthsAndNeverTheLabel() throws {
        let fixture = try PanelFixture(customers: 1500, seed: 22)
        defer { fixture.remove() }
        let (_, model) = try train(SequencePlugin(attention: false), fixture, panel: true, epochs: 6)
        let records = Array(fixture.testRecords().filter { ($0.history?.count ?? 0) >= 6 }.prefix(60))
        let baseline = try model.predict(records)

        // The label (and anything else the model does not read) changes nothing.
        let relabelled = records.map { record -> CustomerRecord in
            var record = record
            record["Churn"] = .string(record["Churn"]?.text == "Yes" ? "No" : "Yes")
            return record
        }
        #expect(try model.predict(relabelled) == baseline)

        // Another customer's months change the answer; so do no months at all.
        let swapped = records.indices.map { index -> CustomerRecord in
            var record = records[index]
            record.history = records[(index + 1) % records.count].history
            return record
        }
        let moved = zip(try model.predict(swapped), baseline).filter { abs($0 - $1) > 1e-4 }.count
        #expect(moved >= records.count * 9 / 10, "\(moved) of \(records.count) answers moved with the months")
        let bare = records.map { record -> CustomerRecord in
            var record = record
            record.history = nil
            return record
        }
        let withoutMonths = try model.predict(bare)
        #expect(zip(withoutMonths, baseline).filter { abs($0 - $1) > 1e-4 }.count >= records.count * 9 / 10)
        #expect(withoutMonths.allSatisfy { (0...1).contains($0) })

        // The window ends at the customer's own latest month: shifting every period by a year
        // (the same months, later on the calendar) changes nothing.
        let shifted = records.map { record -> CustomerRecord in
            var record = record
            record.history = record.history!.map { month in
                var month = month
                let period = MonthlyPanel.parsePeriod(month["period"]!.text!)! + 12
                month["period"] = .string(MonthlyPanel.periodText(period))
                return month
            }
            return record
        }
        #expect(try model.predict(shifted) == baseline)
    }

    @Test(arguments: [false, true])
    func explanationsNameEachRealMonthWithItsValues(attention: Bool) throws {
        let fixture = try PanelFixture(customers: 1200, seed: 23)
        defer { fixture.remove() }
        let (_, model) = try train(SequencePlugin(attention: attention), fixture, panel: true, epochs: 3)
        let records = Array(fixture.testRecords().prefix(20))
        let explanations = try model.explain(records, top: nil)
        let probabilities = try model.predict(records)
        for (index, record) in records.enumerated() {
            let explanation = explanations[index]
            let periods = (record.history ?? []).map { $0["period"]!.text! }
            #expect(explanation.months?.map(\.period) == Array(periods.suffix(12)))
            #expect(explanation.history == "observed months")
            #expect(explanation.monthMethod == (attention ? "attention" : "occlusion"))
            #expect(abs(explanation.churnProbability - probabilities[index]) < 1e-6)
            if attention, let months = explanation.months, !months.isEmpty {
                #expect(abs(months.reduce(0) { $0 + $1.weight } - 1) < 1e-4)
            }
            // The values shown are the month's own, for the most influential columns.
            if let last = explanation.months?.last, let sent = record.history?.last {
                #expect(last.values.count == 3)
                for (column, value) in last.values { #expect(sent[column] == value, "\(column)") }
            }
        }
    }

    @Test func aBadMonthIsNamedByRecordMonthAndColumn() throws {
        let fixture = try PanelFixture(customers: 800, seed: 24)
        defer { fixture.remove() }
        let (_, model) = try train(SequencePlugin(attention: true), fixture, panel: true, epochs: 1)
        var records = Array(fixture.testRecords().filter { ($0.history?.count ?? 0) >= 2 }.prefix(3))
        records[1].history![1]["support_calls"] = .string("many")
        #expect {
            _ = try model.predict(records)
        } throws: { error in
            (error as? FieldProblem)?.field == "customers[1].history[1].support_calls"
        }
        records[1].history![1]["support_calls"] = .number(2)
        records[2].history![0]["period"] = .string("2026-13")
        #expect {
            _ = try model.predict(records)
        } throws: { error in
            (error as? FieldProblem)?.field == "customers[2].history[0].period"
        }
    }

    @Test func aSchemaWithAPanelNeedsItsFile() throws {
        let fixture = try PanelFixture(customers: 300, seed: 25)
        defer { fixture.remove() }
        #expect {
            _ = try SequencePlugin(attention: false).train(
                PluginTrainParams(
                    trainPath: fixture.trainPath, validationPath: fixture.validationPath, params: ["epochs": 1], seed: 1,
                    artifactPath: fixture.folder + "/x.artifact", schema: fixture.schema),
                progress: .silent)
        } throws: { error in
            (error as? RPCError)?.data?.objectValue?["field"]?.stringValue == "history_path"
        }
    }
}
