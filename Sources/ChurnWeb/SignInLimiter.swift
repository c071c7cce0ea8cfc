import Synchronization

/// Failed sign-ins counted per user and per address over a sliding window: past the limit, the
/// user (or address) is refused for the rest of the window, even with the right password, so
/// passwords cannot be guessed at speed. A successful sign-in clears the user's count.
final class SignInLimiter: Sendable {
    /// Failures per user within ``window`` before that user is refused.
    let perUser: Int
    /// Failures per address within ``window`` before that address is refused (several users
    /// may share an address, so it is looser).
    let perAddress: Int
    let window: Duration

    private struct State {
        var byUser: [String: [ContinuousClock.Instant]] = [:]
        var byAddress: [String: [ContinuousClock.Instant]] = [:]
    }

    private let state = Mutex(State())

    init(perUser: Int = 5, perAddress: Int = 20, window: Duration = .seconds(15 * 60)) {
        self.perUser = perUser
        self.perAddress = perAddress
        self.window = window
    }

    /// Why `user` from `address` may not try now, and for how long; nil when they may.
    enum Refusal: Equatable {
        case user(retryAfter: Duration)
        case address(retryAfter: Duration)
    }

    func check(user: String, address: String, now: ContinuousClock.Instant = .now) -> Refusal? {
        state.withLock { state in
            let cutoff = now - window
            state.byUser[user]?.removeAll { $0 < cutoff }
            state.byAddress[address]?.removeAll { $0 < cutoff }
            if let failures = state.byUser[user], failures.count >= perUser {
                return .user(retryAfter: failures[failures.count - perUser] + window - now)
            }
            if let failures = state.byAddress[address], failures.count >= perAddress {
                return .address(retryAfter: failures[failures.count - perAddress] + window - now)
            }
            return nil
        }
    }

    func failed(user: String, address: String, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.byUser[user, default: []].append(now)
            state.byAddress[address, default: []].append(now)
            // Bounded memory under a flood of made-up user names.
            if state.byUser.count > 10_000 { state.byUser = state.byUser.filter { $0.value.last.map { $0 > now - window } ?? false } }
            if state.byAddress.count > 10_000 { state.byAddress = state.byAddress.filter { $0.value.last.map { $0 > now - window } ?? false } }
        }
    }

    func succeeded(user: String) {
        _ = state.withLock { $0.byUser.removeValue(forKey: user) }
    }
}
