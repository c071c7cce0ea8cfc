import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

struct ExperimentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run champion/challenger experiments: A/B (a sticky share of customers) or shadow.",
        discussion: """
            Examples:
              churn experiment start --challenger churn@5 --mode ab --share 0.1
              churn experiment start --challenger 5 --mode shadow
              churn experiment status
              churn experiment report
              churn experiment stop
            """,
        subcommands: [Start.self, Stop.self, Status.self, Report.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start an experiment: the challenger is loaded first, then takes its share (ab) or scores in the shadow.",
            discussion: """
                In ab mode a customer always lands in the same arm (hash of the experiment and customer ids). \
                In shadow mode the champion answers every request and the challenger's answers are only logged.

                Examples:
                  churn experiment start --challenger churn@5 --mode ab --share 0.2
                  churn experiment start --challenger 5 --mode shadow --note "LSTM vs forest"
                """)

        @Option(help: "The challenger version (5, churn@5).")
        var challenger: String

        @Option(help: "ab or shadow.")
        var mode: ExperimentModeArgument

        @Option(help: "Share of customers the challenger answers in ab mode, in (0, 1).")
        var share: Double?

        @Option(help: "Why, kept with the experiment.")
        var note: String?

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let experiment = try await reporting { () async throws(ChurnClientError) in
                try await client.startExperiment(challenger: challenger, mode: ExperimentMode(rawValue: mode.rawValue), share: share, note: note)
            }
            if output.json { return try printJSON(experiment) }
            print("experiment \(experiment.id) running: \(experiment.mode), champion \(experiment.model)@\(experiment.championVersion) vs challenger \(experiment.model)@\(experiment.challengerVersion)" + (experiment.mode == .ab ? String(format: ", challenger share %.0f%%", experiment.share * 100) : ""))
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the running experiment; the champion answers everyone again.")
        @Option(help: "The model name.")
        var name: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let experiment = try await reporting { () async throws(ChurnClientError) in try await client.stopExperiment(name: name) }
            if output.json { return try printJSON(experiment) }
            print("experiment \(experiment.id) stopped")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the running experiment and earlier ones.")
        @Option(help: "The model name.")
        var name: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let status = try await reporting { () async throws(ChurnClientError) in try await client.experiments(name: name) }
            if output.json { return try printJSON(status) }
            if status.experiments.isEmpty { return print("no experiments yet: start one with `churn experiment start`") }
            printTable(
                ["ID", "STATUS", "MODE", "SHARE", "CHAMPION", "CHALLENGER", "STARTED", "BY"],
                status.experiments.map {
                    [String($0.id), $0.status.rawValue, $0.mode.rawValue, $0.mode == .ab ? String(format: "%.2f", $0.share) : "-", "v\($0.championVersion)",
                     "v\($0.challengerVersion)", String($0.startedAt.prefix(19)), $0.startedBy]
                })
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the arms on the outcomes recorded with `churn feedback`: metrics with 95% intervals and a verdict.")
        @Option(help: "The model name.")
        var name: String?
        @Option(help: "An experiment id (default: the running one, else the latest).")
        var experiment: Int?
        @Option(help: "The riskiest share for precision and recall at the top.")
        var top = 0.1
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let report = try await reporting { () async throws(ChurnClientError) in
                try await client.experimentReport(name: name, experiment: experiment, topFraction: top)
            }
            if output.json { return try printJSON(report) }
            ExperimentReportPrinter.print(report)
        }
    }
}

/// `--mode`: a closed choice, so a typo is refused with the choices listed.
enum ExperimentModeArgument: String, ExpressibleByArgument, CaseIterable {
    case ab, shadow
}

/// A report as a table and a verdict line.
enum ExperimentReportPrinter {
    static func print(_ report: ExperimentReport) {
        let experiment = report.experiment
        Swift.print("experiment \(experiment.id) (\(experiment.mode), \(experiment.status)): \(experiment.model)@\(experiment.championVersion) vs \(experiment.model)@\(experiment.challengerVersion)")
        func cell(_ interval: Interval?) -> String {
            interval.map { String(format: "%.3f [%.3f, %.3f]", $0.value, $0.low, $0.high) } ?? "-"
        }
        let top = String(format: "%.0f%%", report.topFraction * 100)
        printTable(
            ["ARM", "VERSION", "SCORED", "OUTCOMES", "ROC-AUC", "LOG LOSS", "BRIER", "PRECISION@\(top)", "RECALL@\(top)"],
            report.arms.map {
                [$0.arm.rawValue, "v\($0.version)", String($0.predictions), String($0.outcomes), cell($0.rocAUC), cell($0.logLoss), cell($0.brier),
                 cell($0.precisionAtTop), cell($0.recallAtTop)]
            })
        // The money beside the ranking, when predictions logged bills.
        if report.arms.contains(where: { $0.revenueAtTop != nil }) {
            printTable(
                ["ARM", "CHURNERS' MONTHLY REVENUE IN THE RISKIEST \(top) (95%)", "SHARE OF ALL CHURNERS' (95%)"],
                report.arms.map { arm in
                    [
                        arm.arm.rawValue,
                        arm.revenueAtTop.map { String(format: "%.0f [%.0f, %.0f]", $0.value, $0.low, $0.high) } ?? "-",
                        arm.revenueShareAtTop.map { String(format: "%.1f%% [%.1f, %.1f]", $0.value * 100, $0.low * 100, $0.high * 100) } ?? "-",
                    ]
                })
        }
        if let paired = report.paired {
            Swift.print(String(format: "paired (DeLong) on %d customers: AUC difference %+.4f ± %.4f, z %.2f, p %.4f", paired.customers, paired.aucDifference, 1.96 * paired.standardError, paired.z, paired.p))
        }
        Swift.print("verdict: \(report.verdict)")
    }
}

struct FeedbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback",
        abstract: "Record who churned (outcomes), for experiment and campaign reports and uplift models.",
        discussion: """
            A CSV needs an id column (customerID or customer_id; else name it with --id-column) and an \
            outcome column: churned, or the training file's own label column (Churn, Churn Label, \
            Churn Value; else name it with --label-column), with yes/no, 1/0 or true/false. A date \
            column (YYYY-MM-DD) is optional. The training file itself is accepted as it is.

            Examples:
              churn feedback outcomes.csv                  # customerID,churned[,date]
              churn feedback ../shared/data/telco/telco_train.csv
              churn feedback export.csv --id-column "Customer ID" --label-column "Left"
              churn feedback --customer 7590-VHVEG --churned yes --date 2026-11-30
            """)

    @Argument(help: "A CSV of outcomes.")
    var file: String?

    @Option(help: "One customer id.")
    var customer: String?

    @Option(help: "yes or no, with --customer.")
    var churned: String?

    @Option(help: "When it was observed (YYYY-MM-DD), with --customer.")
    var date: String?

    @Option(help: "The CSV's id column (default: customerID or customer_id).")
    var idColumn: String?

    @Option(help: "The CSV's outcome column (default: churned, Churn, Churn Label or Churn Value).")
    var labelColumn: String?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (file == nil) == (customer == nil) { throw ValidationError("give a CSV file or --customer with --churned") }
        if customer != nil, Self.flag(churned ?? "") == nil { throw ValidationError("--churned must be yes or no") }
    }

    static func flag(_ text: String) -> Bool? {
        switch text.lowercased().trimmingCharacters(in: .whitespaces) {
        case "yes", "1", "true": true
        case "no", "0", "false": false
        default: nil
        }
    }

    /// Id columns tried in order when --id-column is not given.
    static let idColumns = ["customerID", "customer_id", "CustomerID", "Customer ID"]
    /// Outcome columns tried in order when --label-column is not given.
    static let outcomeColumns = ["churned", "Churn", "Churn Label", "Churn Value"]

    func run() async throws {
        var outcomes: [Outcome] = []
        if let customer {
            outcomes = [Outcome(customerID: customer, churned: Self.flag(churned!)!, date: date)]
        } else if let file {
            outcomes = try Self.read(file, idColumn: idColumn, labelColumn: labelColumn)
        }
        let client = try await connection.connect()
        let result = try await reporting { () async throws(ChurnClientError) in try await client.feedback(outcomes) }
        if output.json { return try printJSON(result) }
        print("recorded \(result.recorded) outcomes")
        let unknown = result.unknownTotal ?? result.unknownCustomers.count
        if unknown > 0 {
            print("\(unknown) of them were never scored by this daemon: \(result.unknownCustomers.prefix(10).joined(separator: ", "))\(unknown > 10 ? ", ..." : "")")
        }
    }

    static func read(_ path: String, idColumn: String? = nil, labelColumn: String? = nil) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var columns: (id: Int, churned: Int, date: Int?, names: [String])?
        var problems: [String] = []
        do {
            try CSVReader(path: path).forEachRecord { record in
                let fields = (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }
                guard let known = columns else {
                    let idCandidates = idColumn.map { [$0] } ?? idColumns
                    let outcomeCandidates = labelColumn.map { [$0] } ?? outcomeColumns
                    guard let id = idCandidates.lazy.compactMap({ fields.firstIndex(of: $0) }).first else {
                        throw CleanExit.message(
                            "\(path): no id column: expected \(idCandidates.joined(separator: " or ")) in the header (\(fields.joined(separator: ", "))); name it with --id-column",
                            code: 65)
                    }
                    guard let churned = outcomeCandidates.lazy.compactMap({ fields.firstIndex(of: $0) }).first else {
                        throw CleanExit.message(
                            "\(path): no outcome column: expected \(outcomeCandidates.joined(separator: " or ")) in the header (\(fields.joined(separator: ", "))); name it with --label-column",
                            code: 65)
                    }
                    columns = (id, churned, fields.firstIndex(of: "date"), fields)
                    return
                }
                guard fields.count == known.names.count else {
                    problems.append("\(path):\(record.line): row has \(fields.count) fields, the header has \(known.names.count)")
                    return
                }
                guard let flag = flag(fields[known.churned]) else {
                    problems.append(
                        "\(path):\(record.line): column \(known.names[known.churned]): \"\(fields[known.churned])\": expected yes or no (or 1/0, true/false)")
                    return
                }
                outcomes.append(Outcome(customerID: fields[known.id], churned: flag, date: known.date.map { fields[$0] }))
            }
        } catch let error as DataError {
            throw CleanExit.message(error.description, code: 65)
        }
        guard problems.isEmpty else {
            throw CleanExit.message(problems.prefix(20).joined(separator: "\n") + (problems.count > 20 ? "\n... and \(problems.count - 20) more" : ""), code: 65)
        }
        guard !outcomes.isEmpty else { throw CleanExit.message("\(path) has a header but no outcomes", code: 65) }
        return outcomes
    }
}
