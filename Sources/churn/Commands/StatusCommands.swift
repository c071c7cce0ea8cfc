import ArgumentParser
import ChurnClient
import ChurnProtocol

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show whether the daemon is up, its plugins and its champion.",
        discussion: """
            Exit status 0 when every plugin is ready, 2 when some are not, 69 when no daemon answers.

            Examples:
              churn health
              churn health --json
              churn health --socket /run/churn/churnd.sock
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let client = try await connection.connect()
        let health = try await reporting { () async throws(ChurnClientError) in try await client.health() }
        if connection.json {
            try printJSON(health)
        } else {
            print("status:    \(health.status)")
            print("daemon:    churnd \(health.daemonVersion), protocol \(health.protocolVersion), pid \(health.pid), up \(Int(health.uptimeSeconds)) s")
            print("socket:    \(health.socket)")
            print("champion:  \(health.champion?.description ?? "none (train one with `churn train`, then `churn promote`)")")
            print("plugins:   " + (health.plugins.isEmpty ? "none found" : health.plugins.map { "\($0.kind) (\($0.state))" }.joined(separator: ", ")))
        }
        if health.status != "ok" { throw ExitCode(2) }
    }
}

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the model plugins the daemon found, their state and capabilities.",
        discussion: """
            A plugin is any executable named churn-plugin-<kind> beside churnd or on its plugin path.

            Examples:
              churn plugins
              churn plugins --json
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let client = try await connection.connect()
        let plugins = try await reporting { () async throws(ChurnClientError) in try await client.plugins() }
        if connection.json {
            try printJSON(plugins)
            return
        }
        if plugins.isEmpty {
            print("no plugins found: install churn-plugin-<kind> executables beside churnd or on --plugin-path")
            return
        }
        printTable(
            ["KIND", "STATE", "PID", "VERSION", "RESTARTS", "CAPABILITIES", "NOTE"],
            plugins.map {
                [
                    $0.kind, $0.state, $0.pid.map(String.init) ?? "-", $0.description?.pluginVersion ?? "-",
                    String($0.restarts), $0.description?.capabilities.joined(separator: ",") ?? "-",
                    $0.lastError ?? "",
                ]
            })
    }
}
