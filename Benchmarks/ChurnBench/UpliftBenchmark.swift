import ArgumentParser
import ChurnData
import ChurnForest
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// Retention issue benchmark: the uplift forest (a T-learner: one forest on a campaign's treated
/// customers, one on its control group) next to the same method in scikit-learn, on a simulated
/// randomized campaign whose truth is known (the generator's `TreatmentResponse`: the offer keeps
/// half of the persuadable churners, nobody else). Both are judged by the same code on the same
/// held-back campaign customers: the Qini coefficient (0 = random, 1 = best possible) and the
/// share of truly persuadable customers among the top fifth by predicted uplift.
struct UpliftBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uplift",
        abstract: "Qini and recovered persuadables of the uplift forest vs scikit-learn's T-learner on a simulated campaign.")

    @Option(help: "Synthetic customers in the campaign.")
    var customers = 8_000

    @Option(help: "Seed of the customers and of who is treated.")
    var seed: UInt64 = 41

    @Option(help: "Share of the campaign given the offer.")
    var treatedShare = 0.5

    @Option(help: "Share of the campaign held back to judge the rankings.")
    var holdout = 0.3

    @Option(help: "Trees per forest (both sides).")
    var trees = 300

    func run() throws {
        let generated = SyntheticTelco.generate(customers: customers, months: 24, seed: seed)
        let dataset = generated.dataset
        var coin = SeededRandom(seed: seed &* 31 &+ 7)
        let treated = (0..<customers).map { _ in coin.unit() < treatedShare }
        var campaign = dataset
        campaign.churned = TreatmentResponse.campaignOutcomes(of: dataset, treated: treated)
        let segments = (0..<customers).map { TreatmentResponse.segment(of: dataset.record(at: $0)) ?? "" }
        // Held back per arm, stratified by outcome, as churnd does.
        var train: [Int] = []
        var held: [Int] = []
        for arm in [true, false] {
            let rows = treated.indices.filter { treated[$0] == arm }
            let split = StratifiedSplit.holdOut(rows.map { campaign.churned![$0] }, fraction: holdout, seed: arm ? 0 : 1)
            train += split.rest.map { rows[$0] }
            held += split.heldOut.map { rows[$0] }
        }
        train.sort()
        held.sort()
        let folder = makeScratchFolder("churn-uplift")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let arms = { (rows: [Int]) in rows.map { treated[$0] ? "treated" : "control" } }
        try campaign.rows(train).writeCSV(to: folder + "/train.csv", extra: ("arm", arms(train)))
        try campaign.rows(held).writeCSV(to: folder + "/holdout.csv", extra: ("arm", arms(held)))

        let stayed = held.map { !campaign.churned![$0] }
        let given = held.map { treated[$0] }
        func judge(_ scores: [Double]) -> (qini: Double, persuadable: Double) {
            let top = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(held.count / 5)
            let persuadable = Double(top.filter { segments[held[$0]] == "persuadable" }.count) / Double(top.count)
            return (UpliftMetrics.qiniCoefficient(stayed: stayed, treated: given, scores: scores) ?? .nan, persuadable)
        }
        let base = Double(held.filter { segments[$0] == "persuadable" }.count) / Double(held.count)
        printHeader("uplift: simulated campaign of \(customers) synthetic customers, \(Int(treatedShare * 100))% treated, \(held.count) held back")
        print(String(format: "persuadable share among the held-back customers: %.1f%%", base * 100))
        print("ranking                               Qini     persuadable in top 20%   fit s")

        // Ours, in process (the plugin's own train and load).
        let start = ContinuousClock.now
        let result = try RandomForestPlugin().train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", params: ["n_trees": .number(Double(trees))], seed: 0,
                artifactPath: folder + "/uplift.artifact", schema: dataset.schema.canonical.jsonValue,
                treatment: TreatmentColumn(column: "arm", treated: "treated")),
            progress: ProgressReporter { _ in })
        let fit = (ContinuousClock.now - start).seconds
        _ = result
        let model = try RandomForestPlugin().load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/uplift.artifact")))
        let answer = try model.uplift(campaign.rows(held).records)
        let ours = judge(zip(answer.untreated, answer.treated).map { $0 - $1 })
        let byRisk = judge(answer.untreated)
        let truth = judge(held.map { segments[$0] == "persuadable" ? 1 : 0 })
        func line(_ name: String, _ judged: (qini: Double, persuadable: Double), _ seconds: Double?) {
            print(
                name.padding(toLength: 38, withPad: " ", startingAt: 0)
                    + String(format: "%.4f   %5.1f%%                  ", judged.qini, judged.persuadable * 100)
                    + (seconds.map { String(format: "%.2f", $0) } ?? "-"))
        }
        line("churn uplift forest (T-learner)", ours, fit)
        line("churn, ranked by risk (no offer)", byRisk, nil)
        line("the truth (persuadables first)", truth, nil)

        // The peer on the same files.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", peerScript("uplift_sklearn.py"), folder + "/train.csv", folder + "/holdout.csv", "--label",
            dataset.schema.label.name, "--positive", dataset.schema.label.positive[0], "--treatment", "arm",
        ] + (dataset.schema.canonical.id.map { ["--id", $0.name] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let peer = try JSONSerialization.jsonObject(with: output) as? [String: Any],
            let uplift = peer["uplift"] as? [Double], uplift.count == held.count, let seconds = peer["fit_seconds"] as? Double
        else {
            print("scikit-learn peer failed (pip install scikit-learn pandas)")
            return
        }
        let sklearn = judge(uplift)
        line("scikit-learn T-learner (2 forests)", sklearn, seconds)
        print(
            String(
                format: "ours vs scikit-learn: Qini %+.4f (%.2fx), persuadable in top 20%% %+.1f points, fit time %.2fx",
                ours.qini - sklearn.qini, ours.qini / sklearn.qini, (ours.persuadable - sklearn.persuadable) * 100, fit / seconds))
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
