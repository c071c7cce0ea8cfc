import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

/// Retention issue benchmark: how well calibrated each kind's served probabilities are on the
/// held-back rows of the telco file, next to scikit-learn's random forest calibrated with
/// CalibratedClassifierCV on the same split. Goal: ECE <= 0.03 for every kind.
struct CalibrationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration",
        abstract: "Held-back calibration (ECE, Brier) of every kind, before and after, vs scikit-learn's CalibratedClassifierCV.",
        discussion: """
            Trains each kind through churnd on --data (seed 0, 20% held back, 20% of the rest to \
            validate, as `churn train` does), reads each version's calibration record, and runs \
            the scikit-learn peer on the very same split (written here with churnd's own split \
            code). Needs python3 with scikit-learn and pandas.
            """)

    @Option(help: "Labelled telco CSV.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "Kinds to train, comma-separated.")
    var kinds = "random_forest,lstm,lstm_attention"

    func run() async throws {
        guard FileManager.default.fileExists(atPath: data) else {
            throw ValidationError("\(data) is missing: the calibration benchmark runs on the real telco file")
        }
        printHeader("calibration on the held-back rows of \((data as NSString).lastPathComponent)")
        print("kind              method     ECE raw  -> served   Brier raw -> served   ROC-AUC served  goal ECE <= 0.03")
        var ours: [(String, CalibrationRecord)] = []
        for kind in kinds.split(separator: ",").map(String.init) {
            let daemon = try await DaemonProcess.start(kind: kind, data: data)
            defer { daemon.stop() }
            let client = try await ChurnClient.connect(socketPath: daemon.socketPath)
            let version = try await client.model("1")
            await client.close()
            guard let json = version.calibration else { throw ValidationError("\(kind): the version has no calibration record") }
            let record = try JSONValueDecoder.decode(CalibrationRecord.self, from: json)
            ours.append((kind, record))
            print(
                kind.padding(toLength: 18, withPad: " ", startingAt: 0) + record.calibrator.method.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %.4f -> %.4f    %.4f -> %.4f     %.4f          ", record.testECERaw, record.testECE, record.testBrierRaw,
                        record.testBrier, version.metrics["test_roc_auc"] ?? .nan)
                    + (record.testECE <= 0.03 ? "met" : "NOT met"))
        }

        // The peer on churnd's split.
        let schema = BuiltInSchemas.detect(header: CSVReader.header(of: data)) ?? BuiltInSchemas.kaggle
        let (dataset, _) = try DatasetReader.read(data, schema: schema, options: DatasetReadOptions(requireLabel: true))
        let labels = try dataset.requireLabels(file: data)
        let split = StratifiedSplit.trainValidationTest(labels, testFraction: 0.2, validationFraction: 0.2, seed: 0)
        let folder = makeScratchFolder("churn-calibration")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dataset.rows(split.train).writeCSV(to: folder + "/train.csv")
        try dataset.rows(split.validation).writeCSV(to: folder + "/validation.csv")
        try dataset.rows(split.test).writeCSV(to: folder + "/test.csv")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", peerScript("calibration_sklearn.py"), folder + "/train.csv", folder + "/validation.csv", folder + "/test.csv",
            "--label", schema.label.column, "--positive", schema.label.positive[0],
        ] + (schema.id.map { ["--id", $0.name] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let peer = try JSONSerialization.jsonObject(with: output) as? [String: [String: Double]]
        else {
            print("scikit-learn peer failed (pip install scikit-learn pandas)")
            return
        }
        printHeader("scikit-learn RandomForestClassifier + CalibratedClassifierCV (validation rows), same split")
        print("variant           ECE       Brier     ROC-AUC")
        for variant in ["raw", "sigmoid", "isotonic"] {
            guard let values = peer[variant] else { continue }
            print(
                variant.padding(toLength: 18, withPad: " ", startingAt: 0)
                    + String(format: "%.4f    %.4f    %.4f", values["ece"] ?? .nan, values["brier"] ?? .nan, values["roc_auc"] ?? .nan))
        }
        printHeader("summary")
        let best = ["sigmoid", "isotonic"].compactMap { peer[$0]?["ece"] }.min() ?? .nan
        for (kind, record) in ours {
            print(String(format: "%@: served ECE %.4f (goal <= 0.03: %@), scikit-learn's best calibrated forest %.4f, ratio %.2f",
                kind, record.testECE, record.testECE <= 0.03 ? "met" : "NOT met", best, record.testECE / best))
        }
    }
}
