import ChurnData
import Foundation
import Testing

@Suite("Synthetic generator")
struct SyntheticTests {
    @Test func theSameSeedWritesTheSameFiles() throws {
        let folder = NSTemporaryDirectory() + "synthetic-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try SyntheticTelco.write(SyntheticTelco.generate(customers: 500, months: 12, seed: 3), to: folder + "/a")
        let second = try SyntheticTelco.write(SyntheticTelco.generate(customers: 500, months: 12, seed: 3), to: folder + "/b")
        let third = try SyntheticTelco.write(SyntheticTelco.generate(customers: 500, months: 12, seed: 4), to: folder + "/c")
        let bytes = { (path: String) in try Data(contentsOf: URL(fileURLWithPath: path)) }
        #expect(try bytes(first.customers) == bytes(second.customers))
        #expect(try bytes(first.history) == bytes(second.history))
        #expect(try bytes(first.customers) != bytes(third.customers))
    }

    @Test func itsFilesReadBackCleanlyWithARealisticChurnRate() throws {
        let folder = NSTemporaryDirectory() + "synthetic-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let paths = try SyntheticTelco.write(SyntheticTelco.generate(customers: 4000, months: 24, seed: 1), to: folder)
        let (dataset, report) = try DatasetReader.read(
            paths.customers, schema: SyntheticTelco.schema, options: DatasetReadOptions(requireLabel: true))
        #expect(report.badRows == 0 && dataset.customers.count == 4000)
        let rate = Double(dataset.churned!.filter { $0 }.count) / 4000
        #expect((0.18...0.35).contains(rate), "churn rate \(rate)")
        let panel = try MonthlyPanel.read(paths.history, schema: SyntheticTelco.panelSchema)
        #expect(panel.columns == SyntheticTelco.panelColumns)
        let withHistory = dataset.customers.ids.filter { panel.histories[$0] != nil }
        #expect(withHistory.count == dataset.customers.numberColumn("tenure")!.filter { $0 > 0 }.count)
        let longest = panel.histories.values.map(\.count).max()
        #expect(longest == 24, "at most --months months per customer")
    }

    @Test func featuresDoNotEncodeTheLabel() throws {
        // The label is drawn last: features alone separate churners only as well as the latent
        // process allows. A label copied into features would give near-perfect separation.
        let output = SyntheticTelco.generate(customers: 3000, months: 12, seed: 2)
        let tenure = output.dataset.customers.numberColumn("tenure")!
        let auc = Metrics.rocAUC(output.dataset.churned!, tenure.map { -$0 })!
        #expect((0.55...0.9).contains(auc), "short tenure predicts churn, but not perfectly: \(auc)")
    }

    @Test func theOperatorFileIsAnotherShapeAndReadsBackUnderItsSchema() throws {
        let path = NSTemporaryDirectory() + "operator-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let generated = SyntheticOperator.generate(customers: 3000, seed: 5)
        try SyntheticOperator.write(generated, to: path)
        let header = CSVReader.header(of: path)
        #expect(BuiltInSchemas.detect(header: header) == nil, "not a telco file")
        #expect(!header.contains("customerID") && !header.contains("tenure"))
        let (dataset, report) = try DatasetReader.read(path, schema: SyntheticOperator.schema, options: DatasetReadOptions(requireLabel: true))
        #expect(report.generatedIDs && report.badRows == 0)
        #expect(dataset.customers.ids.prefix(2) == ["row-1", "row-2"])
        #expect(dataset.churned == generated.churned)
        #expect(dataset.customers.numberColumn("Data GB")!.contains { $0.isNaN }, "blank data allowance read as missing")
        let rate = Double(dataset.churned!.filter { $0 }.count) / 3000
        #expect((0.08...0.3).contains(rate), "churn rate \(rate)")
        // Service calls carry the signal, but no column is the label.
        let calls = dataset.customers.numberColumn("Customer service calls")!
        let auc = Metrics.rocAUC(dataset.churned!, calls)!
        #expect((0.6...0.9).contains(auc), "service calls predict churn, not perfectly: \(auc)")
    }
}
