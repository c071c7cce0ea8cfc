import ChurnClient
import ChurnWeb
import Foundation
import HummingbirdTesting
import Testing

/// A real browser (headless Chromium from Debian) against the live web UI: every page loads
/// signed in, every chart draws, no script errors, and a forged cross-site POST is refused.
/// Collects a pipe's bytes on a background thread.
final class LogReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Web UI in a real browser", .serialized)
struct WebBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile)

    /// Loads `url` in headless Chromium and returns the DOM after scripts ran, and the browser's log.
    /// A browser that printed nothing at all (it failed to start, on a loaded machine) is tried again.
    static func load(_ url: String, profile: String) throws -> (dom: String, log: String) {
        var result = try loadOnce(url, profile: profile)
        for _ in 0..<2 where result.dom.isEmpty { result = try loadOnce(url, profile: profile) }
        return result
    }

    private static func loadOnce(_ url: String, profile: String) throws -> (dom: String, log: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
            "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0", "--dump-dom", url,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read the log on its own thread so a chatty browser never blocks on a full pipe.
        let log = LogReader(errors.fileHandleForReading)
        let dom = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: dom, as: UTF8.self), log.text())
    }

    /// The value of `name="…"` on the `<body>` tag.
    static func bodyAttribute(_ name: String, in dom: String) -> String? {
        guard let body = dom.range(of: "<body"), let close = dom.range(of: ">", range: body.upperBound..<dom.endIndex) else { return nil }
        let tag = dom[body.upperBound..<close.lowerBound]
        guard let start = tag.range(of: "\(name)=\"") else { return nil }
        return String(tag[start.upperBound...].prefix { $0 != "\"" })
    }

    static func consoleErrors(in log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter {
            $0.contains("CONSOLE") && ($0.contains("Error") || $0.contains("Uncaught") || $0.contains("Refused"))
        }
    }

    /// The layout of a page on an emulated phone (Support/phone_layout.py drives Chromium's
    /// DevTools protocol: headless windows cannot be narrower than 500 px).
    static func phoneLayout(_ url: String, width: Int, height: Int = 844, profile: String, screenshot: String? = nil) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/phone_layout.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, chromium!, url, String(width), String(height), profile] + (screenshot.map { [$0] } ?? [])
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let log = LogReader(errors.fileHandleForReading)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            Issue.record("phone_layout.py failed: \(String(decoding: data, as: UTF8.self)) \(log.text().suffix(800))")
            return [:]
        }
        return object
    }

    @Test func onAPhoneNoPageScrollsSidewaysAndTheHeaderStaysReachable() async throws {
        guard Self.chromium != nil else {
            Issue.record("chromium is missing: install it with scripts/install-system-packages (apt-get install chromium)")
            return
        }
        let harness = try await WebHarness.start()
        let profile = harness.root + "/phone-profile"
        try await harness.app.application().test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            for path in ["/", "/models", "/predict?customer=SYN-0000950", "/retention", "/?lang=ko", "/retention?lang=ko", "/models?lang=ko"] {
                let link = try #require(harness.app.issueSignInLink(for: WebHarness.user, next: path))
                let layout = try Self.phoneLayout(base + link, width: 390, profile: profile)
                let page = layout["scrollWidth"] as? Int
                #expect(page != nil && page! <= 390, "\(path): the page is \(page.map(String.init) ?? "?") px wide on a 390 px phone")
                let controls = layout["controls"] as? [String: Any] ?? [:]
                for id in ["logout", "language"] {
                    let control = controls[id] as? [String: Any]
                    #expect(control?["visible"] as? Bool == true, "\(path): #\(id) is not shown")
                    #expect((control?["right"] as? Double ?? 1e9) <= 390, "\(path): #\(id) is off the screen: \(control ?? [:])")
                }
            }
        }
        try await harness.stop()
    }

    /// The first screen at a desktop's 1400 px and a phone's 390 px, in English and Korean:
    /// nothing scrolls sideways (measured through the DevTools protocol), and each is saved as a
    /// screenshot (into `CHURN_SCREENSHOTS` when set: how the README's pictures are made).
    @Test func theFirstScreenFitsADesktopAndAPhoneInBothLanguages() async throws {
        guard Self.chromium != nil else {
            Issue.record("chromium is missing: install it with scripts/install-system-packages (apt-get install chromium)")
            return
        }
        let harness = try await WebHarness.start()
        let folder = ProcessInfo.processInfo.environment["CHURN_SCREENSHOTS"] ?? harness.root
        try await harness.app.application().test(.live) { client in
            let port = try #require(client.port)
            for (width, height) in [(1400, 1000), (390, 844)] {
                for language in ["en", "ko"] {
                    for path in ["/", "/retention", "/models"] {
                        let next = path + "?lang=" + language
                        let link = try #require(harness.app.issueSignInLink(for: WebHarness.user, next: next))
                        let name = (path == "/" ? "first-screen" : String(path.dropFirst())) + "-\(width)-\(language).png"
                        let layout = try Self.phoneLayout(
                            "http://127.0.0.1:\(port)" + link, width: width, height: height, profile: harness.root + "/shots-\(width)-\(language)",
                            screenshot: folder + "/" + name)
                        let page = layout["scrollWidth"] as? Int
                        #expect(page != nil && page! <= width, "\(next) at \(width) px: the page is \(page.map(String.init) ?? "?") px wide")
                        let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0
                        #expect(size > 10_000, "\(name): \(size) bytes")
                    }
                }
            }
        }
        try await harness.stop()
    }

    @Test func everyPageLoadsSignedInAndEveryChartDraws() async throws {
        guard Self.chromium != nil else {
            Issue.record("chromium is missing: install it with scripts/install-system-packages (apt-get install chromium)")
            return
        }
        guard FileManager.default.isReadableFile(atPath: WebConfiguration.debianChartJS) else {
            Issue.record("Chart.js is missing: install it with scripts/install-system-packages (apt-get install libjs-chart.js)")
            return
        }
        let harness = try await WebHarness.start()
        let profile = harness.root + "/chromium-profile"
        try await harness.app.application().test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            let pages: [(path: String, charts: Int)] = [("/", 1), ("/models", 5), ("/retention", 2), ("/predict?customer=SYN-0000950", 0)]
            for (path, charts) in pages {
                let link = try #require(harness.app.issueSignInLink(for: WebHarness.user, next: path))
                let (dom, log) = try Self.load(base + link, profile: profile)
                #expect(dom.contains(#"id="logout""#), "\(path): not signed in; browser log: \(log.suffix(1500))")
                #expect(dom.contains(WebHarness.user), "\(path)")
                #expect(Self.bodyAttribute("data-js-errors", in: dom) == "0", "\(path): script errors")
                #expect(Self.consoleErrors(in: log).isEmpty, "\(path): \(Self.consoleErrors(in: log))")
                let canvases = dom.components(separatedBy: "<canvas").count - 1
                let drawn = dom.components(separatedBy: #"data-drawn="1""#).count - 1
                #expect(canvases == charts, "\(path): \(canvases) charts on the page")
                #expect(drawn == canvases, "\(path): \(drawn) of \(canvases) charts drew")
                if charts > 0 { #expect(Self.bodyAttribute("data-charts-drawn", in: dom) == "\(charts)", "\(path)") }
            }

            // The session cookie outlives the sign-in link: the same browser profile is still signed in.
            let again = try Self.load(base + "/retention", profile: profile)
            #expect(again.dom.contains(#"id="logout""#), "the browser lost its session")

            // A used link signs nobody in.
            let link = try #require(harness.app.issueSignInLink(for: WebHarness.user))
            _ = try Self.load(base + link, profile: harness.root + "/p1")
            let reused = try Self.load(base + link, profile: harness.root + "/p2")
            #expect(!reused.dom.contains(#"id="logout""#), "a one-time link worked twice")

            // Another site's page that posts a promotion on load: refused, nothing promoted.
            let forgery = harness.root + "/forgery.html"
            try """
                <!doctype html><html><body><form method="post" action="\(base)/models/promote">
                <input name="version" value="2"><input name="alias" value="champion"></form>
                <script>document.forms[0].submit();</script></body></html>
                """.write(toFile: forgery, atomically: true, encoding: .utf8)
            let forged = try Self.load("file://" + forgery, profile: profile)
            #expect(forged.dom.contains("did not come from this site"), "\(forged.dom.prefix(400))")
            let admin = try await harness.client()
            #expect(try await admin.model("champion").version == 1, "a forged POST promoted a model")
            await admin.close()
        }
        try await harness.stop()
    }
}
