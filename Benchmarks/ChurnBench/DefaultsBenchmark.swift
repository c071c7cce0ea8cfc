import ArgumentParser
import ChurnData
import ChurnForest
import ChurnPluginKit
import ChurnProtocol
import ChurnSequenceModels
import ChurnTuning
import Foundation

/// How each kind's defaults are chosen: candidate defaults cross-validated on several generated
/// dataset shapes (and the real telco file when it is there), each judged by its *regret* on a
/// dataset (the best candidate's mean ROC-AUC there minus its own). The default is the candidate
/// with the smallest worst regret over every shape: the one that travels, not the one that wins
/// on one file. `docs/defaults.md` records a run.
struct DefaultsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defaults",
        abstract: "Cross-validate candidate defaults of a kind on several dataset shapes and pick the one with the smallest worst regret.",
        discussion: """
            Examples:
              swift run -c release churn-bench defaults --kind random_forest
              swift run -c release churn-bench defaults --kind lstm --shapes panel,telco-like --folds 3
            """)

    @Option(help: "random_forest, lstm or lstm_attention.")
    var kind = "random_forest"

    @Option(help: "Shapes: telco (the real file, when present), telco-like, operator, operator-rules, operator-large, panel.")
    var shapes = "telco,telco-like,operator,operator-rules,operator-large,panel"

    @Option(help: "Cross-validation folds.")
    var folds = 5

    @Option(help: "Candidates to run, by number (e.g. 1,2); all when left out.")
    var candidates: String?

    @Option(help: "Rows of the large operator-shaped file.")
    var largeRows = 100_000

    func run() async throws {
        let plugin: any ChurnModelPlugin = switch kind {
        case "random_forest": RandomForestPlugin()
        case "lstm": SequencePlugin(attention: false)
        case "lstm_attention": SequencePlugin(attention: true)
        default: throw ValidationError("--kind must be random_forest, lstm or lstm_attention")
        }
        let all = Self.candidates(kind)
        var numbers = Array(all.indices)
        if let chosen = self.candidates {
            numbers = try chosen.split(separator: ",").map { text in
                guard let number = Int(text), all.indices.contains(number - 1) else {
                    throw ValidationError("--candidates: \"\(text)\" is not a candidate number between 1 and \(all.count)")
                }
                return number - 1
            }
        }
        let candidates = numbers.map { all[$0] }
        let folder = NSTemporaryDirectory() + "churn-defaults-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        var table: [(shape: String, rows: Int, scores: [Double], seconds: [Double])] = []
        for shape in shapes.split(separator: ",").map(String.init) {
            guard let (data, panel) = try load(shape) else { continue }
            let subfolder = folder + "/" + shape
            try FileManager.default.createDirectory(atPath: subfolder, withIntermediateDirectories: true)
            let files = try FoldFiles(data: data, panel: panel, k: folds, seed: 1, folder: subfolder)
            let scorer = InProcessFoldScorer(plugins: [kind: plugin], files: files, seed: 0)
            printHeader("\(shape): \(data.customers.count) rows, \(files.labels.filter { $0 }.count) churners, \(folds)-fold CV")
            var scores: [Double] = []
            var seconds: [Double] = []
            for (index, candidate) in candidates.enumerated() {
                let start = Date()
                var aucs: [Double] = []
                for fold in 0..<folds {
                    let probabilities = try await scorer.score(kind: kind, params: candidate, fold: fold, timeLimit: .infinity)
                    aucs.append(Metrics.rocAUC(files.folds[fold].map { files.labels[$0] }, probabilities) ?? 0.5)
                }
                let mean = aucs.reduce(0, +) / Double(aucs.count)
                scores.append(mean)
                seconds.append(Date().timeIntervalSince(start))
                print(String(format: "  %2d  %.4f  %6.1f s  %@", numbers[index] + 1, mean, seconds.last!, ModelSearch.describe(candidate)))
            }
            table.append((shape, data.customers.count, scores, seconds))
        }
        guard !table.isEmpty else { throw ValidationError("no dataset shape could be read") }

        printHeader("regret (best candidate's CV ROC-AUC on a shape minus each candidate's), worst over shapes")
        var worst: [Double] = []
        for index in candidates.indices {
            let regrets = table.map { ($0.scores.max() ?? 0) - $0.scores[index] }
            worst.append(regrets.max() ?? 0)
            print(
                String(format: "  %2d  worst %.4f  mean %.4f  ", numbers[index] + 1, worst.last!, regrets.reduce(0, +) / Double(regrets.count))
                    + table.map { String(format: "%@ %.4f", $0.shape, $0.scores[index]) }.joined(separator: ", ")
                    + "  " + ModelSearch.describe(candidates[index]))
        }
        let chosen = worst.indices.min { worst[$0] != worst[$1] ? worst[$0] < worst[$1] : $0 < $1 }!
        print("")
        print(String(format: "chosen: candidate %d (worst regret %.4f): %@", numbers[chosen] + 1, worst[chosen], ModelSearch.describe(candidates[chosen])))
        if numbers.first == 0 { print(String(format: "candidate 1 (the defaults before): worst regret %.4f", worst[0])) }
    }

    /// The kind's candidates, its defaults before this benchmark first.
    static func candidates(_ kind: String) -> [[String: JSONValue]] {
        switch kind {
        case "random_forest":
            var list: [[String: JSONValue]] = [["max_depth": 10, "min_samples_leaf": 20]]
            for depth in [0, 12] as [JSONValue] {
                for leaf in [1, 3, 5, 10, 20] as [JSONValue] {
                    for features in ["sqrt", 0.33] as [JSONValue] {
                        list.append(["max_depth": depth, "min_samples_leaf": leaf, "max_features": features])
                    }
                }
            }
            return list
        default:
            // The LSTMs' defaults before this benchmark (dropout is 0.2 since).
            var list: [[String: JSONValue]] = [["learning_rate": 0.001, "hidden": 32, "dropout": 0]]
            for rate in [0.001, 0.003] as [JSONValue] {
                for hidden in [32, 64] as [JSONValue] {
                    for dropout in [0, 0.2] as [JSONValue] {
                        let candidate: [String: JSONValue] = ["learning_rate": rate, "hidden": hidden, "dropout": dropout]
                        if candidate != ["learning_rate": 0.001, "hidden": 32, "dropout": 0] { list.append(candidate) }
                    }
                }
            }
            return list
        }
    }

    /// A dataset of `shape`, with its panel when it has one; nil (said) when it cannot be read.
    private func load(_ shape: String) throws -> (Dataset, MonthlyPanel?)? {
        switch shape {
        case "telco":
            let path = repositoryParent + "/shared/data/telco/telco_train.csv"
            guard FileManager.default.fileExists(atPath: path), let schema = BuiltInSchemas.detect(header: CSVReader.header(of: path)) else {
                print("telco: \(path) is missing (it lives in ../shared beside the repository); skipped")
                return nil
            }
            return (try DatasetReader.read(path, schema: schema, options: DatasetReadOptions(requireLabel: true)).0, nil)
        case "telco-like":
            return (SyntheticTelco.generate(customers: 6000, seed: 31).dataset.withoutPanel, nil)
        case "operator":
            return (SyntheticOperator.generate(customers: 2700, seed: 32), nil)
        case "operator-rules":
            return (SyntheticOperator.generate(customers: 2700, seed: 35, signal: .thresholds), nil)
        case "operator-large":
            return (SyntheticOperator.generate(customers: largeRows, seed: 33), nil)
        case "panel":
            let generated = SyntheticTelco.generate(customers: 6000, seed: 34)
            var dataset = generated.dataset
            dataset.schema = SyntheticTelco.schemaWithHistory
            return (dataset, generated.panel)
        default:
            throw ValidationError("unknown shape \(shape): use telco, telco-like, operator, operator-rules, operator-large, panel")
        }
    }
}

extension Dataset {
    /// The dataset under its schema without a monthly panel (static fields only).
    fileprivate var withoutPanel: Dataset {
        var copy = self
        copy.schema.history = nil
        return copy
    }
}
