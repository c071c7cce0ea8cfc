import ChurnData
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// Judges an uplift plugin against the generator's known truth, the same way for every kind: it
/// trains on a 6,000-customer campaign with 3,000 held back, then reads the held-back Qini beside
/// 50 random rankings and the truth's own ranking, and the predicted uplift on 3,000 fresh
/// customers by segment. ``failures`` lists every criterion missed, each with its numbers.
public struct UpliftJudge {
    public let heldBackRows: Double?
    public let qini: Double?
    public let bestRandomQini: Double
    public let truthQini: Double
    /// Mean predicted uplift of fresh persuadable and other customers.
    public let persuadableUplift: Double
    public let otherUplift: Double
    /// Persuadable share of the top fifth by predicted uplift, and of everyone.
    public let topFifthShare: Double
    public let baseShare: Double
    public let predictIsUntreated: Bool

    /// Trains through `train(trainPath, validationPath)` (which must write `artifactPath`), loads
    /// the artifact with `load` and measures. Files go to `folder`.
    public init(
        folder: String, artifactPath: String, train: (String, String) throws -> PluginTrainResult,
        load: (Data) throws -> any LoadedChurnModel
    ) throws {
        let campaign = CampaignFixture(customers: 6000, seed: 21)
        let held = CampaignFixture(customers: 3000, seed: 22)
        try campaign.writeTrainingFile(to: folder + "/train.csv")
        try held.writeTrainingFile(to: folder + "/held.csv")
        let result = try train(folder + "/train.csv", folder + "/held.csv")
        heldBackRows = result.metrics["val_rows"]
        qini = result.metrics["val_qini"]

        // Random rankings of the same held-back customers, and the truth's own ranking
        // (persuadables first), which sets the scale: real rankings' Qini coefficients are small.
        let stayed = held.churned.map { !$0 }
        var generator = SeededGenerator(seed: 5)
        bestRandomQini =
            (0..<50).compactMap { _ in
                UpliftMetrics.qiniCoefficient(
                    stayed: stayed, treated: held.treated, scores: held.churned.map { _ in Double.random(in: 0..<1, using: &generator) })
            }.max() ?? .infinity
        truthQini =
            UpliftMetrics.qiniCoefficient(stayed: stayed, treated: held.treated, scores: held.segments.map { $0 == "persuadable" ? 1 : 0 })
            ?? .nan

        // Customers the model never saw.
        let fresh = CampaignFixture(customers: 3000, seed: 23)
        let model = try load(try Data(contentsOf: URL(fileURLWithPath: artifactPath)))
        let answer = try model.uplift(fresh.customers.records)
        let uplift = zip(answer.untreated, answer.treated).map { $0 - $1 }
        let mean = { (rows: [Int]) in rows.reduce(0.0) { $0 + uplift[$1] } / Double(max(rows.count, 1)) }
        persuadableUplift = mean(uplift.indices.filter { fresh.segments[$0] == "persuadable" })
        otherUplift = mean(uplift.indices.filter { fresh.segments[$0] != "persuadable" })
        topFifthShare = fresh.persuadableShare(uplift.indices.sorted { uplift[$0] > uplift[$1] }.prefix(600))
        baseShare = fresh.persuadableShare(uplift.indices)
        predictIsUntreated = try model.predict(fresh.customers.records) == answer.untreated
    }

    /// Every criterion missed: 3,000 rows held back; a Qini above every random ranking's and
    /// over 60% of the truth's; persuadables predicted at least 0.1 more uplift than others; the
    /// top fifth over 1.5x the base persuadable share; `predict` answering without the offer.
    public var failures: [String] {
        var missed: [String] = []
        if heldBackRows != 3000 { missed.append("held-back rows \(heldBackRows.map { "\($0)" } ?? "missing"), not 3000") }
        guard let qini else { return missed + ["no val_qini metric"] }
        if !(qini > bestRandomQini) { missed.append("Qini \(qini) does not beat random rankings (up to \(bestRandomQini))") }
        if !(qini > 0.6 * truthQini) { missed.append("Qini \(qini) is not over 60% of the truth's ranking's \(truthQini)") }
        if !(persuadableUplift - otherUplift > 0.1) {
            missed.append("predicted uplift: persuadable \(persuadableUplift), others \(otherUplift) (want a gap over 0.1)")
        }
        if !(topFifthShare > 1.5 * baseShare) { missed.append("top fifth \(topFifthShare) persuadable vs \(baseShare) overall (want 1.5x)") }
        if !predictIsUntreated { missed.append("predict does not answer for the customer without the offer") }
        return missed
    }
}
