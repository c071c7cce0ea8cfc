import ArgumentParser
import NIOCore
import NIOPosix
import ChurnDaemon
import Logging

/// `churnd`: the churn daemon. Serves length-prefixed JSON-RPC on a Unix socket and runs the
/// model plugins it finds as child processes.
@main
struct Churnd: AsyncParsableCommand {
    /// Runs Swift concurrency on NIO's event loops, so requests never hop between the socket
    /// threads and a separate task pool (see `NIOSingletons`), then runs the command.
    static func main() async {
        NIOSingletons.groupLoopCountSuggestion = 1
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

    @Option(help: "Unix socket to serve on (else CHURN_SOCKET, else $XDG_RUNTIME_DIR/churn/churnd.sock, else <home>/churnd.sock).")
    var socket: String?

    @Option(help: "State folder (else CHURN_HOME, else ./var).")
    var home: String?

    @Option(help: "JSON config file (default <home>/churnd.json when it exists).")
    var config: String?

    @Option(name: .customLong("plugin-path"), help: "A folder to search for churn-plugin-<kind> executables; repeatable.")
    var pluginPaths: [String] = []

    @Option(name: .customLong("max-frame"), help: "Largest frame in bytes (default 16777216).")
    var maxFrame: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (else CHURN_LOG_LEVEL, else info).")
    var logLevel: String?

    func run() async throws {
        var settings = DaemonSettings()
        settings.socket = socket
        settings.home = home
        settings.configFile = config
        settings.pluginPaths = pluginPaths
        settings.maximumFramePayload = maxFrame
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = level
        }
        try await DaemonLauncher.run(settings)
    }
}
