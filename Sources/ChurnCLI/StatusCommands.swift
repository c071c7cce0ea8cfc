import ArgumentParser
import ChurnClient
import ChurnProtocol

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show whether the daemon is up, its plugins and its champion.",
        discussion: """
            Exit status 0 when every plugin is ready, 2 when some are not, 69 when no daemon answers, 77 \
            when its socket is closed to you (the message names the socket's owner, group and mode).

            Examples:
              churn health
              churn health --json
              churn health --socket /run/churn/churnd.sock
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let health = try await reporting { () async throws(ChurnClientError) in try await client.health() }
        if output.json {
            try printJSON(health)
        } else {
            print("status:    \(health.status)")
            print("daemon:    churnd \(health.daemonVersion), protocol \(health.protocolVersion), pid \(health.pid), up \(Int(health.uptimeSeconds)) s")
            print("socket:    \(health.socket)")
            if let registry = health.registry {
                print("registry:  \(registry.engine) \(registry.location)"
                    + (registry.spooledLogEntries > 0 ? " (\(registry.spooledLogEntries) prediction log entries waiting on this host's disk for it)" : ""))
                if registry.heldLogEntries > 0 {
                    print("           \(registry.heldLogEntries) prediction log entries held in churnd's memory: neither the registry nor the spool folder can take them (a full or read-only disk?); see churnd's log")
                }
                if registry.lostLogEntries > 0 {
                    print("           \(registry.lostLogEntries) prediction log entries LOST since churnd started (held longer than its bound allows): experiment and campaign reports miss them")
                }
            }
            print("champion:  \(health.champion?.description ?? "none (train one with `churn train`, then `churn promote`)")")
            print("plugins:   " + (health.plugins.isEmpty ? "none found" : health.plugins.map { "\($0.kind) (\($0.state))" }.joined(separator: ", ")))
            if let experiment = health.experiment {
                let split = experiment.mode == .ab ? "ab, \(Int((experiment.share * 100).rounded()))% to the challenger" : "shadow"
                print("experiment: #\(experiment.id) \(experiment.model)@\(experiment.championVersion) vs @\(experiment.challengerVersion) (\(split))")
            }
            for series in health.serving ?? [] {
                let latency = String(format: "p50 %.2f ms, p99 %.2f ms", series.p50Milliseconds, series.p99Milliseconds)
                print("serving:   \(series.model) \(series.arm): \(series.requests) calls, \(series.customers) customers, \(series.errors) errors, \(latency)")
            }
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
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let plugins = try await reporting { () async throws(ChurnClientError) in try await client.plugins() }
        if output.json {
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
                    $0.kind, $0.state.rawValue, $0.pid.map(String.init) ?? "-", $0.description?.pluginVersion ?? "-",
                    String($0.restarts), $0.description?.capabilities.joined(separator: ",") ?? "-",
                    $0.lastError ?? "",
                ]
            })
    }
}

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the daemon's serving metrics in the Prometheus text format.",
        discussion: """
            Requests, customers, errors and latency histograms per model version and arm.

            Examples:
              churn metrics
              churn metrics | grep churn_requests_total
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let client = try await connection.connect()
        let text = try await reporting { () async throws(ChurnClientError) in try await client.metrics() }
        print(text, terminator: "")
    }
}
