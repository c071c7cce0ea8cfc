import Foundation
import Synchronization

/// Refused calls in the audit log, bounded and still counted.
///
/// Every call refused for want of the admin role is audited, but the log is append-only, so a
/// user without the role calling an admin method in a loop must not grow it a row per call. The
/// rule (PROTOCOL.md, Roles): per caller uid and method, the first refusal is written at once.
/// Those of the same uid and method in the minute after it are counted, not written; when that
/// minute is over one row sums them up (how many, the first and the last time), and the next
/// refusal is written at once again. A flood costs at most two rows per uid and method per
/// minute, and every refusal is in some row. Counts still waiting when the daemon stops are
/// written by ``finish()`` once the server has drained.
///
/// `write` is injected (as ``PredictBatcher``'s `send` is), so the rule is tested without a
/// registry; rows are written one at a time, in order.
final class RefusalAudit: Sendable {
    /// The minute of the rule.
    static let defaultWindow: Duration = .seconds(60)

    /// One row for the audit log: a refusal written at once (`count` 1, `repeated` false), or
    /// the sum of the `count` refusals held back after it (`repeated` true).
    struct Row: Sendable, Hashable {
        var uid: UInt32
        var user: String
        var method: String
        var count: Int
        var repeated: Bool
        var first: Date
        var last: Date
    }

    private struct Key: Hashable {
        var uid: UInt32
        var method: String
    }

    /// The refusals of one uid and method held back since its first one was written.
    private struct Window {
        var user: String
        var opened: ContinuousClock.Instant
        var count = 0
        var first: Date?
        var last: Date?
        var closer: Task<Void, Never>?

        /// The row that sums up what was held back, if anything was.
        func summary(_ key: Key) -> Row? {
            guard count > 0, let first, let last else { return nil }
            return Row(uid: key.uid, user: user, method: key.method, count: count, repeated: true, first: first, last: last)
        }
    }

    let window: Duration
    private let windows = Mutex<[Key: Window]>([:])
    private let rows: AsyncStream<Row>.Continuation
    private let writer: Task<Void, Never>

    init(window: Duration = defaultWindow, write: @escaping @Sendable (Row) async -> Void) {
        self.window = window
        let (stream, continuation) = AsyncStream.makeStream(of: Row.self)
        rows = continuation
        writer = Task {
            for await row in stream { await write(row) }
        }
    }

    /// Counts one refused call; writes it at once when it opens a window for its uid and method.
    func record(uid: UInt32, user: String, method: String) {
        let key = Key(uid: uid, method: method)
        let now = ContinuousClock.now
        let date = Date()
        let written: (opened: Bool, expired: Row?) = windows.withLock { windows in
            var expired: Row?
            if var open = windows[key] {
                if now - open.opened < window {
                    open.count += 1
                    open.first = open.first ?? date
                    open.last = date
                    windows[key] = open
                    return (false, nil)
                }
                // Its closer has not run yet: sum it up here, before the new window replaces it.
                open.closer?.cancel()
                expired = open.summary(key)
            }
            var opened = Window(user: user, opened: now)
            opened.closer = Task { [window] in
                try? await Task.sleep(for: window)
                self.close(key, openedAt: now)
            }
            windows[key] = opened
            return (true, expired)
        }
        if let expired = written.expired { rows.yield(expired) }
        if written.opened {
            rows.yield(Row(uid: uid, user: user, method: method, count: 1, repeated: false, first: date, last: date))
        }
    }

    /// Writes what every open window held back, then waits until every row is written. Later
    /// refusals are no longer written: call it once the server has drained.
    func finish() async {
        let open = windows.withLock { windows in
            defer { windows.removeAll() }
            return windows
        }
        for (key, window) in open {
            window.closer?.cancel()
            if let summary = window.summary(key) { rows.yield(summary) }
        }
        rows.finish()
        await writer.value
    }

    /// Ends the window of `key` opened at `openedAt` (unless a later one replaced it), writing
    /// what it held back.
    private func close(_ key: Key, openedAt: ContinuousClock.Instant) {
        let summary: Row? = windows.withLock { windows in
            guard let open = windows[key], open.opened == openedAt else { return nil }
            windows[key] = nil
            return open.summary(key)
        }
        if let summary { rows.yield(summary) }
    }
}
