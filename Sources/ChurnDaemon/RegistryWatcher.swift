import ChurnProtocol
import ChurnRegistry
import Logging
import ServiceLifecycle
import Synchronization

/// With a registry several hosts share: follows the promotions, rollbacks, registrations and
/// experiments other hosts make. PostgreSQL's notifications wake it at once; a poll of the
/// registry every `interval` bounds the delay when a notification is lost (or the listening
/// connection is down). On a change it warms the new champion (and challenger) before routing
/// switches to them, as a promote on this host does. With an SQLite registry (one host) it
/// does nothing.
struct RegistryWatcher: Service {
    let serving: ModelServing
    let interval: Duration
    let logger: Logger

    /// How often the notification flag is looked at between polls.
    static let wakeCheck: Duration = .milliseconds(20)

    func run() async {
        let location = serving.resolver.registry.location
        guard location.isShared else {
            // One host: nothing to follow; a service that returned early would stop the group.
            try? await gracefulShutdown()
            return
        }
        let notified = Atomic<Bool>(false)
        let listener = Task { await RegistryNotifications.listen(location) { notified.store(true, ordering: .relaxed) } }
        defer { listener.cancel() }
        await cancelWhenGracefulShutdown {
            await follow(notified: notified)
        }
    }

    /// Polls, or looks at once when notified, until cancelled.
    private func follow(notified: borrowing Atomic<Bool>) async {
        var token = try? await serving.resolver.registry.changeToken()
        var sincePoll: Duration = .zero
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.wakeCheck)
            sincePoll += Self.wakeCheck
            let woken = notified.exchange(false, ordering: .relaxed)
            guard woken || sincePoll >= interval else { continue }
            sincePoll = .zero
            do {
                let now = try await serving.resolver.registry.changeToken()
                guard now != token else { continue }
                token = now
                await serving.followRegistryChange()
            } catch {
                logger.warning("cannot read the shared registry: \(error); serving what is loaded")
            }
        }
    }
}
