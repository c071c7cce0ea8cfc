import ChurnData
import ChurnGradientBoosting
import ChurnPluginKit
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// The two-model uplift of boosted trees against the generator's known truth (the offer keeps
/// half of the persuadable churners — month-to-month, under 24 months — and changes nobody else),
/// judged like the forest's.
@Suite("Uplift with boosted trees")
struct UpliftBoostingTests {
    let folder = NSTemporaryDirectory() + "uplift-gb-\(UUID().uuidString.prefix(8))"
    let treatment = TreatmentColumn(column: "arm", treated: "treated")

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func train(_ trainPath: String, validation: String?) throws -> PluginTrainResult {
        try GradientBoostingPlugin().train(
            PluginTrainParams(
                trainPath: trainPath, validationPath: validation, seed: 1, artifactPath: folder + "/uplift.artifact",
                schema: SyntheticTelco.schema.canonical.jsonValue, treatment: treatment),
            progress: ProgressReporter { _ in })
    }

    @Test func theUpliftRankingRecoversThePersuadableSegment() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let campaign = CampaignFixture(customers: 6000, seed: 21)
        let held = CampaignFixture(customers: 3000, seed: 22)
        try campaign.writeTrainingFile(to: folder + "/train.csv")
        try held.writeTrainingFile(to: folder + "/held.csv")
        let result = try train(folder + "/train.csv", validation: folder + "/held.csv")
        let qini = try #require(result.metrics["val_qini"])
        #expect(result.metrics["val_rows"] == 3000)
        let stayed = held.churned.map { !$0 }
        var generator = SeededGenerator(seed: 5)
        let random = (0..<50).compactMap { _ in
            UpliftMetrics.qiniCoefficient(
                stayed: stayed, treated: held.treated, scores: held.churned.map { _ in Double.random(in: 0..<1, using: &generator) })
        }
        #expect(qini > random.max()!, "Qini \(qini) vs random rankings up to \(random.max()!)")
        let truth = try #require(
            UpliftMetrics.qiniCoefficient(stayed: stayed, treated: held.treated, scores: held.segments.map { $0 == "persuadable" ? 1 : 0 }))
        #expect(qini > 0.6 * truth, "Qini \(qini), the truth's ranking \(truth)")

        let fresh = CampaignFixture(customers: 3000, seed: 23)
        let model = try GradientBoostingPlugin().load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/uplift.artifact")))
        let answer = try model.uplift(fresh.customers.records)
        let uplift = zip(answer.untreated, answer.treated).map { $0 - $1 }
        let persuadable = uplift.indices.filter { fresh.segments[$0] == "persuadable" }
        let unaffected = uplift.indices.filter { fresh.segments[$0] != "persuadable" }
        let mean = { (rows: [Int]) in rows.reduce(0.0) { $0 + uplift[$1] } / Double(rows.count) }
        #expect(mean(persuadable) - mean(unaffected) > 0.1, "persuadable \(mean(persuadable)), unaffected \(mean(unaffected))")
        let top = uplift.indices.sorted { uplift[$0] > uplift[$1] }.prefix(600)
        #expect(fresh.persuadableShare(top) > 1.5 * fresh.persuadableShare(uplift.indices))
        #expect(try model.predict(fresh.customers.records) == answer.untreated, "predict answers for the customer without the offer")
        // A plain model is not an uplift model.
        #expect(throws: RPCError.self) { _ = try GradientBoostingPlugin().load(artifact: Data("CHRNGU01".utf8)) }
    }

    @Test func aGroupWithoutBothOutcomesIsRefusedByName() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let campaign = CampaignFixture(customers: 400, seed: 24)
        let rows = campaign.customers.customers.ids.indices.filter { campaign.treated[$0] || !campaign.churned[$0] }
        try campaign.writeTrainingFile(to: folder + "/one-sided.csv", rows: rows)
        #expect {
            try train(folder + "/one-sided.csv", validation: nil)
        } throws: { error in
            "\(error)".contains("the control group has 0 churners") && "\(error)".contains("an uplift model")
        }
    }
}
