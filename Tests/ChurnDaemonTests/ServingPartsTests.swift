import ChurnProtocol
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ChurnDaemon

/// The batcher and the shadow scorer without a daemon: ordering comes from gates the test opens,
/// never from sleeping.
@Suite("Batching and shadow scoring parts")
struct ServingPartsTests {
    /// A send that blocks until the test opens it, recording every batch it got.
    private final class GatedSend: Sendable {
        private let state = Mutex<(batches: [[String]], gates: [CheckedContinuation<Void, Never>])>(([], []))
        let (arrivals, arrived) = AsyncStream.makeStream(of: Int.self)

        func send(_ records: [CustomerRecord]) async -> [Double] {
            await withCheckedContinuation { gate in
                let count = state.withLock { state in
                    state.batches.append(records.map { $0["id"]?.text ?? "" })
                    state.gates.append(gate)
                    return state.batches.count
                }
                arrived.yield(count)
            }
            return records.map { _ in 0.5 }
        }

        func openNext() {
            let gate = state.withLock { $0.gates.isEmpty ? nil : $0.gates.removeFirst() }
            gate?.resume()
        }

        var batches: [[String]] { state.withLock { $0.batches } }
    }

    private final class Recorder: BatchObserver {
        let seen = Mutex<(rows: [Int], waits: Int, queued: Int)>(([], 0, 0))
        func batch(rows: Int, waits: [Duration]) { seen.withLock { $0.rows.append(rows); $0.waits += waits.count } }
        func queued(_ change: Int) { seen.withLock { $0.queued += change } }
    }

    private func customer(_ id: String) -> CustomerRecord { CustomerRecord(["id": .string(id)]) }

    @Test func anIdleBatcherSendsAtOnceAndRequestsArrivingMeanwhileGoTogether() async throws {
        let gated = GatedSend()
        let recorder = Recorder()
        let batcher = PredictBatcher(window: .zero, maximumRows: 512, observer: recorder) { await gated.send($0) }
        var arrivals = gated.arrivals.makeAsyncIterator()
        async let first = batcher.predict([customer("a")])
        #expect(await arrivals.next() == 1, "the first request is sent without waiting")
        // Two more arrive while the first is being scored: they wait in the queue.
        async let second = batcher.predict([customer("b")])
        async let third = batcher.predict([customer("c"), customer("d")])
        try await waitUntil { recorder.seen.withLock { $0.queued } == 2 }
        gated.openNext()
        #expect(try await first == [0.5])
        #expect(await arrivals.next() == 2)
        gated.openNext()
        #expect(try await second == [0.5])
        #expect(try await third == [0.5, 0.5])
        let batches = gated.batches
        #expect(batches.count == 2)
        #expect(batches[0] == ["a"])
        #expect(Set(batches[1]) == ["b", "c", "d"], "the queued requests went as one call")
        let seen = recorder.seen.withLock { $0 }
        #expect(seen.rows == [1, 3])
        #expect(seen.waits == 3)
        #expect(seen.queued == 0, "the queue gauge is back to zero")
    }

    @Test func aBatchNeverExceedsTheRowCap() async throws {
        let gated = GatedSend()
        let recorder = Recorder()
        let batcher = PredictBatcher(window: .zero, maximumRows: 2, observer: recorder) { await gated.send($0) }
        var arrivals = gated.arrivals.makeAsyncIterator()
        async let blocker = batcher.predict([customer("x")])
        _ = await arrivals.next()
        async let a = batcher.predict([customer("a"), customer("b")])
        async let b = batcher.predict([customer("c")])
        try await waitUntil { recorder.seen.withLock { $0.queued } == 2 }
        gated.openNext()
        _ = try await blocker
        for _ in 0..<2 {
            _ = await arrivals.next()
            gated.openNext()
        }
        _ = try await (a, b)
        #expect(gated.batches.dropFirst().allSatisfy { $0.count <= 2 })
        #expect(gated.batches.count == 3)
    }

    @Test func settlingWaitsForShadowScoringsInFlightAndShutdownFinishesThem() async throws {
        let scorer = ShadowScorer()
        let group = ServiceGroup(services: [scorer], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let done = Atomic<Int>(0)
        #expect(scorer.submit {
            await withCheckedContinuation { continuation in
                gate.withLock { $0 = continuation }
                starting.yield()
            }
            done.add(1, ordering: .relaxed)
        })
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        // Settling returns at its limit while the scoring is held...
        await scorer.settle(within: .milliseconds(20))
        #expect(done.load(ordering: .relaxed) == 0)
        // ...and as soon as it finishes once it is released.
        async let settled: Void = scorer.settle(within: .seconds(30))
        gate.withLock { $0?.resume() }
        await settled
        #expect(done.load(ordering: .relaxed) == 1)
        // After graceful shutdown nothing new runs.
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(!scorer.submit { done.add(1, ordering: .relaxed) })
        await scorer.settle(within: .seconds(1))
        #expect(done.load(ordering: .relaxed) == 1)
    }

    private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { await Task.yield(); try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }
}
