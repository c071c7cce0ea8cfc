import ArgumentParser
import ChurnClient
import ChurnProtocol
import Foundation

/// `churn leaderboard MODEL`: every configuration a tuned version's search cross-validated.
struct LeaderboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaderboard",
        abstract: "Show every configuration a tuned version's search tried, best cross-validated ROC-AUC first.",
        discussion: """
            A version trained with --kind auto or --tune keeps its leaderboard: each configuration's \\
            kind and hyperparameters, its successive-halving rung, its mean ROC-AUC over the folds \\
            (± the spread between folds), the log loss of its out-of-fold probabilities, and the \\
            seconds one fold took; the blend of kinds it considered; and whether the budget or a \\
            cancellation cut the search short. All of it was measured on the training rows only.

            Examples:
              churn leaderboard churn@7
              churn leaderboard champion --top 10
              churn leaderboard churn@7 --json
            """)

    @Argument(help: "A tuned version (7, churn@7) or alias (champion).")
    var model: String

    @Option(help: "Show the best N configurations (all by default).")
    var top: Int?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be 1 or more, got \(top)") }
    }

    func run() async throws {
        let client = try await connection.connect()
        let version = try await reporting { () async throws(ChurnClientError) in try await client.model(model) }
        guard let leaderboard = version.leaderboard else {
            throw CleanExit.message(
                "\(version.ref) was not tuned, so it has no leaderboard: train with --kind auto or --tune (churn train --help)", code: 65)
        }
        if output.json { return try printJSON(leaderboard) }
        print("\(version.ref) (\(version.kind))")
        print(LeaderboardTable.text(leaderboard, limit: top))
    }
}

/// A leaderboard as text: what was searched and how, a table of configurations, the blend.
enum LeaderboardTable {
    static func text(_ board: Leaderboard, limit: Int?) -> String {
        var lines: [String] = []
        var head = String(
            format: "%d-fold CV on %d training rows, seed %llu: %d configurations of %@ in %.1f s (budget %.0f s)", board.folds, board.rows,
            board.seed, board.entries.count, board.kinds.joined(separator: ", "), board.searchSeconds, board.budgetSeconds)
        switch board.stopped {
        case "budget"?: head += "; the budget ran out before the plan's \(board.planned) trials"
        case "cancelled"?: head += "; cancelled before the plan's \(board.planned) trials"
        default: break
        }
        lines.append(head)
        let shown = limit.map { Array(board.entries.prefix($0)) } ?? board.entries
        let header = ["#", "TRIAL", "KIND", "RUNG", "CV ROC-AUC", "± SPREAD", "LOG LOSS", "S/FOLD", "PARAMS"]
        let rows = shown.enumerated().map { index, entry in
            [
                String(index + 1), String(entry.trial) + (entry.trial == board.chosenTrial ? "*" : ""), entry.kind, String(entry.rung),
                String(format: "%.4f", entry.rocAUC), String(format: "%.4f", entry.rocAUCStd), String(format: "%.4f", entry.logLoss),
                String(format: "%.2f", entry.fitSeconds),
                (entry.isDefault ? "(defaults) " : "") + entry.params.keys.sorted().map { "\($0)=\(entry.params[$0]!.brief)" }.joined(separator: " "),
            ]
        }
        lines.append(tableText(header, rows))
        if let blend = board.blend {
            lines.append(
                String(format: "blend (nested CV ROC-AUC %.4f ± %.4f)%@: ", blend.rocAUC, blend.rocAUCStd, blend.chosen ? ", registered" : ", not better than the best single model")
                    + blend.members.map { String(format: "trial %d %@ × %.1f", $0.trial, $0.kind, $0.weight) }.joined(separator: " + "))
        } else if let chosen = board.chosenTrial {
            lines.append("* registered: trial \(chosen)")
        }
        return lines.joined(separator: "\n")
    }
}
