import ArgumentParser
import ChurnData
import ChurnForest
import ChurnPluginKit
import ChurnProtocol
import ChurnSequenceModels
import Foundation

/// `churn-bench lstm --history`: what customers' real months are worth, on the generator's
/// panel data (whose churn signal lives in the trajectory). Every kind is trained and scored the
/// way the daemon does it (the plugin's own `train` on a train and validation file, the
/// held-back customers scored with their months inline), on the same stratified folds, with the
/// panel, with the history derived from tenure and charges, and with no history; scikit-learn's
/// random forest on the wide table (one column per panel column and month) on the same folds.
struct HistoryComparison {
    var customers: Int
    var folds: Int
    var seed: UInt64
    var kinds: [String]

    /// Where a variant's months come from.
    enum Source: String, CaseIterable {
        case panel, derived, none
    }

    struct Result {
        var aucs: [Double] = []
        var fitSeconds: [Double] = []
        var meanAUC: Double { aucs.reduce(0, +) / Double(max(aucs.count, 1)) }
        var meanFit: Double { fitSeconds.reduce(0, +) / Double(max(fitSeconds.count, 1)) }
    }

    func run() throws {
        let folder = makeScratchFolder("churn-bench-history")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let generated = SyntheticTelco.generate(customers: customers, months: 24, seed: seed)
        var dataset = generated.dataset
        dataset.schema = SyntheticTelco.schemaWithHistory
        try generated.dataset.writeCSV(to: folder + "/customers.csv")
        try generated.panel.writeCSV(to: folder + "/history.csv", ids: dataset.customers.ids)
        let labels = dataset.churned!
        let splits = StratifiedSplit.folds(labels, k: folds, seed: seed)
        try JSONSerialization.data(withJSONObject: splits.map(\.test)).write(to: URL(fileURLWithPath: folder + "/folds.json"))
        let churnRate = Double(labels.filter { $0 }.count) / Double(labels.count)
        printHeader("generator panel data: \(customers) customers, churn \(String(format: "%.1f%%", 100 * churnRate)), \(folds) stratified folds")
        print("columns per month: \(SyntheticTelco.panelColumns.joined(separator: ", ")); window 12")

        var results: [String: Result] = [:]
        for (index, split) in splits.enumerated() {
            let (fit, validation) = StratifiedSplit.holdOut(split.train.map { labels[$0] }, fraction: 0.2, seed: seed)
            let fold = folder + "/fold\(index + 1)"
            try FileManager.default.createDirectory(atPath: fold, withIntermediateDirectories: true)
            try dataset.rows(fit.map { split.train[$0] }).writeCSV(to: fold + "/train.csv")
            try dataset.rows(validation.map { split.train[$0] }).writeCSV(to: fold + "/validation.csv")
            try generated.panel.writeCSV(to: fold + "/history.csv", ids: split.train.map { dataset.customers.ids[$0] })
            let test = dataset.rows(split.test)
            let testLabels = split.test.map { labels[$0] }
            for kind in kinds {
                for source in Source.allCases {
                    let records = (0..<test.customers.count).map { row -> CustomerRecord in
                        var record = test.record(at: row)
                        if source == .panel {
                            record.history = generated.panel.schema.records(of: generated.panel.histories[test.customers.ids[row]] ?? [])
                        }
                        return record
                    }
                    let (auc, seconds) = try trainAndScore(kind: kind, source: source, fold: fold, records: records, labels: testLabels)
                    results["\(kind)/\(source.rawValue)", default: Result()].aucs.append(auc)
                    results["\(kind)/\(source.rawValue)", default: Result()].fitSeconds.append(seconds)
                    print("fold \(index + 1)  \(padded(kind, 15)) \(padded(source.rawValue, 8))" + String(format: "ROC-AUC %.4f  fit %.2f s", auc, seconds))
                }
            }
        }

        printHeader("scikit-learn random forest on the wide table (same folds)")
        let schema = SyntheticTelco.schemaWithHistory
        let output = try runPeer([
            "/usr/bin/env", "python3", peerScript("history_sklearn.py"), folder, "--id", schema.id!.column, "--label", schema.label.column,
            "--positive", schema.label.positive[0], "--customer", schema.history!.customer, "--period", schema.history!.period,
        ])
        var wide = Result()
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let auc = object["roc_auc"] as? Double, let fit = object["fit_seconds"] as? Double
            else { continue }
            wide.aucs.append(auc)
            wide.fitSeconds.append(fit)
            print(String(format: "fold %d  sklearn wide forest  ROC-AUC %.4f  fit %.2f s  (%d columns)", object["fold"] as? Int ?? 0, auc, fit, object["columns"] as? Int ?? 0))
        }
        guard wide.aucs.count == folds else { throw ValidationError("history_sklearn.py scored \(wide.aucs.count) of \(folds) folds") }

        printHeader("summary: mean ROC-AUC over \(folds) folds (fit seconds per model)")
        for kind in kinds {
            let cells = Source.allCases.map { source -> String in
                let result = results["\(kind)/\(source.rawValue)"]!
                return String(format: "%@ %.4f (%.1f s)", source.rawValue, result.meanAUC, result.meanFit)
            }
            print(padded(kind, 15) + " " + cells.joined(separator: "   "))
        }
        print(padded("sklearn forest", 15) + String(format: " wide %.4f (%.1f s)", wide.meanAUC, wide.meanFit))
        let sequenceKinds = kinds.filter { $0 != "random_forest" }
        if let best = sequenceKinds.max(by: { results["\($0)/panel"]!.meanAUC < results["\($1)/panel"]!.meanAUC }) {
            let ours = results["\(best)/panel"]!.meanAUC
            print(String(format: "best sequence model (%@ with the panel) %.4f vs scikit-learn's wide forest %.4f: %+.4f (goal >= 0)", best, ours, wide.meanAUC, ours - wide.meanAUC))
        }
        for kind in kinds {
            let panel = results["\(kind)/panel"]!.meanAUC
            print(String(format: "%@: the history adds %+.4f over no history, %+.4f over the derived history (goal >= +0.05 over none)",
                kind, panel - results["\(kind)/none"]!.meanAUC, panel - results["\(kind)/derived"]!.meanAUC))
        }
    }

    /// Trains `kind` on the fold's files with `source`'s history and scores `records`.
    private func trainAndScore(kind: String, source: Source, fold: String, records: [CustomerRecord], labels: [Bool]) throws -> (Double, Double) {
        let plugin: any ChurnModelPlugin = kind == "random_forest" ? RandomForestPlugin() : SequencePlugin(attention: kind == "lstm_attention")
        var schema = SyntheticTelco.schemaWithHistory
        if source != .panel { schema.history = nil }
        if source == .none { schema.derivedHistory = nil }
        let artifact = fold + "/\(kind)-\(source.rawValue).artifact"
        let start = nowNanoseconds()
        _ = try plugin.train(
            PluginTrainParams(
                trainPath: fold + "/train.csv", validationPath: fold + "/validation.csv",
                historyPath: source == .panel ? fold + "/history.csv" : nil, params: [:], seed: seed, artifactPath: artifact,
                schema: schema.canonical.jsonValue),
            progress: .silent)
        let seconds = Double(nowNanoseconds() - start) / 1e9
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact)))
        return (Metrics.rocAUC(labels, try model.predict(records))!, seconds)
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
    }

    private func runPeer(_ command: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(command.joined(separator: " ")) failed: pip install scikit-learn pandas")
        }
        return data
    }
}
