import ArgumentParser
import ChurnData
import ChurnForest
import ChurnGradientBoosting
import ChurnPluginKit
import ChurnProtocol
import ChurnSequenceModels
import ChurnTuning
import Foundation

/// Issue 23's benchmark: on each dataset, with one set of stratified outer folds, the model churn
/// tunes for it (what churnd does for `models.train --tune`, here in-process) next to churn's forest
/// at its defaults and the Python peers of `Benchmarks/peers/auto_peers.py` (scikit-learn's forest,
/// LightGBM, XGBoost, CatBoost at their defaults, and LightGBM tuned by Optuna in the same time
/// budget), every one judged by ROC-AUC on the same outer test rows and by wall time.
struct AutoBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auto",
        abstract: "Tuned churn vs scikit-learn, LightGBM, XGBoost, CatBoost and Optuna-tuned LightGBM on the same outer folds.",
        discussion: """
            Per outer fold, churn does in-process what churnd does for
            `models.train --tune`: 20% of the outer-train rows become the
            validation split; the search cross-validates (5 folds) on all the
            outer-train rows within --budget seconds; the choice (one
            configuration, or a blend) is fitted on the train split with the
            validation file; the outer-test rows are scored (raw probabilities,
            churnd's test_roc_auc_raw). Its seconds: the fold's split and files,
            the search, the final fit, load and predict. The peers get the same
            rows and folds (their seconds: fit + predict, and Optuna's study).

            Goals: churn tuned mean ROC-AUC >= the best peer's (ratio >= 1.000);
            churn tuned seconds <= the Optuna peer's (ratio <= 1.00).

            Needs ../shared/data/telco/telco_train.csv (or --data) for telco, and
            python3 with: pip install scikit-learn lightgbm xgboost catboost optuna

            Examples:
              swift run -c release churn-bench auto
              swift run -c release churn-bench auto --datasets operator --folds 3
              swift run -c release churn-bench auto --kinds random_forest,lstm
            """)

    @Option(help: "Datasets, comma-separated: telco (the real train file), operator (generated, no id), operator-rules (the same columns, churn by crisp rules), telco-synthetic (generated, telco-shaped, more rows).")
    var datasets = "telco,operator,telco-synthetic"

    @Option(help: "Stratified outer folds.")
    var folds = 5

    @Option(help: "Seconds per outer fold for churn's search (with its final fit) and for the Optuna peer's study.")
    var budget: Double = 60

    @Option(help: "Kinds churn searches, comma-separated: random_forest, gradient_boosting, lstm, lstm_attention (more than one: a blend is considered).")
    var kinds = "random_forest,gradient_boosting"

    @Option(help: "The labelled telco CSV.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "Seed of the outer folds.")
    var seed: UInt64 = 0

    @Option(help: "Rows of the generated operator file.")
    var operatorRows = 2700

    @Option(help: "Rows of the generated telco-like file.")
    var syntheticRows = 20000

    @Option(help: "Peer models, comma-separated (auto_peers.py --models).")
    var peers = AutoBenchmark.peerModels.map(\.name).joined(separator: ",")

    @Flag(help: "Print every configuration churn's search finishes.")
    var verbose = false

    /// The peers auto_peers.py runs, how the table names them, and the Python modules each needs
    /// (besides numpy, pandas and scikit-learn, which every one needs).
    static let peerModels: [(name: String, title: String, modules: [String])] = [
        ("rf", "rf (scikit-learn forest)", []),
        ("lgbm", "lgbm (LightGBM)", ["lightgbm"]),
        ("xgb", "xgb (XGBoost)", ["xgboost"]),
        ("catboost", "catboost (CatBoost)", ["catboost"]),
        ("lgbm_optuna", "lgbm_optuna (Optuna)", ["lightgbm", "optuna"]),
    ]
    static let pipHint = "pip install scikit-learn lightgbm xgboost catboost optuna"

    /// The in-process plugin of a kind, as its plugin executable constructs it.
    static func plugin(kind: String) -> (any ChurnModelPlugin)? {
        switch kind {
        case "random_forest": return RandomForestPlugin()
        case "lstm": return SequencePlugin(attention: false)
        case "lstm_attention": return SequencePlugin(attention: true)
        case "gradient_boosting": return GradientBoostingPlugin()
        default: return nil
        }
    }

    private var datasetNames: [String] { datasets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    private var kindNames: [String] { kinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    private var peerNames: [String] { peers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        for name in datasetNames where !["telco", "operator", "operator-rules", "telco-synthetic"].contains(name) {
            throw ValidationError("--datasets: unknown dataset \"\(name)\": use telco, operator, operator-rules, telco-synthetic")
        }
        for kind in kindNames where Self.plugin(kind: kind) == nil {
            throw ValidationError("--kinds: unknown kind \"\(kind)\": use random_forest, gradient_boosting, lstm, lstm_attention")
        }
        for name in peerNames where !Self.peerModels.contains(where: { $0.name == name }) {
            throw ValidationError("--peers: unknown peer \"\(name)\": use \(Self.peerModels.map(\.name).joined(separator: ", "))")
        }
        guard !kindNames.isEmpty else { throw ValidationError("--kinds: name at least one kind") }
        guard (2...20).contains(folds) else { throw ValidationError("--folds must be between 2 and 20, got \(folds)") }
        guard budget >= 1 else { throw ValidationError("--budget must be at least 1 second, got \(budget)") }
        guard operatorRows >= 100, syntheticRows >= 100 else { throw ValidationError("--operator-rows and --synthetic-rows must be at least 100") }
    }

    func run() async throws {
        let scratch = makeScratchFolder("churn-bench-auto")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var plugins: [String: any ChurnModelPlugin] = [:]
        for kind in kindNames { plugins[kind] = Self.plugin(kind: kind) }

        let (peerModels, peerNote) = availablePeers()
        if let peerNote { print(peerNote) }
        #if DEBUG
            print("note: a debug build (about 10x slower than release): its times and what the budget buys are not meaningful")
        #endif

        var summaries: [String] = []
        for name in datasetNames {
            guard let bench = try prepare(name, scratch: scratch) else { continue }
            let labels = bench.dataset.churned!
            let positives = labels.filter { $0 }.count
            printHeader(
                String(
                    format: "%@: %d rows (%.1f%% churn), %d outer folds, budget %.0f s a fold, churn searches %@", name, labels.count,
                    100 * Double(positives) / Double(labels.count), folds, budget, kindNames.joined(separator: ",")))
            print(bench.about)
            let outer = StratifiedSplit.folds(labels, k: folds, seed: seed).map(\.test)
            let foldsPath = (bench.folder as NSString).appendingPathComponent("folds.json")
            try JSONSerialization.data(withJSONObject: outer).write(to: URL(fileURLWithPath: foldsPath))

            var defaults: [FoldResult] = []
            var tuned: [FoldResult] = []
            for (index, test) in outer.enumerated() {
                let (plain, chosen) = try await runFold(
                    index, test: test, bench: bench, plugins: plugins, folder: (bench.folder as NSString).appendingPathComponent("fold-\(index + 1)"))
                defaults.append(plain)
                tuned.append(chosen)
            }

            var peer: PeerResult?
            if !peerModels.isEmpty {
                print("running the peers (\(peerModels.joined(separator: ", "))) on the same \(folds) folds, OMP_NUM_THREADS=2 ...")
                peer = runPeer(bench: bench, foldsPath: foldsPath, models: peerModels)
            }
            summaries.append(report(name, tuned: tuned, defaults: defaults, peer: peer))
        }
        if !summaries.isEmpty {
            printHeader("summary (goals: AUC ratio >= 1.000 to the best peer, seconds ratio <= 1.00 to lgbm_optuna)")
            for line in summaries { print(line) }
        }
    }

    // MARK: Datasets

    /// A dataset in memory, the same rows as a CSV for the peers, and how the peers read it.
    struct BenchDataset {
        let dataset: Dataset
        let csvPath: String
        let label: String
        let positive: String
        let id: String?
        let folder: String
        let about: String
    }

    /// The dataset `name`, its CSV written (or found) for the peers; nil (said why) when the
    /// real telco file is missing.
    private func prepare(_ name: String, scratch: String) throws -> BenchDataset? {
        let folder = (scratch as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
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
            let dataset = try DatasetReader.read(data, schema: schema, options: DatasetReadOptions(requireLabel: true)).0
            return BenchDataset(
                dataset: dataset, csvPath: data, label: schema.label.column, positive: schema.label.positive[0], id: schema.id?.column,
                folder: folder, about: "the real telco train file \(data), schema \(schema.name)")
        case "operator", "operator-rules":
            let rules = name == "operator-rules"
            let dataset = SyntheticOperator.generate(customers: operatorRows, seed: 2026, signal: rules ? .thresholds : .frustration)
            let path = (folder as NSString).appendingPathComponent("\(name).csv")
            try SyntheticOperator.write(dataset, to: path)
            return BenchDataset(
                dataset: dataset, csvPath: path, label: dataset.schema.label.name, positive: dataset.schema.label.positive[0], id: nil,
                folder: folder,
                about: "generated operator file (SyntheticOperator, seed 2026, \(rules ? "churn by plan-and-usage rules" : "churn by a smooth hazard")): no id column, \(dataset.schema.inputs.count) inputs, label Churn True/False")
        default:
            let dataset = SyntheticTelco.generate(customers: syntheticRows, seed: 2026).dataset
            let path = (folder as NSString).appendingPathComponent("telco-synthetic.csv")
            try dataset.writeCSV(to: path)
            return BenchDataset(
                dataset: dataset, csvPath: path, label: dataset.schema.label.name, positive: dataset.schema.label.positive[0],
                id: dataset.idField, folder: folder,
                about: "generated telco-like customers (SyntheticTelco, seed 2026), the static file without its monthly panel")
        }
    }

    // MARK: churn's side

    /// One outer fold of one churn line: the outer-test ROC-AUC, the wall time, what was fitted.
    struct FoldResult {
        let auc: Double
        let seconds: Double
        let choice: String
        let detail: String
    }

    /// Outer fold `index`: churn's forest at its defaults, then the tuned choice, both fitted on
    /// the fold's train split (its validation split as `validationPath`), scored on the fold.
    private func runFold(
        _ index: Int, test: [Int], bench: BenchDataset, plugins: [String: any ChurnModelPlugin], folder: String
    ) async throws -> (defaults: FoldResult, tuned: FoldResult) {
        let dataset = bench.dataset
        let labels = dataset.churned!
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        // churnd's split (StratifiedSplit.trainValidationTest with seed 0 and validation 20%), with
        // no test part: the outer fold is the test.
        var begin = nowNanoseconds()
        let inside = Set(test)
        let outerTrain = dataset.rows(labels.indices.filter { !inside.contains($0) })
        let outerLabels = outerTrain.churned!
        let (trainRows, validationRows) = StratifiedSplit.holdOut(outerLabels, fraction: 0.2, seed: 0 &+ 1)
        let trainPath = (folder as NSString).appendingPathComponent("train.csv")
        let validationPath = (folder as NSString).appendingPathComponent("validation.csv")
        try outerTrain.rows(trainRows).writeCSV(to: trainPath)
        try outerTrain.rows(validationRows).writeCSV(to: validationPath)
        let testRecords = dataset.rows(test).records
        let testLabels = test.map { labels[$0] }
        let splitSeconds = seconds(since: begin)
        let final = FinalFit(
            plugins: plugins, trainPath: trainPath, validationPath: validationPath, schema: dataset.schema.canonical.jsonValue,
            records: testRecords, folder: folder)

        // Before: churn's forest at its plugin defaults, no search.
        begin = nowNanoseconds()
        let plain = try final.probabilities([(kind: "random_forest", params: [:], weight: 1)])
        let plainSeconds = splitSeconds + seconds(since: begin)
        let plainAUC = Metrics.rocAUC(testLabels, plain) ?? .nan
        let defaults = FoldResult(auc: plainAUC, seconds: plainSeconds, choice: "random_forest (plugin defaults)", detail: "")

        // Tuned: the search on every outer-train row, then the choice's final fit.
        begin = nowNanoseconds()
        let searchFolder = (folder as NSString).appendingPathComponent("search")
        try FileManager.default.createDirectory(atPath: searchFolder, withIntermediateDirectories: true)
        // seed 17: churnd's fold seed (the request's seed 0 &+ 17).
        let files = try FoldFiles(data: outerTrain, panel: nil, k: 5, seed: 17, folder: searchFolder)
        let hasHistory = dataset.schema.derivedHistory != nil
        let spaces = kindNames.map { SearchSpace(kind: $0, specs: plugins[$0]!.description.parameters, hasHistory: hasHistory) }
        let search = ModelSearch(
            spaces: spaces, labels: files.labels, folds: files.folds,
            settings: SearchSettings(budgetSeconds: budget, seed: 0, blend: kindNames.count > 1),
            scorer: InProcessFoldScorer(plugins: plugins, files: files, seed: 0))
        let verbose = verbose
        let outcome = try await search.run(progress: { step in
            if verbose, step.trialROCAUC != nil { print("    " + step.message) }
        })
        let searchSeconds = seconds(since: begin)
        try? FileManager.default.removeItem(atPath: searchFolder)
        begin = nowNanoseconds()
        let members: [(kind: String, params: [String: JSONValue], weight: Double)]
        let choice: String
        switch outcome.choice {
        case .single(let kind, let params):
            members = [(kind, params, 1)]
            choice = "\(kind) \(ModelSearch.describe(params))"
        case .blend(let blend):
            members = blend
            choice = "blend of " + blend.map { String(format: "%@ %.2f (%@)", $0.kind, $0.weight, ModelSearch.describe($0.params)) }.joined(separator: " + ")
        }
        let probabilities = try final.probabilities(members)
        let fitSeconds = seconds(since: begin)
        let auc = Metrics.rocAUC(testLabels, probabilities) ?? .nan
        let board = outcome.leaderboard
        var detail = String(format: "%d configurations in %.1f s", board.entries.count, board.searchSeconds)
        if let stopped = board.stopped { detail += " (stopped: \(stopped), \(board.planned) planned)" }
        if let chosen = board.entries.first(where: { $0.trial == board.chosenTrial }) {
            detail += String(format: ", CV %.4f", chosen.rocAUC)
        } else if let blend = board.blend, blend.chosen {
            detail += String(format: ", nested CV %.4f", blend.rocAUC)
        }
        if let plainCV = board.entries.filter({ $0.kind == "random_forest" && $0.isDefault }).max(by: { $0.rung < $1.rung }) {
            detail += String(format: " (forest defaults CV %.4f)", plainCV.rocAUC)
        }
        detail += String(format: "; final fit + predict %.1f s", fitSeconds)
        for failure in outcome.failures { print("    failed trial: \(failure)") }
        let tuned = FoldResult(auc: auc, seconds: splitSeconds + searchSeconds + fitSeconds, choice: choice, detail: detail)
        print(
            String(
                format: "fold %d/%d: defaults %.4f (%.1f s); tuned %.4f (%.1f s): %@; %@", index + 1, folds, plainAUC, plainSeconds, auc,
                tuned.seconds, choice, detail))
        try? FileManager.default.removeItem(atPath: folder)
        return (defaults, tuned)
    }

    /// The final fit of a choice, as churnd makes it: each member's plugin `train`s on the train
    /// split with the validation split as `validationPath`, the artifact is `load`ed and
    /// `predict`s the outer test records; a blend is the weighted mean of its members' raw
    /// probabilities.
    struct FinalFit {
        let plugins: [String: any ChurnModelPlugin]
        let trainPath: String
        let validationPath: String
        let schema: JSONValue
        let records: [CustomerRecord]
        let folder: String

        func probabilities(_ members: [(kind: String, params: [String: JSONValue], weight: Double)]) throws -> [Double] {
            var mixed = [Double](repeating: 0, count: records.count)
            for (index, member) in members.enumerated() {
                guard let plugin = plugins[member.kind] ?? AutoBenchmark.plugin(kind: member.kind) else {
                    throw ValidationError("no in-process plugin of kind \(member.kind)")
                }
                let artifact = (folder as NSString).appendingPathComponent("final-\(index + 1)-\(UUID().uuidString.prefix(8)).artifact")
                defer { try? FileManager.default.removeItem(atPath: artifact) }
                _ = try plugin.train(
                    PluginTrainParams(
                        trainPath: trainPath, validationPath: validationPath, params: member.params, seed: 0, artifactPath: artifact,
                        schema: schema),
                    progress: .silent)
                let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact)))
                let scored = try model.predict(records)
                guard scored.count == records.count else {
                    throw ValidationError("plugin \(member.kind) scored \(scored.count) of \(records.count) outer-test customers")
                }
                for row in scored.indices { mixed[row] += member.weight * scored[row] }
            }
            return mixed
        }
    }

    private func seconds(since start: UInt64) -> Double { Double(nowNanoseconds() - start) / 1e9 }

    // MARK: The peers

    /// One peer model's result.
    struct PeerModel {
        let foldAUC: [Double]
        let meanAUC: Double
        let seconds: Double
        /// lgbm_optuna only: trials per fold and the params it chose.
        let trials: [Int]
        let bestParams: [String]
    }

    struct PeerResult {
        let models: [String: PeerModel]
        let versions: String
    }

    /// The peer models that can run here, and a line saying what is missing (nil: nothing).
    private func availablePeers() -> ([String], String?) {
        guard !peerNames.isEmpty else { return ([], nil) }
        let modules = ["numpy", "pandas", "sklearn", "lightgbm", "xgboost", "catboost", "optuna"]
        let probe = "import importlib.util, sys\nprint(','.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
        guard let output = try? runPeerProcess(["/usr/bin/env", "python3", "-c", probe] + modules, quiet: true), output.status == 0 else {
            return ([], "PEERS NOT RUN: python3 cannot be run here; install Python 3, then \(Self.pipHint) pandas")
        }
        let missing = Set(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: ",").map(String.init))
        if missing.isEmpty { return (peerNames, nil) }
        let names = missing.sorted().map { $0 == "sklearn" ? "scikit-learn" : $0 }.joined(separator: ", ")
        if !missing.isDisjoint(with: ["numpy", "pandas", "sklearn"]) {
            return ([], "PEERS NOT RUN: Python lacks \(names): \(Self.pipHint) pandas")
        }
        let runnable = peerNames.filter { name in
            Self.peerModels.first { $0.name == name }!.modules.allSatisfy { !missing.contains($0) }
        }
        let skipped = peerNames.filter { !runnable.contains($0) }
        return (runnable, "SOME PEERS NOT RUN (\(skipped.joined(separator: ", "))): Python lacks \(names): \(Self.pipHint)")
    }

    /// Runs auto_peers.py on the dataset's CSV and folds (its progress lines pass through to
    /// stderr); nil, having said why, when it fails.
    private func runPeer(bench: BenchDataset, foldsPath: String, models: [String]) -> PeerResult? {
        var command = [
            "/usr/bin/env", "python3", peerScript("auto_peers.py"), bench.csvPath, "--label", bench.label, "--positive", bench.positive,
            "--folds", foldsPath, "--budget", String(budget), "--models", models.joined(separator: ","),
        ]
        if let id = bench.id { command += ["--id", id] }
        let output: (status: Int32, stdout: Data)
        do {
            output = try runPeerProcess(command, quiet: false)
        } catch {
            print("PEERS NOT RUN: cannot start python3 (\(error)): install Python 3, then \(Self.pipHint) pandas")
            return nil
        }
        guard output.status == 0,
            let object = try? JSONSerialization.jsonObject(with: output.stdout) as? [String: Any],
            let models = object["models"] as? [String: [String: Any]]
        else {
            print("PEERS FAILED (auto_peers.py exit \(output.status); its lines above say why): if a library is missing, \(Self.pipHint) pandas")
            return nil
        }
        var parsed: [String: PeerModel] = [:]
        for (name, entry) in models {
            let foldAUC = (entry["fold_auc"] as? [NSNumber])?.map(\.doubleValue) ?? []
            let bestParams = (entry["best_params"] as? [[String: Any]] ?? []).map { params in
                params.keys.sorted().map { key -> String in
                    let value = params[key]
                    if let number = value as? NSNumber { return "\(key)=" + String(format: "%.4g", number.doubleValue) }
                    return "\(key)=\(value.map { "\($0)" } ?? "null")"
                }.joined(separator: " ")
            }
            parsed[name] = PeerModel(
                foldAUC: foldAUC, meanAUC: (entry["mean_auc"] as? NSNumber)?.doubleValue ?? .nan,
                seconds: (entry["seconds"] as? NSNumber)?.doubleValue ?? .nan,
                trials: (entry["trials"] as? [NSNumber])?.map(\.intValue) ?? [], bestParams: bestParams)
        }
        let versions = (object["versions"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        return PeerResult(models: parsed, versions: versions)
    }


    // MARK: The table

    /// Prints one dataset's table and churn's choices; returns its summary line.
    private func report(_ name: String, tuned: [FoldResult], defaults: [FoldResult], peer: PeerResult?) -> String {
        func stats(_ values: [Double]) -> (mean: Double, sd: Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
        let peerRows = Self.peerModels.compactMap { model in peer?.models[model.name].map { (model.name, model.title, $0) } }
        let best = peerRows.max { $0.2.meanAUC < $1.2.meanAUC }
        let optuna = peer?.models["lgbm_optuna"]
        let tunedAUC = stats(tuned.map(\.auc))
        let tunedSeconds = tuned.map(\.seconds).reduce(0, +)

        printHeader("\(name): outer-test ROC-AUC over \(folds) folds and total seconds")
        if let peer { print("peers: \(peer.versions)") }
        print(
            "model".padding(toLength: 27, withPad: " ", startingAt: 0) + "  mean AUC    ± sd    seconds  AUC / best peer  seconds / lgbm_optuna\n"
                + String(repeating: " ", count: 27 + 29) + "  (goal >= 1.000)  (goal <= 1.00)")
        func line(_ title: String, auc: (mean: Double, sd: Double), seconds: Double, goals: Bool) {
            // String(format:) does not pad %@ on Linux: pad the name here.
            var text = title.padding(toLength: 27, withPad: " ", startingAt: 0) + String(format: "  %8.4f  %6.4f  %9.1f", auc.mean, auc.sd, seconds)
            if let best {
                let ratio = auc.mean / best.2.meanAUC
                text += String(format: "   %6.3f", ratio) + (goals ? (ratio >= 1 ? " met    " : " NOT met") : "        ")
            } else {
                text += "      n/a       "
            }
            if let optuna {
                let ratio = seconds / optuna.seconds
                text += String(format: "    %6.2f", ratio) + (goals ? (ratio <= 1 ? " met" : " NOT met") : "")
            } else {
                text += "       n/a"
            }
            print(text)
        }
        line("churn tuned (\(kindNames.count == 1 ? kindNames[0] : "auto"))", auc: tunedAUC, seconds: tunedSeconds, goals: true)
        line("churn forest, defaults", auc: stats(defaults.map(\.auc)), seconds: defaults.map(\.seconds).reduce(0, +), goals: false)
        for (_, title, model) in peerRows {
            line(title, auc: stats(model.foldAUC), seconds: model.seconds, goals: false)
        }
        if peer == nil { print("(no peer numbers: see the PEERS line above)") }

        print("\nfold  churn tuned  forest defaults" + peerRows.map { "  " + $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
        for fold in 0..<folds {
            var text = String(format: "%4d  %11.4f  %15.4f", fold + 1, tuned[fold].auc, defaults[fold].auc)
            for (_, _, model) in peerRows { text += String(format: "  %11.4f", fold < model.foldAUC.count ? model.foldAUC[fold] : .nan) }
            print(text)
        }
        print("\nchurn's choice per fold:")
        for (fold, result) in tuned.enumerated() {
            print("  fold \(fold + 1): \(result.choice)\n          \(result.detail)")
        }
        if let optuna, !optuna.bestParams.isEmpty {
            print("lgbm_optuna per fold:")
            for (fold, params) in optuna.bestParams.enumerated() {
                let trials = fold < optuna.trials.count ? " (\(optuna.trials[fold]) trial\(optuna.trials[fold] == 1 ? "" : "s"))" : ""
                print("  fold \(fold + 1)\(trials): \(params)")
            }
        }

        var summary = String(format: "%@: churn tuned %.4f in %.0f s", name as NSString, tunedAUC.mean, tunedSeconds)
        if let best {
            let ratio = tunedAUC.mean / best.2.meanAUC
            summary += String(format: "; best peer %@ %.4f, ratio %.3f (goal >= 1.000: %@)", best.0 as NSString, best.2.meanAUC, ratio, ratio >= 1 ? "met" : "NOT met")
        }
        if let optuna {
            let ratio = tunedSeconds / optuna.seconds
            summary += String(format: "; lgbm_optuna %.0f s, ratio %.2f (goal <= 1.00: %@)", optuna.seconds, ratio, ratio <= 1 ? "met" : "NOT met")
        }
        return summary
    }
}
