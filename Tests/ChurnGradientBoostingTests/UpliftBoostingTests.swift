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
        let judge = try UpliftJudge(
            folder: folder, artifactPath: folder + "/uplift.artifact", train: { try train($0, validation: $1) },
            load: { try GradientBoostingPlugin().load(artifact: $0) })
        #expect(judge.failures.isEmpty, "\(judge.failures)")
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
