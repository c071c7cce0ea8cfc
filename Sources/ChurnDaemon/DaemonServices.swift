import ChurnProtocol
import ChurnRPC
import Logging
import ServiceLifecycle

/// The plugin processes as a service: started when the daemon starts (then the champion is
/// loaded, so the first prediction does not wait for it), stopped on graceful shutdown, after
/// the server and the shadow scorer (later in the daemon's service list) have finished.
struct PluginService: Service {
    let supervisor: PluginSupervisor
    /// Runs once every plugin has settled (ready, refused, or waiting to retry).
    let whenStarted: @Sendable () async -> Void

    func run() async throws {
        await supervisor.startAll()
        await whenStarted()
        // Until graceful shutdown (or cancellation), the processes run on their own.
        try? await gracefulShutdown()
        await supervisor.stopAll()
    }
}

/// Periodic plugin health checks (`describe` with a timeout) as a service.
struct PluginHealthCheckService: Service {
    let supervisor: PluginSupervisor

    func run() async {
        await cancelWhenGracefulShutdown { await supervisor.runHealthChecks() }
    }
}

/// The RPC server as a service: on graceful shutdown it drains (``RPCServer``) and `health`
/// says `draining` meanwhile.
struct RPCService: Service {
    let server: RPCServer
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            // Returns once draining has answered every request in flight.
            try await server.run()
        } onGracefulShutdown: {
            state.beginDraining()
            logger.notice("draining: finishing in-flight requests, refusing new ones")
        }
    }
}
