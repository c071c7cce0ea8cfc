import ChurnData
import ChurnForest
import ChurnPluginKit
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// The two-forest uplift model against the generator's known truth: the offer keeps half of the
/// persuadable churners (month-to-month, under 24 months) and changes nobody else.
@Suite("Uplift forest")
struct UpliftForestTests {
    let folder = NSTemporaryDirectory() + "uplift-\(UUID().uuidString)"
    let treatment = TreatmentColumn(column: "arm", treated: "treated")

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func train(_ trainPath: String, validation: String?, trees: Int = 100) throws -> PluginTrainResult {
        try RandomForestPlugin().train(
            PluginTrainParams(
                trainPath: trainPath, validationPath: validation, params: ["n_trees": .number(Double(trees))], seed: 1,
                artifactPath: folder + "/uplift.artifact", schema: SyntheticTelco.schema.canonical.jsonValue, treatment: treatment),
            progress: ProgressReporter { _ in })
    }

    @Test func theUpliftRankingRecoversThePersuadableSegmentAndBeatsRandomRankings() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let campaign = CampaignFixture(customers: 6000, seed: 21)
        let held = CampaignFixture(customers: 3000, seed: 22)
        try campaign.writeTrainingFile(to: folder + "/train.csv")
        try held.writeTrainingFile(to: folder + "/held.csv")
        let result = try train(folder + "/train.csv", validation: folder + "/held.csv")
        let qini = try #require(result.metrics["val_qini"])
        #expect(result.metrics["val_rows"] == 3000)

        // Random rankings of the same held-back customers: the model must beat every one of 50.
        let stayed = held.churned.map { !$0 }
        var generator = SeededGenerator(seed: 5)
        let random = (0..<50).compactMap { _ in
            UpliftMetrics.qiniCoefficient(
                stayed: stayed, treated: held.treated, scores: held.churned.map { _ in Double.random(in: 0..<1, using: &generator) })
        }
        #expect(qini > random.max()!, "Qini \(qini) vs random rankings up to \(random.max()!)")
        // The truth's own ranking (persuadables first) sets the scale: Qini coefficients of real
        // rankings are small, since the best possible ranking knows every outcome.
        let truth = try #require(
            UpliftMetrics.qiniCoefficient(stayed: stayed, treated: held.treated, scores: held.segments.map { $0 == "persuadable" ? 1 : 0 }))
        #expect(qini > 0.6 * truth, "Qini \(qini), the truth's ranking \(truth)")

        // On customers neither forest saw: persuadables get far more predicted uplift, and the
        // top fifth by predicted uplift is mostly persuadable.
        let fresh = CampaignFixture(customers: 3000, seed: 23)
        let model = try RandomForestPlugin().load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/uplift.artifact")))
        let answer = try model.uplift(fresh.customers.records)
        let uplift = zip(answer.untreated, answer.treated).map { $0 - $1 }
        let persuadable = uplift.indices.filter { fresh.segments[$0] == "persuadable" }
        let unaffected = uplift.indices.filter { fresh.segments[$0] != "persuadable" }
        let mean = { (rows: [Int]) in rows.reduce(0.0) { $0 + uplift[$1] } / Double(rows.count) }
        #expect(mean(persuadable) - mean(unaffected) > 0.1, "persuadable \(mean(persuadable)), unaffected \(mean(unaffected))")
        let top = uplift.indices.sorted { uplift[$0] > uplift[$1] }.prefix(600)
        #expect(fresh.persuadableShare(top) > 1.5 * fresh.persuadableShare(uplift.indices), "top fifth \(fresh.persuadableShare(top)) vs \(fresh.persuadableShare(uplift.indices)) overall")
        // predict answers for the customer without the offer.
        #expect(try model.predict(fresh.customers.records) == answer.untreated)
    }

    @Test func aGroupWithoutBothOutcomesOrWithoutItsColumnIsRefusedByName() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let campaign = CampaignFixture(customers: 400, seed: 24)
        // Only stayers among the control group.
        let rows = campaign.customers.customers.ids.indices.filter { campaign.treated[$0] || !campaign.churned[$0] }
        try campaign.writeTrainingFile(to: folder + "/one-sided.csv", rows: rows)
        #expect {
            try train(folder + "/one-sided.csv", validation: nil, trees: 5)
        } throws: { error in
            "\(error)".contains("the control group has 0 churners")
        }
        try campaign.writeTrainingFile(to: folder + "/renamed.csv", column: "group")
        #expect {
            try train(folder + "/renamed.csv", validation: nil, trees: 5)
        } throws: { error in
            "\(error)".contains("lacks the treatment column arm")
        }
    }
}
