import ArgumentParser
import ChurnData
import ChurnForest
import ChurnProtocol
import ChurnRegistry
import Foundation

/// Random forest issue benchmark: quality on scikit-learn's own 5 folds, fit and predict speed,
/// artifact size, next to scikit-learn in the same run; then the same quality comparison on a
/// second dataset that is not telco-shaped (the synthetic operator file, read under its own schema).
struct ForestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forest",
        abstract: "Random forest vs scikit-learn: 5-fold CV quality on the same folds, fit and predict time, artifact size.",
        discussion: """
            Needs ../shared/data/telco/telco_train.csv (or --data) and python3 with scikit-learn and pandas.
            Goals: mean ROC-AUC >= scikit-learn's on both datasets; fit <= 0.5x its time (n_jobs=2); batch of
            1,409 <= 5 ms; one customer <= 50 µs inside the plugin; artifact <= 2 MB compressed.
            """)

    @Option(help: "The labelled telco CSV.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "Hyperparameters as the plugin takes them (JSON), e.g. '{\"max_features\": 6}'.")
    var params = "{}"

    @Flag(help: "Leave out the derived-history aggregates (static features only).")
    var noHistory = false

    @Option(help: "Score our own stratified folds of this seed instead of scikit-learn's (for choosing defaults without looking at the reported folds).")
    var foldSeed: UInt64?

    @Option(help: "Rows of the second (synthetic operator) dataset.")
    var operatorRows = 5000

    /// The telco file, under the built-in schema its header matches.
    private func readTelco() throws -> Dataset {
        guard let schema = BuiltInSchemas.detect(header: CSVReader.header(of: data)) else {
            throw ValidationError("\(data) is not a Kaggle or IBM telco file")
        }
        return try DatasetReader.read(data, schema: schema, options: DatasetReadOptions(requireLabel: true)).0
    }

    func run() async throws {
        if let foldSeed {
            let dataset = try readTelco()
            let labels = dataset.churned!
            var aucs: [Double] = []
            for (index, fold) in StratifiedSplit.folds(labels, k: 5, seed: foldSeed).enumerated() {
                let (forest, schema) = fit(dataset.rows(fold.train), seed: UInt64(index))
                aucs.append(Metrics.rocAUC(fold.test.map { labels[$0] }, forest.predict(schema.encode(dataset.customers.rows(fold.test))))!)
            }
            print(String(format: "own folds (seed %d): mean ROC-AUC %.4f", foldSeed, aucs.reduce(0, +) / 5))
            return
        }
        printHeader("scikit-learn (running the peer script)")
        let telco = try readTelco()
        let peer = try runPeer([
            "/usr/bin/env", "python3", peerScript("forest_sklearn.py"), data, "--label", telco.schema.label.column,
            "--positive", telco.schema.label.positive[0], "--id", telco.schema.id!.column,
        ])
        let peerFolds = (peer["folds"] as? [[Int]]) ?? []
        let peerScores = (peer["scores"] as? [[String: Double]]) ?? []
        guard peerFolds.count == 5 else { throw ValidationError("the scikit-learn peer did not return 5 folds") }

        let dataset = telco
        let labels = dataset.churned!
        var ours: [[String: Double]] = []
        printHeader("5-fold CV on scikit-learn's folds (StratifiedKFold, shuffle, random_state=0)")
        print("fold   churn ROC-AUC   sklearn ROC-AUC   churn F1   sklearn F1")
        for (fold, test) in peerFolds.enumerated() {
            let testSet = Set(test)
            let train = (0..<labels.count).filter { !testSet.contains($0) }
            let (forest, schema) = fit(dataset.rows(train), seed: UInt64(fold))
            let probabilities = forest.predict(schema.encode(dataset.customers.rows(test)))
            let report = Metrics.report(test.map { labels[$0] }, probabilities)
            ours.append(report)
            print(String(format: "%4d   %13.4f   %15.4f   %8.4f   %10.4f", fold + 1, report["roc_auc"]!, peerScores[fold]["roc_auc"]!, report["f1"]!, peerScores[fold]["f1"]!))
        }
        func mean(_ rows: [[String: Double]], _ key: String) -> Double { rows.map { $0[key] ?? 0 }.reduce(0, +) / Double(rows.count) }
        print("mean   " + ["roc_auc", "f1", "precision", "recall", "accuracy"].map { key in
            String(format: "%@ %.4f vs %.4f", key, mean(ours, key), mean(peerScores, key))
        }.joined(separator: "   "))
        // Like for like: our forest with scikit-learn's hyperparameters on the same folds.
        var likeForLike: [Double] = []
        for (fold, test) in peerFolds.enumerated() {
            let testSet = Set(test)
            let train = dataset.rows((0..<labels.count).filter { !testSet.contains($0) })
            let schema = FeatureSchema.fit(train.customers, derivedHistory: dataset.schema.derivedHistory)
            let (options, _) = try ForestParameters.parse(["min_samples_leaf": 5, "max_depth": 0], width: schema.width)
            let (forest, _) = RandomForest.fit(schema.encode(train.customers), labels: train.churned!, options: options, seed: UInt64(fold))
            likeForLike.append(Metrics.rocAUC(test.map { labels[$0] }, forest.predict(schema.encode(dataset.customers.rows(test))))!)
        }
        print(String(format: "with scikit-learn's hyperparameters (min_samples_leaf 5, unlimited depth): mean ROC-AUC %.4f", likeForLike.reduce(0, +) / 5))

        printHeader("speed (full train file, \(labels.count) rows, 300 trees)")
        let start = nowNanoseconds()
        let (forest, schema) = fit(dataset, seed: 0)
        let fitSeconds = Double(nowNanoseconds() - start) / 1e9
        let loaded = LoadedForest(forest: forest, schema: schema, dataset: dataset.schema)
        let batch = (0..<1409).map { dataset.record(at: $0 % labels.count) }
        let validator = RecordValidator(schema: dataset.schema)
        var batchTimes: [Double] = []
        for _ in 0..<20 {
            let begin = nowNanoseconds()
            _ = try loaded.predict(batch)
            batchTimes.append(Double(nowNanoseconds() - begin) / 1e6)
        }
        var stageTimes: [String: [Double]] = [:]
        let compiled = CompiledForest(forest)
        for _ in 0..<20 {
            var begin = nowNanoseconds()
            let table = try validator.table(batch)
            stageTimes["validate records", default: []].append(Double(nowNanoseconds() - begin) / 1e6)
            begin = nowNanoseconds()
            let encoded = schema.encode(table)
            stageTimes["encode", default: []].append(Double(nowNanoseconds() - begin) / 1e6)
            begin = nowNanoseconds()
            let binned = forest.bins.binRows(encoded)
            stageTimes["bin", default: []].append(Double(nowNanoseconds() - begin) / 1e6)
            begin = nowNanoseconds()
            _ = compiled.predict(bins: binned, rows: encoded.rows, threads: 2)
            stageTimes["score (2 threads)", default: []].append(Double(nowNanoseconds() - begin) / 1e6)
            begin = nowNanoseconds()
            _ = compiled.predict(bins: binned, rows: encoded.rows, threads: 1)
            stageTimes["score (1 thread)", default: []].append(Double(nowNanoseconds() - begin) / 1e6)
        }
        for (stage, times) in stageTimes.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  batch stage %-18@ %7.2f ms", stage as NSString, times.sorted()[times.count / 2]))
        }
        var oneTimes: [Double] = []
        for index in 0..<2000 {
            let record = [batch[index % batch.count]]
            let begin = nowNanoseconds()
            _ = try loaded.predict(record)
            oneTimes.append(Double(nowNanoseconds() - begin) / 1e3)
        }
        batchTimes.sort()
        oneTimes.sort()
        let artifact = try ForestArtifact.write(forest, schema: schema, dataset: dataset.schema)
        let compressed = try Zlib.compress(artifact)
        let sklearnFit = peer["fit_seconds"] as? Double ?? .nan
        let sklearnBatch = (peer["batch_1409_seconds"] as? Double ?? .nan) * 1000
        let sklearnOne = (peer["one_row_seconds"] as? Double ?? .nan) * 1e6
        print(String(format: "fit:                 churn %7.3f s    sklearn %7.3f s    ratio %.2f (goal <= 0.50)", fitSeconds, sklearnFit, fitSeconds / sklearnFit))
        print(String(format: "batch of 1,409:      churn %7.2f ms   sklearn %7.2f ms   ratio %.3f (goal <= 5 ms)", batchTimes[batchTimes.count / 2], sklearnBatch, batchTimes[batchTimes.count / 2] / sklearnBatch))
        print(String(format: "one customer:        churn %7.1f µs   sklearn %7.1f µs   ratio %.4f (goal <= 50 µs)", oneTimes[oneTimes.count / 2], sklearnOne, oneTimes[oneTimes.count / 2] / sklearnOne))
        print(String(format: "artifact:            %.2f MB raw, %.2f MB zlib (goal <= 2 MB)   %d nodes", Double(artifact.count) / 1e6, Double(compressed.count) / 1e6, forest.trees.reduce(0) { $0 + $1.nodeCount }))

        // A second dataset of another shape, under its own schema, on scikit-learn's folds.
        let operatorData = SyntheticOperator.generate(customers: operatorRows, seed: 2026)
        let operatorFile = NSTemporaryDirectory() + "churn-bench-operator-\(operatorRows).csv"
        try SyntheticOperator.write(operatorData, to: operatorFile)
        printHeader("second dataset: synthetic operator file (\(operatorRows) rows, no id, \(operatorData.schema.inputs.count) inputs, not telco)")
        let operatorPeer = try runPeer([
            "/usr/bin/env", "python3", peerScript("forest_sklearn.py"), operatorFile, "--label", "Churn", "--positive", "True", "--no-timing",
        ])
        let operatorFolds = (operatorPeer["folds"] as? [[Int]]) ?? []
        let operatorPeerScores = (operatorPeer["scores"] as? [[String: Double]]) ?? []
        guard operatorFolds.count == 5 else { throw ValidationError("the scikit-learn peer did not return 5 folds") }
        let operatorLabels = operatorData.churned!
        var operatorOurs: [[String: Double]] = []
        print("fold   churn ROC-AUC   sklearn ROC-AUC")
        for (fold, test) in operatorFolds.enumerated() {
            let testSet = Set(test)
            let train = (0..<operatorLabels.count).filter { !testSet.contains($0) }
            let (forest, schema) = fit(operatorData.rows(train), seed: UInt64(fold))
            let report = Metrics.report(test.map { operatorLabels[$0] }, forest.predict(schema.encode(operatorData.customers.rows(test))))
            operatorOurs.append(report)
            print(String(format: "%4d   %13.4f   %15.4f", fold + 1, report["roc_auc"]!, operatorPeerScores[fold]["roc_auc"]!))
        }

        printHeader("summary")
        print(String(format: "telco CV ROC-AUC:    churn %.4f, sklearn %.4f, difference %+.4f (goal >= 0)", mean(ours, "roc_auc"), mean(peerScores, "roc_auc"), mean(ours, "roc_auc") - mean(peerScores, "roc_auc")))
        print(String(format: "operator CV ROC-AUC: churn %.4f, sklearn %.4f, difference %+.4f (goal >= 0)", mean(operatorOurs, "roc_auc"), mean(operatorPeerScores, "roc_auc"), mean(operatorOurs, "roc_auc") - mean(operatorPeerScores, "roc_auc")))
    }

    private func fit(_ dataset: Dataset, seed: UInt64) -> (RandomForest, FeatureSchema) {
        let hyperparameters = (try? JSONParser.parse(Array(params.utf8)).objectValue) ?? [:]
        let history = noHistory ? nil : dataset.schema.derivedHistory
        let width = FeatureSchema.fit(dataset.customers, derivedHistory: history).width
        let (options, window) = try! ForestParameters.parse(hyperparameters ?? [:], width: width)
        let schema = FeatureSchema.fit(dataset.customers, derivedHistory: history, window: window)
        let (forest, _) = RandomForest.fit(schema.encode(dataset.customers), labels: dataset.churned!, options: options, seed: seed)
        return (forest, schema)
    }

    private func runPeer(_ command: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("\(command.joined(separator: " ")) failed: pip install scikit-learn pandas")
        }
        return object
    }
}

/// The folder holding the repository (for ../shared).
let repositoryParent: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
