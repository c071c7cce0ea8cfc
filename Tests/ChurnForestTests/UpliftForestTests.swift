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
        let judge = try UpliftJudge(
            folder: folder, artifactPath: folder + "/uplift.artifact", train: { try train($0, validation: $1) },
            load: { try RandomForestPlugin().load(artifact: $0) })
        #expect(judge.failures.isEmpty, "\(judge.failures)")
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
