import ChurnData
import ChurnProtocol
import Foundation

/// Synthetic customers with their real months (the project's generator, whose churn signal
/// lives largely in the months), split as training splits them: train and validation files and
/// the validation and training customers' panel for a plugin, and held-back customers as
/// records with their months inline, as a client sends them.
public struct PanelFixture {
    public let folder: String
    public let generated: SyntheticTelco.Output
    /// The held-back customers.
    public let test: Dataset
    public var trainPath: String { folder + "/train.csv" }
    public var validationPath: String { folder + "/validation.csv" }
    /// The months of the train and validation customers (canonical panel CSV).
    public var historyPath: String { folder + "/history.csv" }
    /// The whole generated panel (every customer), as an operator's file.
    public var fullHistoryPath: String { folder + "/all-history.csv" }
    /// The whole generated customers file.
    public var customersPath: String { folder + "/customers.csv" }

    public init(customers: Int, seed: UInt64, splitSeed: UInt64 = 3) throws {
        folder = NSTemporaryDirectory() + "panel-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        generated = SyntheticTelco.generate(customers: customers, months: 24, seed: seed)
        var dataset = generated.dataset
        dataset.schema = SyntheticTelco.schemaWithHistory
        let split = StratifiedSplit.trainValidationTest(dataset.churned!, testFraction: 0.2, validationFraction: 0.2, seed: splitSeed)
        try dataset.rows(split.train).writeCSV(to: folder + "/train.csv")
        try dataset.rows(split.validation).writeCSV(to: folder + "/validation.csv")
        let ids = dataset.customers.ids
        try generated.panel.writeCSV(to: folder + "/history.csv", ids: (split.train + split.validation).map { ids[$0] })
        try generated.panel.writeCSV(to: folder + "/all-history.csv", ids: ids)
        try generated.dataset.writeCSV(to: folder + "/customers.csv")
        test = dataset.rows(split.test)
    }

    /// The schema plugins get: the telco fields and the panel.
    public var schema: JSONValue { SyntheticTelco.schemaWithHistory.canonical.jsonValue }

    /// The held-back customers as records, each with its months inline.
    public func testRecords(withMonths: Bool = true) -> [CustomerRecord] {
        (0..<test.customers.count).map { row in
            var record = test.record(at: row)
            if withMonths { record.history = months(of: test.customers.ids[row]) }
            return record
        }
    }

    /// A customer's months as a record carries them.
    public func months(of id: String) -> [[String: FieldValue]] {
        generated.panel.schema.records(of: generated.panel.histories[id] ?? [])
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
