import ArgumentParser
import ChurnDaemon
import Logging

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

    @Option(help: "Unix socket to serve on (else CHURN_SOCKET, else $XDG_RUNTIME_DIR/churn/churnd.sock, else <home>/churnd.sock).")
    var socket: String?

    @Option(help: "State folder (else CHURN_HOME, else ./var).")
    var home: String?

    @Option(help: "JSON config file (default <home>/churnd.json when it exists).")
    var config: String?

    @Option(name: .customLong("plugin-path"), help: "A folder to search for churn-plugin-<kind> executables; repeatable.")
    var pluginPaths: [String] = []

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        var settings = DaemonSettings()
        settings.socket = socket
        settings.home = home
        settings.configFile = config
        settings.pluginPaths = pluginPaths
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = level
        }
        do {
            try await DaemonLauncher.run(settings)
        } catch {
            throw CleanExit.message("\(error)", code: 1)
        }
    }
}
