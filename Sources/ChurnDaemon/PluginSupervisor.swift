import ChurnProtocol
import ChurnRPC
import Foundation
import Logging

/// All plugin processes of one daemon: discovery, start, health checks, stop.
public final class PluginSupervisor: Sendable {
    /// The plugins by kind, in discovery order.
    public let plugins: [PluginProcess]
    private let byKind: [String: PluginProcess]
    private let policy: PluginPolicy
    /// The private folder holding the plugins' sockets.
    let socketDirectory: String

    init(
        discovered: [DiscoveredPlugin], socketDirectory: String, configuration: DaemonConfiguration,
        logger: Logger
    ) {
        self.socketDirectory = socketDirectory
        self.policy = configuration.plugins
        self.plugins = discovered.map {
            PluginProcess(
                plugin: $0, socketPath: (socketDirectory as NSString).appendingPathComponent("\($0.kind).sock"),
                policy: configuration.plugins, maximumFramePayload: configuration.maximumFramePayload,
                logLevel: configuration.pluginLogLevel, logger: logger)
        }
        self.byKind = Dictionary(uniqueKeysWithValues: plugins.map { ($0.kind, $0) })
    }

    /// Starts every plugin at once; returns when each is ready, refused or waiting to retry.
    func startAll() async {
        await withDiscardingTaskGroup { group in
            for plugin in plugins { group.addTask { await plugin.start() } }
        }
    }

    /// Stops every plugin at once and removes the socket folder.
    func stopAll() async {
        await withDiscardingTaskGroup { group in
            for plugin in plugins { group.addTask { await plugin.stop() } }
        }
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    /// Health-checks every ready plugin at the policy's interval until cancelled.
    func runHealthChecks() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: policy.healthCheckInterval) } catch { return }
            await withDiscardingTaskGroup { group in
                for plugin in plugins { group.addTask { await plugin.healthCheck() } }
            }
        }
    }

    /// Every plugin's status, in discovery order.
    func statuses() async -> [PluginStatus] {
        var result: [PluginStatus] = []
        for plugin in plugins { result.append(await plugin.status()) }
        return result
    }

    /// The plugin of `kind`, or -32000 listing the kinds there are.
    func plugin(kind: String) throws -> PluginProcess {
        if let plugin = byKind[kind] { return plugin }  // the hot path: kinds as registered
        let normalized = kind.replacingOccurrences(of: "-", with: "_")
        guard let plugin = byKind[normalized] else {
            let known = plugins.map(\.kind)
            if let suggestion = NearMiss.suggestion(for: kind, among: known) {
                throw RPCError(
                    .pluginUnavailable,
                    "no plugin of kind \(kind) is installed: did you mean \(suggestion)? (installed: \(known.joined(separator: ", ")))",
                    data: ["field": "kind", "kind": .string(kind), "suggestion": .string(suggestion)])
            }
            throw RPCError(
                .pluginUnavailable,
                "no plugin of kind \(kind) is installed (installed: \(known.isEmpty ? "none" : known.joined(separator: ", "))): put an executable named churn-plugin-\(normalized.replacingOccurrences(of: "_", with: "-")) beside churnd or on the plugin path",
                data: ["field": "kind", "kind": .string(kind)])
        }
        return plugin
    }
}
