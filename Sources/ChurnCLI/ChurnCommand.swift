import ArgumentParser
import NIOCore
import NIOPosix

/// `churn`: the command line of the churn system.
public struct ChurnCommand: AsyncParsableCommand {
    public init() {}

    /// Runs Swift concurrency on one NIO event loop (as churnd does), then the command.
    public static func runAsMain() async {
        NIOSingletons.groupLoopCountSuggestion = 1
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    public static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Predict which telecom customers will leave, explain why, and manage the models that say so.",
        discussion: """
            Commands talk to the churn daemon over its Unix socket (--socket, else CHURN_SOCKET, else \
            the default); `churn serve` runs one. `data inspect`, `generate` and `registry migrate` work \
            on files alone. State lives under --home (else CHURN_HOME, else ./var).

            Start here:
              churn demo                  train, register and serve a model on synthetic data, end to end
              churn serve                 run the daemon in the foreground
              churn predict customer.json
            """,
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, HealthCommand.self, PluginsCommand.self, PredictCommand.self, ScoreCommand.self, ExplainCommand.self, TrainCommand.self,
            ModelsCommand.self, LeaderboardCommand.self, PromoteCommand.self, RollbackCommand.self, ExportCommand.self, ImportCommand.self,
            DeleteCommand.self, VerifyCommand.self, AuditCommand.self, ExperimentCommand.self, CampaignCommand.self, FeedbackCommand.self, MetricsCommand.self,
            DataCommand.self, HistoryCommand.self, GenerateCommand.self, DemoCommand.self, WebCommand.self, RegistryCommand.self,
        ])
}
