import ArgumentParser
import ChurnBoosting
import ChurnData
import ChurnGradientBoosting
import ChurnPluginKit
import ChurnProtocol
import Foundation

/// Issue 24's benchmark: churn's gradient-boosting plugin, trained and served in-process exactly
/// as churnd does it, next to LightGBM, XGBoost (hist) and CatBoost at their defaults
/// (`Benchmarks/peers/boosting_peers.py`) on the same rows and the same splits, one run: ROC-AUC,
/// fit time, predict time for one row and for 10,000 rows, artifact size; and the time of churn's
/// exact TreeSHAP against the `shap` library's TreeExplainer on a LightGBM model of the same shape.
struct BoostingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boosting",
        abstract: "Gradient boosting vs LightGBM, XGBoost and CatBoost on the same splits; TreeSHAP vs shap's TreeExplainer.",
        discussion: """
            Ours, per split, as churnd trains it: the split's training rows are
            written as a canonical CSV, GradientBoostingPlugin().train runs on it
            with its default params (no validation file: early stopping holds back
            its validation_fraction of the rows; threads one per core), seed 0;
            the artifact is loaded and predicts the split's test records
            (validation and encoding included, as in serving). Fit seconds are the
            whole train call (reading the CSV, encoding, fitting, the mean |SHAP|
            importances, writing the artifact). The peers read the same canonical
            rows, categorical fields as native categories, 2 threads each; their
            fit seconds are model.fit alone.

            Datasets: telco (the real train file, 5-fold stratified CV), operator
            (SyntheticOperator, 2,700 rows, 5-fold CV), large (SyntheticTelco
            static fields, --large-rows customers, seed 7 as `churn generate
            --seed 7` makes them; one stratified 80/20 split).

            Goals: ROC-AUC >= LightGBM's on each dataset (ratio >= 1.000); fit
            time <= LightGBM's on the large file (ratio <= 1.00); one-row predict
            <= 20 µs in the plugin; TreeSHAP <= 2x shap's TreeExplainer time.

            Needs python3 with: pip install pandas scikit-learn lightgbm xgboost catboost shap

            Examples:
              swift run -c release churn-bench boosting
              swift run -c release churn-bench boosting --datasets telco,operator
              swift run -c release churn-bench boosting --datasets large --large-rows 100000
              swift run -c release churn-bench boosting --large-peers lgbm,xgb
            """)

    @Option(help: "Datasets, comma-separated: telco, operator, large.")
    var datasets = "telco,operator,large"

    @Option(help: "Stratified folds for telco and operator.")
    var folds = 5

    @Option(help: "The labelled telco CSV.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "Seed of the folds and of the large file's 80/20 split.")
    var seed: UInt64 = 0

    @Option(help: "Rows of the generated operator file.")
    var operatorRows = 2700

    @Option(help: "Customers of the generated large file.")
    var largeRows = 1_000_000

    @Option(help: "Seed of the generated large file (churn generate --seed).")
    var largeSeed: UInt64 = 7

    @Option(help: "Peer models, comma-separated: lgbm, xgb, catboost.")
    var peers = "lgbm,xgb,catboost"

    @Option(help: "Peer models on the large file (default: --peers).")
    var largePeers: String?

    @Option(help: "One-row predict calls timed for each peer (the median is reported; theirs take milliseconds).")
    var oneRowCalls = 2000

    @Option(help: "One-row predict calls timed for ours, in 10 rounds: the fastest round's median is reported (this machine has slow spells), the median of all calls beside it.")
    var ourOneRowCalls = 20_000

    @Option(help: "Rows TreeSHAP explains (split 1's test rows, cycled).")
    var shapRows = 1000

    @Option(help: "Our params instead of the defaults, comma-separated name=number (learning_rate=0.1,early_stopping_rounds=20); refused by name if the plugin refuses them.")
    var params: String?

    /// ``params`` as the plugin's train params.
    private var oursParams: [String: JSONValue] {
        get throws {
            var parsed: [String: JSONValue] = [:]
            for item in Self.names(params ?? "") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let number = Double(parts[1]) else {
                    throw ValidationError("--params: \"\(item)\" is not name=number")
                }
                parsed[parts[0]] = .number(number)
            }
            return parsed
        }
    }

    static let peerTitles: [(name: String, title: String, module: String)] = [
        ("lgbm", "lgbm (LightGBM)", "lightgbm"),
        ("xgb", "xgb (XGBoost hist)", "xgboost"),
        ("catboost", "catboost (CatBoost)", "catboost"),
    ]
    static let pipHint = "pip install pandas scikit-learn lightgbm xgboost catboost shap"

    private static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    private var datasetNames: [String] { Self.names(datasets) }

    func validate() throws {
        _ = try oursParams
        for name in datasetNames where !["telco", "operator", "large"].contains(name) {
            throw ValidationError("--datasets: unknown dataset \"\(name)\": use telco, operator, large")
        }
        for name in Self.names(peers) + Self.names(largePeers ?? "") where !Self.peerTitles.contains(where: { $0.name == name }) {
            throw ValidationError("--peers: unknown peer \"\(name)\": use lgbm, xgb, catboost")
        }
        guard (2...20).contains(folds) else { throw ValidationError("--folds must be between 2 and 20, got \(folds)") }
        guard operatorRows >= 100, largeRows >= 1000 else { throw ValidationError("--operator-rows must be at least 100 and --large-rows at least 1000") }
        guard oneRowCalls >= 1000 else { throw ValidationError("--one-row-calls must be at least 1000, got \(oneRowCalls)") }
        guard ourOneRowCalls >= 1000 else { throw ValidationError("--our-one-row-calls must be at least 1000 (10 rounds of 100), got \(ourOneRowCalls)") }
        guard shapRows >= 1 else { throw ValidationError("--shap-rows must be at least 1") }
    }

    func run() async throws {
        let scratch = makeScratchFolder("churn-bench-boosting")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #if DEBUG
            print("note: a debug build (about 10x slower than release): its times are not meaningful")
        #endif
        let missing = missingModules()
        if let missing, !missing.isEmpty {
            print("MISSING PYTHON PACKAGES: \(missing.sorted().joined(separator: ", ")) (pip install \(missing.sorted().map { $0 == "sklearn" ? "scikit-learn" : $0 }.joined(separator: " "))): the peers that need them are not run; ours is")
        } else if missing == nil {
            print("PEERS NOT RUN: python3 cannot be run here; install Python 3, then \(Self.pipHint)")
        }

        var summaries: [Summary] = []
        for name in datasetNames {
            guard let bench = try prepare(name, scratch: scratch) else { continue }
            let labels = bench.dataset.churned!
            let splits: [[Int]]
            if name == "large" {
                splits = [StratifiedSplit.holdOut(labels, fraction: 0.2, seed: seed).heldOut]
            } else {
                splits = StratifiedSplit.folds(labels, k: folds, seed: seed).map(\.test)
            }
            printHeader(
                String(
                    format: "%@: %d rows (%.1f%% churn), %@", name, labels.count, 100 * Double(labels.filter { $0 }.count) / Double(labels.count),
                    splits.count == 1 ? "one stratified 80/20 split" : "\(splits.count)-fold stratified CV"))
            print(bench.about)

            let ours = try runOurs(bench, splits: splits)
            var peer: PeerResult?
            let wanted = Self.names(name == "large" ? (largePeers ?? peers) : peers)
            if let missing, !missing.contains("pandas"), !missing.contains("sklearn") {
                let runnable = wanted.filter { model in !missing.contains(Self.peerTitles.first { $0.name == model }!.module) }
                print("running the peers (\(runnable.isEmpty ? "none" : runnable.joined(separator: ", "))\(missing.contains("shap") ? "" : ", shap")) on the same \(splits.count == 1 ? "split" : "\(splits.count) folds"), OMP_NUM_THREADS=2 ...")
                peer = try runPeers(bench, splits: splits, ours: ours, models: runnable)
            }
            summaries.append(report(name, ours: ours, peer: peer, splits: splits.count))
        }
        guard !summaries.isEmpty else { return }
        printHeader("summary (ours: churn's gradient-boosting plugin at its defaults; goals beside the ratios)")
        print("dataset   churn AUC  lgbm AUC  AUC ratio (>= 1.000)  churn fit s  lgbm fit s  fit ratio (<= 1.00)  1-row µs (<= 20)  TreeSHAP µs/row  shap µs/row  ratio (<= 2.00)")
        for summary in summaries { print(summary.line) }
        print("")
        for summary in summaries { for goal in summary.goals { print(goal) } }
    }

    // MARK: Datasets

    /// A dataset in memory, the canonical CSV of it the peers read, and its categorical fields.
    struct BenchDataset {
        let name: String
        let dataset: Dataset
        let csvPath: String
        let folder: String
        let about: String
    }

    /// The dataset `name` and its canonical CSV (the rows in the same order); nil (said why) when
    /// the real telco file is missing.
    private func prepare(_ name: String, scratch: String) throws -> BenchDataset? {
        let folder = (scratch as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let dataset: Dataset
        let about: String
        let begin = nowNanoseconds()
        switch name {
        case "telco":
            guard FileManager.default.isReadableFile(atPath: data) else {
                printHeader("telco: skipped")
                print("cannot read the real telco train file \(data): it is expected at ../shared/data/telco/telco_train.csv beside the repository; pass --data PATH, or leave telco out of --datasets")
                return nil
            }
            guard let schema = BuiltInSchemas.detect(header: CSVReader.header(of: data)) else {
                throw ValidationError("\(data) is not a Kaggle or IBM telco file (its header matches no built-in schema)")
            }
            dataset = try DatasetReader.read(data, schema: schema, options: DatasetReadOptions(requireLabel: true)).0
            about = "the real telco train file \(data), schema \(schema.name)"
        case "operator":
            dataset = SyntheticOperator.generate(customers: operatorRows, seed: 2026)
            about = "generated operator file (SyntheticOperator, seed 2026, churn by a smooth hazard): no id column, \(dataset.schema.inputs.count) inputs, a 51-value State"
        default:
            // The static fields and labels do not depend on the months kept: one month keeps the
            // panel small; the customers are those `churn generate --customers N --months 12 --seed 7` writes.
            dataset = SyntheticTelco.generate(customers: largeRows, months: 1, seed: largeSeed).dataset
            about = "generated telco-like customers (SyntheticTelco, seed \(largeSeed)): the static file, no monthly panel"
        }
        let path = (folder as NSString).appendingPathComponent("\(name).csv")
        try dataset.writeCSV(to: path)
        let categorical = dataset.schema.inputs.filter { $0.type == .categorical }.map(\.name)
        print(
            String(
                format: "%@ (%d categorical fields: %@); canonical CSV for the peers written in %.1f s", about as NSString, categorical.count,
                categorical.joined(separator: ", ") as NSString, Double(nowNanoseconds() - begin) / 1e9))
        return BenchDataset(name: name, dataset: dataset, csvPath: path, folder: folder, about: about)
    }

    // MARK: Ours

    /// Our results on every split, and the timings taken on split 1's model.
    struct OursResult {
        var auc: [Double] = []
        var fitSeconds: [Double] = []
        var roundsKept: [Int] = []
        var roundsRun: [Int] = []
        var readSeconds = Double.nan
        var loadMillis = Double.nan
        /// The fastest of 10 rounds' medians.
        var oneRowMicros = Double.nan
        /// The median of every call.
        var oneRowMedianAll = Double.nan
        var batchMillis = Double.nan
        var artifactBytes = 0
        var trees = 0
        var leaves = 0
        var maxDepth = 0
        var shapMicrosPerRow = Double.nan
        var shapAdditivity = Double.nan
        /// Split 1's rows the timings use (test rows), for the peers.
        var timingRows: [Int] = []
        var batchRows: [Int] = []
        var shapRows: [Int] = []
    }

    private func runOurs(_ bench: BenchDataset, splits: [[Int]]) throws -> OursResult {
        let dataset = bench.dataset
        let labels = dataset.churned!
        let schema = dataset.schema.canonical
        let plugin = GradientBoostingPlugin()
        var ours = OursResult()
        for (index, test) in splits.enumerated() {
            let inside = Set(test)
            let train = labels.indices.filter { !inside.contains($0) }
            let trainPath = (bench.folder as NSString).appendingPathComponent("train-\(index + 1).csv")
            let artifactPath = (bench.folder as NSString).appendingPathComponent("model-\(index + 1).artifact")
            try dataset.rows(train).writeCSV(to: trainPath)
            defer {
                try? FileManager.default.removeItem(atPath: trainPath)
                try? FileManager.default.removeItem(atPath: artifactPath)
            }
            var begin = nowNanoseconds()
            let result = try plugin.train(
                PluginTrainParams(trainPath: trainPath, validationPath: nil, params: try oursParams, seed: 0, artifactPath: artifactPath, schema: schema.jsonValue),
                progress: .silent)
            let fit = seconds(since: begin)
            begin = nowNanoseconds()
            let artifact = try Data(contentsOf: URL(fileURLWithPath: artifactPath))
            let loaded = try plugin.load(artifact: artifact)
            let loadMillis = seconds(since: begin) * 1e3
            var probabilities: [Double] = []
            probabilities.reserveCapacity(test.count)
            for start in stride(from: 0, to: test.count, by: 20_000) {
                probabilities += try loaded.predict(test[start..<min(start + 20_000, test.count)].map(dataset.record(at:)))
            }
            let auc = Metrics.rocAUC(test.map { labels[$0] }, probabilities) ?? .nan
            ours.auc.append(auc)
            ours.fitSeconds.append(fit)
            ours.roundsKept.append(Int(result.metrics["rounds"] ?? 0))
            ours.roundsRun.append(Int(result.metrics["rounds_run"] ?? 0))
            print(
                String(
                    format: "churn split %d/%d: AUC %.4f, fit %.2f s (%d rounds run, best %d kept)", index + 1, splits.count, auc, fit,
                    ours.roundsRun.last!, ours.roundsKept.last!))
            guard index == 0 else { continue }

            // Split 1's model: what reading the CSV costs inside train, serving times, size, TreeSHAP.
            begin = nowNanoseconds()
            _ = try DatasetReader.read(trainPath, schema: schema, options: DatasetReadOptions(requireLabel: true))
            ours.readSeconds = seconds(since: begin)
            ours.loadMillis = loadMillis
            ours.artifactBytes = artifact.count
            guard let boosting = loaded as? LoadedBoosting else { throw ValidationError("the plugin loaded a \(type(of: loaded)), not LoadedBoosting") }
            ours.trees = boosting.model.trees.count
            ours.leaves = boosting.model.trees.reduce(0) { $0 + $1.leafCount }
            ours.maxDepth = boosting.model.trees.map(\.depth).max() ?? 0
            ours.timingRows = Array(test.prefix(1000))
            ours.batchRows = (0..<10_000).map { test[$0 % test.count] }
            ours.shapRows = (0..<shapRows).map { test[$0 % test.count] }

            let one = ours.timingRows.map(dataset.record(at:))
            for record in one.prefix(50) { _ = try loaded.predict([record]) }
            var times: [Double] = []
            times.reserveCapacity(ourOneRowCalls)
            var roundMedians: [Double] = []
            let perRound = ourOneRowCalls / 10
            for round in 0..<10 {
                let first = times.count
                for call in (round * perRound)..<((round + 1) * perRound) {
                    let record = [one[call % one.count]]
                    let start = nowNanoseconds()
                    _ = try loaded.predict(record)
                    times.append(Double(nowNanoseconds() - start) / 1e3)
                }
                roundMedians.append(median(Array(times[first...])))
            }
            ours.oneRowMicros = roundMedians.min()!
            ours.oneRowMedianAll = median(times)
            let batch = ours.batchRows.map(dataset.record(at:))
            ours.batchMillis = try median((0..<5).map { _ in
                let start = nowNanoseconds()
                _ = try loaded.predict(batch)
                return Double(nowNanoseconds() - start) / 1e6
            })

            let explained = ours.shapRows.map(dataset.record(at:))
            var explanations: [ModelExplanation] = []
            let shapSeconds = try median((0..<3).map { _ in
                let start = nowNanoseconds()
                explanations = try loaded.explain(explained, top: nil)
                return seconds(since: start)
            })
            ours.shapMicrosPerRow = shapSeconds * 1e6 / Double(explained.count)
            // bias + Σ contributions is the log-odds of the probability the model gives.
            let scored = try loaded.predict(explained)
            var worst = 0.0
            for (explanation, probability) in zip(explanations, scored) {
                let sum: Double = explanation.contributions.reduce(0) { $0 + $1.contribution }
                let logOdds: Double = log(probability / (1 - probability))
                worst = max(worst, abs((explanation.bias ?? .nan) + sum - logOdds))
            }
            ours.shapAdditivity = worst
        }
        return ours
    }

    private func seconds(since start: UInt64) -> Double { Double(nowNanoseconds() - start) / 1e9 }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    // MARK: The peers

    struct PeerModel {
        let auc: [Double]
        let fitSeconds: [Double]
        let oneRowMicros: Double
        let batchMillis: Double
        let modelBytes: Int
        let trees: Int
    }

    struct PeerSHAP {
        let trees: Int
        let leaves: Int
        let maxDepth: Int
        let rows: Int
        let explainerSeconds: Double
        let oneThreadSeconds: Double
        let additivity: Double
    }

    struct PeerResult {
        let models: [String: PeerModel]
        let shap: PeerSHAP?
        let prepareSeconds: Double
        let versions: String
        let missing: [String]
    }

    /// Python modules the peers need that are not installed; nil when python3 cannot run.
    private func missingModules() -> Set<String>? {
        let modules = ["numpy", "pandas", "sklearn", "lightgbm", "xgboost", "catboost", "shap"]
        let probe = "import importlib.util, sys\nprint(','.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
        guard let output = try? runPeerProcess(["/usr/bin/env", "python3", "-c", probe] + modules, quiet: true), output.status == 0 else { return nil }
        return Set(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init))
    }

    /// Runs boosting_peers.py on the dataset's canonical CSV with the splits and our model's shape
    /// (its progress lines pass through to stderr); nil, having said why, when it fails.
    private func runPeers(_ bench: BenchDataset, splits: [[Int]], ours: OursResult, models: [String]) throws -> PeerResult? {
        let schema = bench.dataset.schema
        let defaults = BoostingOptions()
        let spec: [String: Any] = [
            "label": schema.label.name, "positive": schema.label.positive[0], "id": bench.dataset.idField,
            "categorical": schema.inputs.filter { $0.type == .categorical }.map(\.name),
            "folds": splits, "timing_rows": ours.timingRows, "batch_rows": ours.batchRows, "one_row_calls": oneRowCalls,
            "shap": ["rows": ours.shapRows, "trees": ours.trees, "num_leaves": defaults.maxLeaves, "max_depth": max(ours.maxDepth, 1)],
        ]
        let specPath = (bench.folder as NSString).appendingPathComponent("spec.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: specPath))
        let command = ["/usr/bin/env", "python3", peerScript("boosting_peers.py"), bench.csvPath, specPath, "--models", models.joined(separator: ",")]
        let output: (status: Int32, stdout: Data)
        do {
            output = try runPeerProcess(command, quiet: false)
        } catch {
            print("PEERS NOT RUN: cannot start python3 (\(error)): install Python 3, then \(Self.pipHint)")
            return nil
        }
        guard output.status == 0, let object = try? JSONSerialization.jsonObject(with: output.stdout) as? [String: Any] else {
            print("PEERS FAILED (boosting_peers.py exit \(output.status); its lines above say why): if a library is missing, \(Self.pipHint)")
            return nil
        }
        func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }
        var parsed: [String: PeerModel] = [:]
        for (name, entry) in object["models"] as? [String: [String: Any]] ?? [:] {
            parsed[name] = PeerModel(
                auc: (entry["fold_auc"] as? [NSNumber])?.map(\.doubleValue) ?? [],
                fitSeconds: (entry["fit_seconds"] as? [NSNumber])?.map(\.doubleValue) ?? [],
                oneRowMicros: number(entry["one_row_us"]), batchMillis: number(entry["batch_ms"]),
                modelBytes: (entry["model_bytes"] as? NSNumber)?.intValue ?? 0, trees: (entry["trees"] as? NSNumber)?.intValue ?? 0)
        }
        var shap: PeerSHAP?
        if let entry = object["shap"] as? [String: Any] {
            shap = PeerSHAP(
                trees: (entry["trees"] as? NSNumber)?.intValue ?? 0, leaves: (entry["leaves"] as? NSNumber)?.intValue ?? 0,
                maxDepth: (entry["max_depth"] as? NSNumber)?.intValue ?? 0, rows: (entry["rows"] as? NSNumber)?.intValue ?? 1,
                explainerSeconds: number(entry["explainer_seconds"]), oneThreadSeconds: number(entry["pred_contrib_1_thread_seconds"]),
                additivity: number(entry["additivity_max_error"]))
        }
        let versions = (object["versions"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        return PeerResult(
            models: parsed, shap: shap, prepareSeconds: number(object["prepare_seconds"]), versions: versions,
            missing: object["missing"] as? [String] ?? [])
    }


    // MARK: The table

    struct Summary {
        let line: String
        let goals: [String]
    }

    private func report(_ name: String, ours: OursResult, peer: PeerResult?, splits: Int) -> Summary {
        func stats(_ values: [Double]) -> (mean: Double, sd: Double) {
            guard !values.isEmpty else { return (.nan, .nan) }
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
        func met(_ yes: Bool) -> String { yes ? "met" : "NOT met" }
        let lgbm = peer?.models["lgbm"]
        let lgbmAUC = lgbm.map { stats($0.auc).mean }
        let lgbmFit = lgbm.map { stats($0.fitSeconds).mean }
        let oursAUC = stats(ours.auc)
        let oursFit = stats(ours.fitSeconds).mean
        let large = name == "large"

        printHeader("\(name): test ROC-AUC over \(splits == 1 ? "the 80/20 split" : "\(splits) folds"), fit, predict, size")
        if let peer { print("peers: \(peer.versions)") }
        if let peer, !peer.missing.isEmpty { print("MISSING PYTHON PACKAGES: \(peer.missing.joined(separator: ", ")) (their peers not run)") }
        print(
            "model".padding(toLength: 24, withPad: " ", startingAt: 0)
                + "  mean AUC    ± sd  AUC/lgbm     fit s  fit/lgbm   1 row µs  10k rows ms  artifact bytes  trees")
        func line(_ title: String, auc: [Double], fit: Double, one: Double, batch: Double, bytes: Int, trees: Int, goals: Bool) {
            let (mean, sd) = stats(auc)
            var text = title.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: "  %8.4f  %6.4f", mean, sd)
            if let lgbmAUC {
                let ratio = mean / lgbmAUC
                text += String(format: "  %7.3f%@", ratio, goals ? (ratio >= 1 ? "+" : "-") : " ")
            } else {
                text += "      n/a "
            }
            text += String(format: "  %8.2f", fit)
            if let lgbmFit {
                let ratio = fit / lgbmFit
                text += String(format: "  %7.2f%@", ratio, goals && large ? (ratio <= 1 ? "+" : "-") : " ")
            } else {
                text += "      n/a "
            }
            text += String(format: "  %9.1f  %11.2f  %14d  %5d", one, batch, bytes, trees)
            print(text)
        }
        line(
            "churn gradient boosting", auc: ours.auc, fit: oursFit, one: ours.oneRowMicros, batch: ours.batchMillis, bytes: ours.artifactBytes,
            trees: ours.trees, goals: true)
        for (model, title, _) in Self.peerTitles {
            guard let result = peer?.models[model] else { continue }
            line(
                title, auc: result.auc, fit: stats(result.fitSeconds).mean, one: result.oneRowMicros, batch: result.batchMillis,
                bytes: result.modelBytes, trees: result.trees, goals: false)
        }
        if peer == nil { print("(no peer numbers: see the PEERS line above)") }
        print(
            "(+/-: goal met/not met. fit s: mean per split; ours is the whole train call, of which reading the CSV took \(String(format: "%.2f", ours.readSeconds)) s on split 1; the peers' is fit() on a prepared DataFrame (reading and preparing the whole CSV took them \(String(format: "%.2f", peer?.prepareSeconds ?? .nan)) s). 1 row, 10k rows, artifact, trees: split 1's model; ours predicts from records (validated and encoded), the peers predict_proba a prepared DataFrame.)"
        )
        if splits > 1 {
            let peerRows = Self.peerTitles.compactMap { model in peer?.models[model.name].map { (model.name, $0) } }
            print("\nsplit    churn" + peerRows.map { "  " + $0.0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
            for split in 0..<splits {
                var text = String(format: "%5d  %7.4f", split + 1, ours.auc[split])
                for (_, model) in peerRows { text += String(format: "  %8.4f", split < model.auc.count ? model.auc[split] : .nan) }
                print(text)
            }
        }
        print(
            "churn rounds run / kept per split: " + zip(ours.roundsRun, ours.roundsKept).map { "\($0)/\($1)" }.joined(separator: ", ")
                + String(format: "; artifact load %.2f ms", ours.loadMillis))
        print(
            String(
                format: "churn one-row predict: %.1f µs, the fastest of 10 rounds' medians (%d calls each); the median of all %d calls %.1f µs",
                ours.oneRowMicros, ourOneRowCalls / 10, ourOneRowCalls / 10 * 10, ours.oneRowMedianAll))

        print("\nTreeSHAP on \(ours.shapRows.count) rows of split 1's test part (µs per row):")
        print(
            String(
                format: "  churn LoadedBoosting.explain, 1 thread, records validated and encoded: %d trees, %d leaves, depth <= %d: %8.1f µs (bias + Σ = log-odds within %.1e)",
                ours.trees, ours.leaves, ours.maxDepth, ours.shapMicrosPerRow, ours.shapAdditivity))
        var shapRatio: Double?
        if let shap = peer?.shap {
            let perRow = shap.explainerSeconds * 1e6 / Double(shap.rows)
            shapRatio = ours.shapMicrosPerRow / perRow
            print(
                String(
                    format: "  shap TreeExplainer(LightGBM).shap_values (LightGBM's C++ TreeSHAP, 2 threads): %d trees, %d leaves, depth <= %d: %8.1f µs",
                    shap.trees, shap.leaves, shap.maxDepth, perRow))
            print(
                String(
                    format: "  LightGBM predict(pred_contrib=True, num_threads=1), the same model:                     %8.1f µs", shap.oneThreadSeconds * 1e6 / Double(shap.rows)))
            print(String(format: "  churn / shap: %.2f (goal <= 2.00: %@); churn / LightGBM 1 thread: %.2f", shapRatio!, met(shapRatio! <= 2), ours.shapMicrosPerRow / (shap.oneThreadSeconds * 1e6 / Double(shap.rows))))
        } else {
            print("  shap: not run (see above)")
        }

        // Summary line and goals.
        func number(_ value: Double?, _ format: String, width: Int) -> String {
            guard let value, !value.isNaN else { return "n/a".padding(toLength: width, withPad: " ", startingAt: 0) }
            let text = String(format: format, value)
            return String(repeating: " ", count: max(0, width - text.count)) + text
        }
        let aucRatio = lgbmAUC.map { oursAUC.mean / $0 }
        let fitRatio = lgbmFit.map { oursFit / $0 }
        var text = name.padding(toLength: 8, withPad: " ", startingAt: 0)
        text += "  " + number(oursAUC.mean, "%.4f", width: 9) + "  " + number(lgbmAUC, "%.4f", width: 8)
        text += "  " + number(aucRatio, "%.3f", width: 9) + (aucRatio.map { " " + met($0 >= 1) } ?? "").padding(toLength: 11, withPad: " ", startingAt: 0)
        text += "  " + number(oursFit, "%.2f", width: 11) + "  " + number(lgbmFit, "%.2f", width: 10)
        text += "  " + number(fitRatio, "%.2f", width: 9) + (large ? (fitRatio.map { " " + met($0 <= 1) } ?? "") : "").padding(toLength: 10, withPad: " ", startingAt: 0)
        text += "  " + number(ours.oneRowMicros, "%.1f", width: 8) + (" " + met(ours.oneRowMicros <= 20)).padding(toLength: 8, withPad: " ", startingAt: 0)
        text += "  " + number(ours.shapMicrosPerRow, "%.1f", width: 15) + "  " + number(peer?.shap.map { $0.explainerSeconds * 1e6 / Double($0.rows) }, "%.1f", width: 11)
        text += "  " + number(shapRatio, "%.2f", width: 6) + (shapRatio.map { " " + met($0 <= 2) } ?? "")

        var goals: [String] = []
        if let aucRatio, let lgbmAUC {
            goals.append(String(format: "%@: ROC-AUC %.4f vs LightGBM %.4f, ratio %.3f (goal >= 1.000): %@", name as NSString, oursAUC.mean, lgbmAUC, aucRatio, met(aucRatio >= 1)))
        } else {
            goals.append("\(name): ROC-AUC \(String(format: "%.4f", oursAUC.mean)); no LightGBM number to compare with")
        }
        if large {
            if let fitRatio, let lgbmFit {
                goals.append(
                    String(
                        format: "%@: fit %.1f s vs LightGBM %.1f s with 2 threads, ratio %.2f (goal <= 1.00): %@ (without reading the CSV: %.1f s, ratio %.2f)",
                        name as NSString, oursFit, lgbmFit, fitRatio, met(fitRatio <= 1), oursFit - ours.readSeconds, (oursFit - ours.readSeconds) / lgbmFit))
            } else {
                goals.append(String(format: "%@: fit %.1f s; no LightGBM number to compare with", name as NSString, oursFit))
            }
        }
        goals.append(String(format: "%@: one-row predict in the plugin %.1f µs (goal <= 20 µs): %@", name as NSString, ours.oneRowMicros, met(ours.oneRowMicros <= 20)))
        if let shapRatio {
            goals.append(String(format: "%@: TreeSHAP %.1f µs a row vs shap %.1f, ratio %.2f (goal <= 2.00): %@", name as NSString, ours.shapMicrosPerRow, ours.shapMicrosPerRow / shapRatio, shapRatio, met(shapRatio <= 2)))
        }
        return Summary(line: text, goals: goals)
    }
}
