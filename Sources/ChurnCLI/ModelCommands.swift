import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model version with a plugin, evaluate it on held-back rows, and register it.",
        discussion: """
            churn reads --data (and --history, and a --mapping file) here and sends them to churnd, \
            which reads the data under a dataset schema: --schema (kaggle, ibm, or a schema file, sent \
            with the request), else the built-in schema whose columns the file has, else one inferred \
            from the file with --label naming the label column (see `churn data inspect`). It checks \
            every cell, holds back --test-fraction of the rows, has the plugin train on the rest with \
            live progress, scores the held-back rows itself and registers the version with its schema. \
            It does not promote it. With --files-on-server, churnd reads the paths itself instead, under \
            one of its --data-root folders.

            Examples:
              churn train --kind random_forest --data ../shared/data/telco/telco_train.csv
              churn train --kind random_forest --data operator.csv --label Churn --name operator
              churn train --kind lstm --data customers.csv --schema schema.json --params '{"epochs": 20}'
              churn train --kind random_forest --data ibm.csv --schema ibm --seed 7 --notes "weekly retrain"

            Fitted to your data: --kind auto cross-validates every installed kind on the training rows \
            (never the held-back ones), compares random configurations by successive halving within \
            --budget seconds, and registers the best, or a blend of the kinds' best when it scores \
            higher. --tune does the same for one kind. `churn leaderboard MODEL` shows every \
            configuration tried.
              churn train --kind auto --data operator.csv --label Churn
              churn train --kind random_forest --tune --budget 120 --data ../shared/data/telco/telco_train.csv
            """)

    @Option(help: "Plugin kind: random_forest, lstm, lstm_attention (see `churn plugins`), or auto to tune every kind and keep the best.")
    var kind: String

    @Flag(help: "Tune the kind's hyperparameters by cross-validation on the training rows first.")
    var tune = false

    @Option(help: "Seconds the whole tuned run may take (default: 60 up to 5,000 rows, more for larger files).")
    var budget: Double?

    @Option(help: "Configurations per kind in the tuning search's first round (default 27).")
    var trials: Int?

    @Option(help: "Cross-validation folds of the tuning search (default 5).")
    var folds: Int?

    @Flag(help: "With --kind auto, register the best single model even when a blend of kinds scores higher.")
    var noBlend = false

    @Option(help: "Labelled customer CSV (read here and sent to churnd).")
    var data: String

    @Option(help: "Dataset schema: kaggle, ibm, or a schema file (default: recognised from the header, else inferred).")
    var schema: String?

    @Option(help: "The label column, when the schema is inferred from the file.")
    var label: String?

    @Option(help: "A first-release column mapping: kaggle, ibm, or a mapping file (use --schema for new files).")
    var mapping: String?

    @Option(help: "Monthly panel CSV (customer_id, period, numeric columns...).")
    var history: String?

    @Flag(help: "churnd reads --data, --history and --mapping itself (under one of its --data-root folders) instead of churn sending them.")
    var filesOnServer = false

    @Option(help: "Hyperparameters as a JSON object, e.g. '{\"n_trees\": 300}'.")
    var params: String?

    @Option(help: "Seed: the same seed and data give the same model.")
    var seed: UInt64 = 0

    @Option(help: "Model name to register under.")
    var name = "churn"

    @Option(help: "Share of rows held back for evaluation.")
    var testFraction = 0.2

    @Flag(help: "Train on the good rows when some are bad (they are listed), instead of refusing the file.")
    var skipBadRows = false

    @Option(help: "Free text kept with the version.")
    var notes: String?

    @Option(help: "A label kept with the version; repeatable.")
    var tag: [String] = []

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let hyperparameters = try Hyperparameters.parse(params)
        var schemaValue: JSONValue?
        if let schema {
            if BuiltInSchemas.all[schema] != nil {
                schemaValue = .string(schema)
            } else {
                do {
                    schemaValue = try DatasetSchema.read(file: schema).jsonValue
                } catch {
                    throw CleanExit.message(error.description, code: 65)
                }
            }
        }
        let client = try await connection.connect()
        let request = TrainParams(
            kind: kind, data: ChurnPath.absolute(data), mapping: mapping.map { ColumnMappingArgument.resolve($0) },
            history: history.map(ChurnPath.absolute), skipBadRows: skipBadRows, params: hyperparameters, seed: seed, name: name,
            testFraction: testFraction, notes: notes, tags: tag, schema: schemaValue, label: label, tune: tune ? true : nil,
            budget: budget, trials: trials, folds: folds, blend: noBlend ? false : nil)
        let quiet = output.json
        let version = try await reporting { () async throws(ChurnClientError) in
            try await client.train(request, filesOnServer: filesOnServer) { update in
                guard !quiet else { return }
                FileHandle.standardError.write(Data((ProgressLine.text(update) + "\n").utf8))
            }
        }
        if output.json {
            try printJSON(version)
        } else {
            print("registered \(version.ref) (\(version.kind))")
            if let json = version.datasetSchema, let schema = try? DatasetSchema.decode(json, source: "") {
                print("schema: \(schema.name), \(schema.inputs.count) inputs, label \(schema.label.column)")
            }
            if let members = version.members {
                print("a blend of " + members.map { "\(version.name)@\($0.version) (\($0.kind), weight \(String(format: "%.2f", $0.weight)))" }.joined(separator: ", "))
            }
            printMetrics(version.metrics)
            if let leaderboard = version.leaderboard {
                print("")
                print(LeaderboardTable.text(leaderboard, limit: 5))
                print("all \(leaderboard.entries.count) configurations: churn leaderboard \(version.ref)")
            }
            print("promote it with: churn promote \(version.ref)")
        }
    }
}

/// A `progress` notification as one line: its message, which says what was done (counts
/// included); the stage and count only when a plugin sent no message.
enum ProgressLine {
    static func text(_ update: ProgressUpdate) -> String {
        let message = update.message.trimmingCharacters(in: .whitespaces)
        if !message.isEmpty { return message }
        return "\(update.stage) " + (update.total.map { "\(update.step)/\($0)" } ?? "\(update.step)")
    }
}

/// A mapping given on the command line: a built-in name, or a file made absolute for the daemon.
enum ColumnMappingArgument {
    static func resolve(_ value: String) -> String {
        ["kaggle", "ibm"].contains(value) ? value : ChurnPath.absolute(value)
    }
}

func printMetrics(_ metrics: [String: Double]) {
    let shown = ["test_roc_auc", "test_f1", "test_precision", "test_recall", "test_accuracy", "test_pr_auc", "test_log_loss", "test_brier"]
    let line = shown.compactMap { key in metrics[key].map { "\(key.dropFirst(5)) \(String(format: "%.4f", $0))" } }
    if !line.isEmpty { print("held-back: " + line.joined(separator: ", ")) }
}

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List registered model versions, or show one in full.",
        discussion: """
            Examples:
              churn models
              churn models champion
              churn models churn@3 --json
            """)

    @Argument(help: "A version (3, churn@3) or alias (champion) to show in full.")
    var model: String?

    @Option(help: "Only versions of this model name.")
    var name: String?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        if let model {
            let version = try await reporting { () async throws(ChurnClientError) in try await client.model(model) }
            if output.json { return try printJSON(version) }
            print("\(version.ref)  \(version.kind) \(version.pluginVersion)  \(version.aliases.joined(separator: ", "))")
            print("created \(version.createdAt) by \(version.createdBy)")
            if let data = version.trainingData { print("trained on \(data.rows) rows of \(data.path ?? "?") (sha256 \(data.sha256.prefix(12)))") }
            print("artifact \(version.artifact.rawBytes) bytes, \(version.artifact.compressedBytes) compressed, sha256 \(version.artifact.sha256)")
            printMetrics(version.metrics)
            if let notes = version.notes { print("notes: \(notes)") }
            if let members = version.members {
                print("blend of " + members.map { "\(version.name)@\($0.version) (\($0.kind), weight \(String(format: "%.2f", $0.weight)))" }.joined(separator: ", "))
            }
            if let leaderboard = version.leaderboard, let best = leaderboard.entries.first {
                print(String(format: "tuned: %d configurations of %@ cross-validated, best CV ROC-AUC %.4f (churn leaderboard %@)",
                    leaderboard.entries.count, leaderboard.kinds.joined(separator: ", "), best.rocAUC, version.ref.description))
            }
            if let importances = version.importances, !importances.isEmpty {
                print("top features: " + importances.prefix(8).map { "\($0.feature) \(String(format: "%.3f", $0.importance))" }.joined(separator: ", "))
            }
            return
        }
        let versions = try await reporting { () async throws(ChurnClientError) in try await client.models(name: name) }
        if output.json { return try printJSON(versions) }
        if versions.isEmpty {
            print("no models yet: train one with `churn train --kind random_forest --data FILE`")
            return
        }
        printTable(
            ["MODEL", "KIND", "ALIASES", "ROC-AUC", "F1", "CREATED", "NOTES"],
            versions.map {
                [
                    $0.ref.description, $0.kind, $0.aliases.joined(separator: ","),
                    $0.metrics["test_roc_auc"].map { String(format: "%.4f", $0) } ?? "-",
                    $0.metrics["test_f1"].map { String(format: "%.4f", $0) } ?? "-", String($0.createdAt.prefix(19)),
                    $0.notes ?? "",
                ]
            })
    }
}

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Point the champion (or another alias) at a version; it is loaded before the switch.",
        discussion: """
            Examples:
              churn promote churn@4
              churn promote 5 --alias challenger
              churn promote 4 --reason "beats v3 on held-back AUC"
              churn promote 6 --alias prepaid --create-alias
            """)

    @Argument(help: "The version: 4, churn@4, or an alias.")
    var model: String

    @Option(help: "The alias to move.")
    var alias = "champion"

    @Option(help: "Why, for the audit log.")
    var reason: String?

    @Flag(help: "Create --alias when the model has no alias of that name (champion and challenger always exist).")
    var createAlias = false

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let change = try await reporting { () async throws(ChurnClientError) in
            try await client.promote(model, alias: alias, reason: reason, createAlias: createAlias)
        }
        if output.json { return try printJSON(change) }
        print("\(change.name)@\(change.alias): \(change.from.map { "version \($0)" } ?? "unset") -> version \(change.to.map(String.init) ?? "unset")")
        for alias in change.cleared ?? [] {
            print("\(change.name)@\(alias): cleared (version \(change.to.map(String.init) ?? "?") is no longer the \(alias))")
        }
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Point the champion (or another alias) back at the version it named before.",
        discussion: """
            The alias goes back to the version its latest promotion (not yet rolled back) moved it \
            from; again, and it goes one further back. Refused when it has no earlier version, or while \
            an experiment compares the champion and the challenger (stop it first).

            Examples:
              churn rollback
              churn rollback --alias challenger --reason "drifted"
            """)

    @Option(help: "The model name.")
    var name = "churn"

    @Option(help: "The alias to move back.")
    var alias = "champion"

    @Option(help: "Why, for the audit log.")
    var reason: String?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let change = try await reporting { () async throws(ChurnClientError) in
            try await client.rollback(name: name, alias: alias, reason: reason)
        }
        if output.json { return try printJSON(change) }
        print("\(change.name)@\(change.alias): version \(change.from.map(String.init) ?? "unset") -> version \(change.to.map(String.init) ?? "unset")")
    }
}

/// `--params` as the JSON object of hyperparameters it must be.
enum Hyperparameters {
    static func parse(_ text: String?) throws -> [String: JSONValue]? {
        guard let text else { return nil }
        guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
            throw ValidationError("--params must be a JSON object, e.g. '{\"n_trees\": 300}'")
        }
        return object
    }
}
