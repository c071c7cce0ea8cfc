import ArgumentParser
import ChurnData
import ChurnML
import ChurnProtocol
import ChurnSequenceModels
import Foundation

/// LSTM issue benchmark: each sequence plugin's mean ROC-AUC over 3 seeds on scikit-learn's 5
/// folds, next to the Keras reference trained on the very same inputs in the same run; training
/// and prediction speed.
struct SequenceBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstm",
        abstract: "LSTM and LSTM-attention vs a Keras reference: same folds, same inputs, quality and speed.",
        discussion: """
            Needs ../shared/data/telco/telco_train.csv and python3 with tensorflow-cpu and scikit-learn.
            Goals: mean ROC-AUC over 3 seeds >= Keras's - 0.003; 30 epochs <= 0.25x TensorFlow's time;
            batch of 1,409 <= 20 ms; one customer <= 200 µs inside the plugin.

            With --history: the generator's customers and monthly panel instead; every kind trained by its
            plugin with the panel, with the derived history and with none, on the same folds as
            scikit-learn's random forest on the wide table (one column per month). Goals: our best sequence
            model >= scikit-learn's wide forest; the history adds >= 0.05 ROC-AUC over no history.
            """)

    @Flag(help: "Compare with and without real monthly histories on the generator's panel data.")
    var history = false

    @Option(help: "With --history: generated customers.")
    var customers = 5000

    @Option(help: "With --history: stratified folds.")
    var folds = 5

    @Option(help: "With --history: the generator's seed (and the folds').")
    var dataSeed: UInt64 = 7

    @Option(help: "The labelled telco CSV.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "lstm, lstm_attention, or both.")
    var kinds = "both"

    @Option(help: "Seeds per fold for our models.")
    var seeds = 3

    @Option(help: "Seeds per fold for the Keras reference.")
    var kerasSeeds = 1

    @Option(help: "Early-stopping patience for our models (0: 30 epochs like the reference, no validation split).")
    var patience = 0

    @Flag(help: "Skip the Keras reference (our numbers only).")
    var noKeras = false

    func run() async throws {
        if history {
            let chosen = kinds == "both" ? ["random_forest", "lstm", "lstm_attention"] : ["random_forest", kinds]
            return try HistoryComparison(customers: customers, folds: folds, seed: dataSeed, kinds: chosen).run()
        }
        guard let telco = BuiltInSchemas.detect(header: CSVReader.header(of: data)) else {
            throw ValidationError("\(data) is not a Kaggle or IBM telco file")
        }
        let (dataset, _) = try DatasetReader.read(data, schema: telco, options: DatasetReadOptions(requireLabel: true))
        let history = telco.derivedHistory
        let labels = dataset.churned!
        let folds = try peerFolds()
        let folder = makeScratchFolder("churn-bench-lstm")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var foldInputs: [(train: SequenceDataset, trainLabels: [Bool], test: SequenceDataset, testLabels: [Bool])] = []
        var meta: [[String: Any]] = []
        for (index, test) in folds.enumerated() {
            let testSet = Set(test)
            let trainRows = (0..<labels.count).filter { !testSet.contains($0) }
            let schema = FeatureSchema.fit(dataset.customers.rows(trainRows))
            let train = SequencePlugin.inputs(dataset.customers.rows(trainRows), schema: schema, history: history, window: 12)
            let testData = SequencePlugin.inputs(dataset.customers.rows(test), schema: schema, history: history, window: 12)
            foldInputs.append((train, trainRows.map { labels[$0] }, testData, test.map { labels[$0] }))
            let name = "fold\(index + 1)"
            try write(train, trainRows.map { labels[$0] }, to: "\(folder)/\(name)_train")
            try write(testData, test.map { labels[$0] }, to: "\(folder)/\(name)_test")
            meta.append(["name": name, "train": trainRows.count, "test": test.count])
        }
        let first = foldInputs[0].train
        let metaJSON: [String: Any] = [
            "folds": meta, "steps": first.sequences.steps, "features": first.sequences.features, "static": first.staticFeatures.columns,
        ]
        try JSONSerialization.data(withJSONObject: metaJSON).write(to: URL(fileURLWithPath: folder + "/meta.json"))

        for kind in kinds == "both" ? ["lstm", "lstm_attention"] : [kinds] {
            let attention = kind == "lstm_attention"
            printHeader("\(kind): 5 folds (scikit-learn's), \(seeds) seeds each; Keras \(kerasSeeds) seed(s)")
            var ours: [Double] = []
            var ourFitSeconds: [Double] = []
            for (index, fold) in foldInputs.enumerated() {
                var aucs: [Double] = []
                for seed in 0..<seeds {
                    var configuration = try SequenceParameters.parse(["patience": .number(Double(patience))], attention: attention)
                    configuration.patience = patience
                    let model = SequenceModel(
                        configuration: configuration, staticFeatures: fold.train.staticFeatures.columns,
                        stepFeatures: fold.train.sequences.features, seed: UInt64(seed))
                    var training = fold.train
                    var trainingLabels = fold.trainLabels
                    var validation: (SequenceDataset, [Bool])?
                    if patience > 0 {
                        let (rest, held) = StratifiedSplit.holdOut(fold.trainLabels, fraction: 0.2, seed: UInt64(seed))
                        validation = (subset(fold.train, held), held.map { fold.trainLabels[$0] })
                        training = subset(fold.train, rest)
                        trainingLabels = rest.map { fold.trainLabels[$0] }
                    }
                    let start = nowNanoseconds()
                    _ = SequenceTrainer.fit(model, train: training, labels: trainingLabels, validation: validation, seed: UInt64(seed))
                    ourFitSeconds.append(Double(nowNanoseconds() - start) / 1e9)
                    aucs.append(Metrics.rocAUC(fold.testLabels, SequenceTrainer.predict(model, fold.test).map(Double.init))!)
                }
                let mean = aucs.reduce(0, +) / Double(aucs.count)
                ours.append(mean)
                print(String(format: "fold %d: churn ROC-AUC %.4f (seeds: %@)", index + 1, mean, aucs.map { String(format: "%.4f", $0) }.joined(separator: ", ")))
            }
            let ourMean = ours.reduce(0, +) / Double(ours.count)
            let ourFit = ourFitSeconds.reduce(0, +) / Double(ourFitSeconds.count)
            print(String(format: "churn %@: mean ROC-AUC %.4f; fit %.2f s per model (%d epochs max)", kind, ourMean, ourFit, 30))
            if !noKeras {
                let keras = try runKeras(folder: folder, attention: attention)
                let kerasMean = keras.map(\.auc).reduce(0, +) / Double(keras.count)
                let kerasFit = keras.map(\.fit).reduce(0, +) / Double(keras.count)
                print(String(format: "keras %@: mean ROC-AUC %.4f; fit %.2f s per model (30 epochs)", kind, kerasMean, kerasFit))
                print(String(format: "  difference %+.4f (goal >= -0.003); fit ratio %.3f (goal <= 0.25)", ourMean - kerasMean, ourFit / kerasFit))
            }
        }

        printHeader("prediction speed inside the plugin (full train file model)")
        for kind in kinds == "both" ? ["lstm", "lstm_attention"] : [kinds] {
            let attention = kind == "lstm_attention"
            let schema = FeatureSchema.fit(dataset.customers)
            var configuration = SequenceModelConfiguration()
            configuration.attention = attention
            configuration.epochs = 2
            let inputs = SequencePlugin.inputs(dataset.customers, schema: schema, history: history, window: 12)
            let model = SequenceModel(configuration: configuration, staticFeatures: inputs.staticFeatures.columns, stepFeatures: 4, seed: 0)
            _ = SequenceTrainer.fit(model, train: inputs, labels: labels, validation: nil, seed: 0)
            let loaded = LoadedSequenceModel(model: model, schema: schema, dataset: telco, source: history.map { .derived($0, window: 12) } ?? .none)
            let batch = (0..<1409).map { dataset.record(at: $0 % labels.count) }
            var batchTimes: [Double] = []
            for _ in 0..<20 {
                let start = nowNanoseconds()
                _ = try loaded.predict(batch)
                batchTimes.append(Double(nowNanoseconds() - start) / 1e6)
            }
            var oneTimes: [Double] = []
            for index in 0..<1000 {
                let start = nowNanoseconds()
                _ = try loaded.predict([batch[index]])
                oneTimes.append(Double(nowNanoseconds() - start) / 1e3)
            }
            print(String(format: "%@: batch of 1,409 %.2f ms (goal <= 20 ms); one customer %.1f µs (goal <= 200 µs)", kind,
                batchTimes.sorted()[10], oneTimes.sorted()[500]))
        }
    }

    private func subset(_ data: SequenceDataset, _ rows: [Int]) -> SequenceDataset {
        let width = data.staticFeatures.columns
        var values: [Float] = []
        values.reserveCapacity(rows.count * width)
        for row in rows { values += data.staticFeatures.values[(row * width)..<((row + 1) * width)] }
        return SequenceDataset(staticFeatures: Matrix(rows: rows.count, columns: width, values: values), sequences: data.sequences.rows(rows))
    }

    private func write(_ data: SequenceDataset, _ labels: [Bool], to prefix: String) throws {
        func save(_ values: [Float], _ suffix: String) throws {
            try values.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: prefix + suffix))
        }
        try save(data.staticFeatures.values, "_static.f32")
        try save(data.sequences.values, "_seq.f32")
        try save(labels.map { $0 ? 1 : 0 }, "_y.f32")
    }

    private func peerFolds() throws -> [[Int]] {
        let output = try runProcess(["/usr/bin/env", "python3", peerScript("folds_sklearn.py"), data])
        guard let folds = try JSONSerialization.jsonObject(with: output) as? [[Int]], folds.count == 5 else {
            throw ValidationError("folds_sklearn.py failed: pip install scikit-learn pandas")
        }
        return folds
    }

    private func runKeras(folder: String, attention: Bool) throws -> [(auc: Double, fit: Double)] {
        var command = ["/usr/bin/env", "python3", peerScript("lstm_keras.py"), folder, "--seeds", String(kerasSeeds)]
        if attention { command.append("--attention") }
        let output = try runProcess(command)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let auc = object["roc_auc"] as? Double, let fit = object["fit_seconds"] as? Double
            else { return nil }
            return (auc, fit)
        }
    }

    private func runProcess(_ command: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("\(command.joined(separator: " ")) failed") }
        return data
    }
}
