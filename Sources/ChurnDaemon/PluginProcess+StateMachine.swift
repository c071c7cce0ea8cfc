import ChurnProtocol

extension PluginProcess {
    /// The life of one plugin process as a pure state machine (events in, actions out), so
    /// every transition is tested without starting a process. ``PluginProcess`` feeds it the
    /// events it sees (a start, a handshake, an exit, a failed health check, a stop) and carries
    /// out the actions it returns (launch, restart after a delay, refuse, ignore).
    ///
    /// Incarnations number the processes: an event from an older process (its exit arriving
    /// after a restart) is ignored.
    struct StateMachine: Sendable {
        enum State: Equatable, Sendable {
            case stopped, starting, ready, backingOff, refused(Refusal)
        }

        private(set) var state: State = .stopped
        private(set) var incarnation = 0
        /// Restarts after a failure (not counting the first start).
        private(set) var restarts = 0
        private(set) var failuresInARow = 0
        private(set) var everReady = false
        private(set) var stopping = false
        /// The incarnation whose failure was already handled (exit and failed handshake both report it).
        private var failedIncarnation = 0
        let policy: PluginPolicy

        init(policy: PluginPolicy) {
            self.policy = policy
        }

        /// The state name `plugins.list` shows.
        var stateName: PluginState {
            switch state {
            case .stopped: .stopped
            case .starting: restarts == 0 ? .starting : .restarting
            case .ready: .ready
            case .backingOff: .restarting
            case .refused: .refused
            }
        }

        // MARK: Events

        /// A start (first, or a restart that is due): the incarnation to launch, or nil while stopping.
        mutating func start() -> Int? {
            guard !stopping else { return nil }
            incarnation += 1
            state = .starting
            return incarnation
        }

        /// The process of `incarnation` answered its handshake: true when it is still the one
        /// wanted (not superseded, not stopping), so its connection is adopted.
        func handshakeAnswered(incarnation: Int) -> Bool {
            incarnation == self.incarnation && !stopping
        }

        /// The process of `incarnation` has reloaded its models: true when it now serves
        /// (waiting requests get its connection).
        mutating func becameReady(incarnation: Int) -> Bool {
            guard incarnation == self.incarnation, !stopping else { return false }
            state = .ready
            everReady = true
            return true
        }

        /// What a failure of the process of `incarnation` leads to.
        enum FailureAction: Equatable {
            /// Stale, already handled, refused, or stopping.
            case ignore
            /// Never started and failed `failures` times in a row: refuse it for good.
            case refuse(failures: Int)
            /// Restart after `delay`, unless another event came first (``restartDue(incarnation:)``).
            case restart(after: Duration, failures: Int)
        }

        mutating func failed(incarnation: Int) -> FailureAction {
            guard incarnation == self.incarnation, incarnation != failedIncarnation, !stopping else { return .ignore }
            failedIncarnation = incarnation
            if case .refused = state { return .ignore }
            failuresInARow += 1
            if !everReady, failuresInARow >= policy.maximumStartFailures { return .refuse(failures: failuresInARow) }
            state = .backingOff
            return .restart(after: policy.backoff(afterFailures: failuresInARow), failures: failuresInARow)
        }

        /// The plugin must not be used (another protocol, wrong kind, never started).
        mutating func refuse(_ refusal: Refusal) {
            state = .refused(refusal)
        }

        /// A backoff delay has passed: true when the restart it was for should happen now.
        mutating func restartDue(incarnation: Int) -> Bool {
            guard incarnation == self.incarnation, state == .backingOff, !stopping else { return false }
            restarts += 1
            return true
        }

        /// What the exit of the process of `incarnation` means.
        enum ExitMeaning: Equatable {
            /// An older process, or a refused plugin's.
            case ignore
            /// The stop asked for it.
            case stopped
            /// It died: handle as a failure (``failed(incarnation:)``).
            case failure
        }

        func exited(incarnation: Int) -> ExitMeaning {
            guard incarnation == self.incarnation else { return .ignore }
            if stopping { return .stopped }
            if case .refused = state { return .ignore }
            return .failure
        }

        /// The connection of `incarnation` closed: true when the process should be watched for
        /// closing its socket without exiting (it is the serving one).
        func connectionClosed(incarnation: Int) -> Bool {
            incarnation == self.incarnation && !stopping && state == .ready
        }

        /// A health check passed: failures no longer count as "in a row".
        mutating func healthCheckPassed() {
            failuresInARow = 0
        }

        mutating func beginStop() {
            stopping = true
        }

        /// The process is gone after a stop (a refused plugin stays refused).
        mutating func stopped() {
            if case .refused = state { return }
            state = .stopped
        }

        /// What a request for a connection gets now.
        enum Readiness: Equatable {
            case ready
            case wait
            case refused(Refusal)
            case stopped
        }

        var readiness: Readiness {
            switch state {
            case .ready: .ready
            case .starting, .backingOff: .wait
            case .refused(let refusal): .refused(refusal)
            case .stopped: .stopped
            }
        }
    }
}
