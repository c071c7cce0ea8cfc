import ChurnData
import ChurnProtocol
import Foundation

/// A randomized retention campaign on synthetic telco customers with a known truth: each
/// customer is treated (given the offer) or control by a seeded coin, and a treated customer's
/// outcome follows the generator's documented response (``TreatmentResponse``: half of the
/// persuadable churners stay, nobody else changes).
public struct CampaignFixture {
    public let customers: Dataset
    /// Given the offer, per row.
    public let treated: [Bool]
    /// The outcome observed after the campaign, per row.
    public let churned: [Bool]
    /// The generator's segment, per row (`persuadable` or `unaffected`).
    public let segments: [String]

    public init(customers count: Int, seed: UInt64, treatedShare: Double = 0.5) {
        let generated = SyntheticTelco.generate(customers: count, months: 24, seed: seed)
        customers = generated.dataset
        var coin = SeededGenerator(seed: seed &* 31 &+ 7)
        let treated = (0..<count).map { _ in Double.random(in: 0..<1, using: &coin) < treatedShare }
        segments = generated.dataset.records.map { TreatmentResponse.segment(of: $0) ?? "" }
        churned = TreatmentResponse.campaignOutcomes(of: generated.dataset, treated: treated)
        self.treated = treated
    }

    /// The customers as a plugin's uplift training file: canonical columns, the observed
    /// outcome as the label, and `column` saying `treated` or `control`.
    public func writeTrainingFile(to path: String, rows: [Int]? = nil, column: String = "arm") throws {
        let rows = rows ?? Array(customers.customers.ids.indices)
        var file = customers.rows(rows)
        file.churned = rows.map { churned[$0] }
        try file.writeCSV(to: path, extra: (column, rows.map { treated[$0] ? "treated" : "control" }))
    }

    /// The customers' fields as an operator's file (the label there is the natural outcome,
    /// which uplift training does not read).
    public func writeCustomers(to path: String) throws {
        try customers.writeCSV(to: path)
    }

    /// The share of persuadable customers among `rows`.
    public func persuadableShare(_ rows: some Collection<Int>) -> Double {
        Double(rows.filter { segments[$0] == "persuadable" }.count) / Double(max(1, rows.count))
    }
}
