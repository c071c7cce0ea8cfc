import ArgumentParser
import ChurnDaemon

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the churn daemon in the foreground (the same as `churnd`).",
        discussion: """
            Binds the socket, starts every churn-plugin-<kind> found beside churn or on --plugin-path, \
            and serves until Ctrl-C or SIGTERM, finishing in-flight requests first.

            Examples:
              churn serve
              churn serve --home ./state --socket /tmp/churn.sock
              churn serve --plugin-path ./my-plugins --log-level debug
            """)

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        do {
            try await DaemonLauncher.run(options.settings)
        } catch {
            throw CleanExit.message("\(error)", code: 1)
        }
    }
}
