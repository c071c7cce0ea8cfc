import ChurnProtocol
import Testing

@testable import ChurnDaemon

/// Every plugin life transition, without a process: the events ``PluginProcess`` feeds in and
/// the actions it must carry out.
@Suite("Plugin process state machine")
struct PluginStateMachineTests {
    private typealias Machine = PluginProcess.StateMachine
    private let policy = PluginPolicy(initialBackoff: .milliseconds(100), maximumBackoff: .seconds(1), maximumStartFailures: 3)

    /// A machine whose first process is serving.
    private func ready() -> Machine {
        var machine = Machine(policy: policy)
        let first = machine.start()!
        #expect(machine.handshakeAnswered(incarnation: first))
        let step1 = machine.becameReady(incarnation: first)
        #expect(step1)
        return machine
    }

    @Test func aStartLaunchesANewIncarnationThatServesAfterItsHandshake() {
        var machine = Machine(policy: policy)
        #expect(machine.stateName == .stopped)
        #expect(machine.readiness == .stopped)
        let step2 = machine.start()
        #expect(step2 == 1)
        #expect(machine.stateName == .starting)
        #expect(machine.readiness == .wait, "requests wait while it starts")
        let step3 = machine.becameReady(incarnation: 1)
        #expect(step3)
        #expect(machine.state == .ready && machine.everReady)
        #expect(machine.readiness == .ready)
    }

    @Test func aCrashOfTheServingProcessRestartsItWithBackoffThatDoubles() {
        var machine = ready()
        #expect(machine.exited(incarnation: 1) == .failure)
        let step4 = machine.failed(incarnation: 1)
        #expect(step4 == .restart(after: .milliseconds(100), failures: 1))
        #expect(machine.stateName == .restarting)
        let step5 = machine.restartDue(incarnation: 1)
        #expect(step5)
        let step6 = machine.start()
        #expect(step6 == 2)
        #expect(machine.stateName == .restarting, "a restart shows as restarting, not starting")
        // It dies again before serving: the delay doubles; a plugin that once served is never refused.
        let step7 = machine.failed(incarnation: 2)
        #expect(step7 == .restart(after: .milliseconds(200), failures: 2))
        let step8 = machine.restartDue(incarnation: 2)
        #expect(step8)
        _ = machine.start()
        let step9 = machine.failed(incarnation: 3)
        #expect(step9 == .restart(after: .milliseconds(400), failures: 3))
        #expect(machine.restarts == 2)
    }

    @Test func theSameFailureReportedTwiceIsHandledOnce() {
        var machine = ready()
        // The exit handler and the failed connection both report the death of incarnation 1.
        let step10 = machine.failed(incarnation: 1)
        #expect(step10 != .ignore)
        let step11 = machine.failed(incarnation: 1)
        #expect(step11 == .ignore)
        #expect(machine.failuresInARow == 1)
    }

    @Test func eventsFromAnOlderProcessAreIgnored() {
        var machine = ready()
        _ = machine.failed(incarnation: 1)
        _ = machine.restartDue(incarnation: 1)
        let step12 = machine.start()
        #expect(step12 == 2)
        #expect(machine.exited(incarnation: 1) == .ignore, "the old process's exit arrives late")
        let step13 = machine.failed(incarnation: 1)
        #expect(step13 == .ignore)
        #expect(!machine.handshakeAnswered(incarnation: 1))
        let step14 = machine.becameReady(incarnation: 1)
        #expect(!step14)
        let step15 = machine.restartDue(incarnation: 1)
        #expect(!step15, "a restart timer of an older failure does nothing")
        #expect(!machine.connectionClosed(incarnation: 1))
        let step16 = machine.becameReady(incarnation: 2)
        #expect(step16)
    }

    @Test func aPluginThatNeverStartsIsRefusedAfterTheLimit() {
        var machine = Machine(policy: policy)
        for attempt in 1...2 {
            let step17 = machine.start()
            #expect(step17 == attempt)
            guard case .restart = machine.failed(incarnation: attempt) else {
                Issue.record("failure \(attempt) should restart")
                return
            }
            let step18 = machine.restartDue(incarnation: attempt)
            #expect(step18)
        }
        let step19 = machine.start()
        #expect(step19 == 3)
        let step20 = machine.failed(incarnation: 3)
        #expect(step20 == .refuse(failures: 3))
        let refusal = PluginProcess.Refusal(reason: "failed to start 3 times", code: .pluginUnavailable)
        machine.refuse(refusal)
        #expect(machine.stateName == .refused)
        #expect(machine.readiness == .refused(refusal))
        #expect(machine.exited(incarnation: 3) == .ignore, "a refused plugin's exit changes nothing")
        machine.beginStop()
        machine.stopped()
        #expect(machine.stateName == .refused, "it stays refused through a stop")
    }

    @Test func aHealthCheckThatPassesResetsTheFailuresInARow() {
        var machine = ready()
        _ = machine.failed(incarnation: 1)
        _ = machine.restartDue(incarnation: 1)
        _ = machine.start()
        let step21 = machine.becameReady(incarnation: 2)
        #expect(step21)
        machine.healthCheckPassed()
        #expect(machine.failuresInARow == 0)
        let step22 = machine.failed(incarnation: 2)
        #expect(step22 == .restart(after: .milliseconds(100), failures: 1), "backoff starts over")
    }

    @Test func whileStoppingNothingStartsAndAnExitIsTheStop() {
        var machine = ready()
        machine.beginStop()
        #expect(machine.exited(incarnation: 1) == .stopped)
        let step23 = machine.failed(incarnation: 1)
        #expect(step23 == .ignore)
        let step24 = machine.start()
        #expect(step24 == nil)
        #expect(!machine.connectionClosed(incarnation: 1))
        machine.stopped()
        #expect(machine.stateName == .stopped)
        #expect(machine.readiness == .stopped)
    }

    @Test func aStopDuringBackoffCancelsTheRestart() {
        var machine = ready()
        _ = machine.failed(incarnation: 1)
        machine.beginStop()
        let step25 = machine.restartDue(incarnation: 1)
        #expect(!step25)
    }

    @Test func aClosedConnectionIsWatchedOnlyForTheServingProcess() {
        var machine = Machine(policy: policy)
        _ = machine.start()
        #expect(!machine.connectionClosed(incarnation: 1), "not yet serving")
        _ = machine.becameReady(incarnation: 1)
        #expect(machine.connectionClosed(incarnation: 1))
    }
}
