import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import ChurnDaemon

/// `churnd`: the churn daemon. Serves length-prefixed JSON-RPC on a Unix socket and runs the
/// model plugins it finds as child processes.
@main
struct Churnd: AsyncParsableCommand {
    /// Runs Swift concurrency on NIO's event loops, so requests never hop between the socket
    /// threads and a separate task pool (see `NIOSingletons`), then runs the command.
    static func main() async {
        NIOSingletons.groupLoopCountSuggestion = Int(ProcessInfo.processInfo.environment["CHURN_EVENT_LOOPS"] ?? "") ?? 1
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "churnd",
        abstract: "Serve churn predictions on a Unix socket, running model plugins as child processes.",
        discussion: """
            Plugins are executables named churn-plugin-<kind>, found in each --plugin-path folder, \
            then in CHURN_PLUGIN_PATH, then beside churnd. State (registry, artifact cache, training runs) \
            lives under --home. Stop with SIGTERM or Ctrl-C: in-flight requests finish first.

            Examples:
              churnd
              churnd --home /var/lib/churn --socket /run/churn/churnd.sock
              churnd --plugin-path ./plugins --log-level debug
            """,
        version: ChurnDaemon.version)

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await DaemonLauncher.run(options.settings)
    }
}
