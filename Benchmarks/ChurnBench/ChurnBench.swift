import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `churn-bench`: the project's benchmarks. Each prints our numbers next to the peers' from the
/// same run, as ratios. Build in release: `swift run -c release churn-bench <name>`.
@main
struct ChurnBench: AsyncParsableCommand {
    /// Runs Swift concurrency on NIO's event loops, so requests never hop between the socket
    /// threads and a separate task pool (see `NIOSingletons`), then runs the command.
    static func main() async {
        NIOSingletons.groupLoopCountSuggestion = 1
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "churn-bench",
        abstract: "Measure churn against its peers and print the numbers side by side.",
        discussion: """
            Examples:
              swift run -c release churn-bench rpc
              swift run -c release churn-bench rpc --calls 20000 --seconds 5
              swift run -c release churn-bench data --rows 1000000
              swift run -c release churn-bench registry
              swift run -c release churn-bench forest
              swift run -c release churn-bench lstm
              swift run -c release churn-bench gemm
              swift run -c release churn-bench routing --seconds 20
              swift run -c release churn-bench auto --datasets telco,operator,telco-synthetic --budget 60
              swift run -c release churn-bench defaults --kind random_forest
              swift run -c release churn-bench boosting --datasets telco,operator,large
            """,
        subcommands: [RPCBenchmark.self, TransportProbe.self, DataBenchmark.self, RegistryBenchmark.self, ForestBenchmark.self, SequenceBenchmark.self, GEMMBenchmark.self, RoutingBenchmark.self, WebBenchmark.self, CalibrationBenchmark.self, UpliftBenchmark.self, AutoBenchmark.self, DefaultsBenchmark.self, BoostingBenchmark.self, ScoreBenchmark.self])
}
