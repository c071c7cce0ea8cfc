import Foundation

/// What `churn score` tells a person while it runs: on a terminal, a bar redrawn in place with
/// rows, rows/s and time left; otherwise a line every few seconds; a summary at the end.
struct ScoreProgress {
    enum Style: Sendable { case bar, lines, none }

    let style: Style
    /// The input's size, for the share done and the time left (nil for stdin).
    let fileBytes: Int?
    /// Rows a resumed run found scored already (not counted in its rate).
    let startScored: Int
    private let start = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private var shownBar = false
    /// The first chunk's bytes and time: the time left is paced by this run's progress since
    /// (a resumed run starts part way through the file).
    private var baseline: (bytes: Int, at: ContinuousClock.Instant)?

    init(style: Style, fileBytes: Int?, startScored: Int) {
        self.style = style
        self.fileBytes = fileBytes
        self.startScored = startScored
    }

    private var elapsed: Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    mutating func update(rowsThrough: Int, bytesThrough: Int, scored: Int, rejected: Int) {
        guard style != .none else { return }
        let now = ContinuousClock.now
        guard let baseline else {
            self.baseline = (bytesThrough, now)
            return
        }
        guard now - lastShown >= (style == .bar ? .milliseconds(200) : .seconds(5)) else { return }
        lastShown = now
        let rate = Double(scored - startScored) / max(elapsed, 1e-3)
        var share: Double?
        if let fileBytes, fileBytes > 0 { share = min(1, Double(bytesThrough) / Double(fileBytes)) }
        var left = ""
        let since = now - baseline.at
        let pace = Double(bytesThrough - baseline.bytes) / max(Double(since.components.seconds) + Double(since.components.attoseconds) * 1e-18, 1e-3)
        if let fileBytes, let share, share < 1, pace > 0 {
            left = ", about \(Self.duration(Double(fileBytes - bytesThrough) / pace)) left"
        }
        let rejectedText = rejected > 0 ? ", \(rejected) rejected" : ""
        switch style {
        case .bar:
            let width = 24
            let filled = Int((share ?? 0) * Double(width))
            let bar = share == nil ? "" : "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            let text = "\r\(bar)\(scored) rows scored\(rejectedText), \(Int(rate)) rows/s\(left)\u{1B}[K"
            FileHandle.standardError.write(Data(text.utf8))
            shownBar = true
        case .lines:
            let percent = share.map { " (\(Int($0 * 100))%)" } ?? ""
            FileHandle.standardError.write(Data("churn: \(scored) rows scored\(percent)\(rejectedText), \(Int(rate)) rows/s\(left)\n".utf8))
        case .none:
            break
        }
    }

    /// The summary line.
    mutating func finish(scored: Int, rejected: Int, note: String?) {
        if shownBar { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = elapsed
        let thisRun = scored - startScored
        var text = "churn: scored \(thisRun) rows"
        if startScored > 0 { text += " (\(scored) with the run resumed)" }
        text += ", rejected \(rejected), in \(String(format: "%.1f", seconds)) s: \(Int(Double(thisRun) / max(seconds, 1e-3))) rows/s"
        if let note { text += " (\(note))" }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }
}
