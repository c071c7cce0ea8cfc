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
        let (dataset, report) = try TelcoReader.read(paths.customers, options: TelcoReadOptions(requireLabel: true))
        #expect(report.badRows == 0 && dataset.customers.count == 4000)
        let rate = Double(dataset.churned!.filter { $0 }.count) / 4000
        #expect((0.18...0.35).contains(rate), "churn rate \(rate)")
        let panel = try MonthlyPanel.read(paths.history)
        #expect(panel.columns == SyntheticTelco.panelColumns)
        let withHistory = dataset.customers.ids.filter { panel.histories[$0] != nil }
        #expect(withHistory.count == (0..<4000).filter { dataset.customers.number(.tenure, $0) > 0 }.count)
        let longest = panel.histories.values.map(\.count).max()
        #expect(longest == 24, "at most --months months per customer")
    }

    @Test func featuresDoNotEncodeTheLabel() throws {
        // The label is drawn last: features alone separate churners only as well as the latent
        // process allows. A label copied into features would give near-perfect separation.
        let output = SyntheticTelco.generate(customers: 3000, months: 12, seed: 2)
        let tenure = (0..<3000).map { output.dataset.customers.number(.tenure, $0) }
        let auc = Metrics.rocAUC(output.dataset.churned!, tenure.map { -$0 })!
        #expect((0.55...0.9).contains(auc), "short tenure predicts churn, but not perfectly: \(auc)")
    }
}
