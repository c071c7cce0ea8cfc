import Testing

@testable import ChurnRPC

/// The drain finishes however the server stops: gracefully or by cancellation, with or without
/// connections open.
@Suite("Server drain", .timeLimit(.minutes(1)))
struct ServerDrainTests {
    @Test func cancellingWithNoConnectionOpenFinishesTheDrain() async {
        let drain = ServerDrain()
        drain.closeNow()
        await drain.waitUntilClosed()
        #expect(drain.isDraining)
    }

    @Test func drainingWithNoConnectionOpenFinishesAtOnce() async {
        let drain = ServerDrain()
        drain.beginDraining()
        await drain.waitUntilClosed()
        #expect(drain.isDraining)
    }
}
