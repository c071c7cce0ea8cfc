import ChurnProtocol
import Foundation
import HTTPTypes
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import Testing

@testable import ChurnWeb

/// The web UI against a hostile visitor: guessing passwords, framing, injected markup, and
/// paths that try to leave the assets.
@Suite("Web UI security", .serialized)
struct WebSecurityTests {

    private func attempt(_ browser: CookieBrowser, user: String, password: String) async throws -> TestResponse {
        let form = try await browser.get("/login")
        let csrf = try #require(CookieBrowser.csrf(in: form.text))
        return try await browser.post("/login", form: ["csrf": csrf, "user": user, "password": password, "next": "/"])
    }

    @Test func signInsAreLimitedPerUserAndPerAddressWithAClearMessage() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            for _ in 0..<5 {
                #expect(try await attempt(browser, user: WebHarness.user, password: "guess").status == .unauthorized)
            }
            // The sixth try is refused even with the right password, and says why and for how long.
            let limited = try await attempt(browser, user: WebHarness.user, password: WebHarness.password)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many failed sign-ins for this user. Try again in 15 minutes."), "\(limited.text)")
            #expect(limited.headers[.retryAfter] == "900")
            // Another user from the same address may still try, until the address has failed 20 times.
            for index in 0..<15 {
                #expect(try await attempt(browser, user: "mallory\(index)", password: "guess").status == .unauthorized)
            }
            let fromAddress = try await attempt(browser, user: "bob", password: "guess")
            #expect(fromAddress.status == .tooManyRequests)
            #expect(fromAddress.text.contains("from your address"))
        }
        try await harness.stop()
    }

    @Test func everyResponseCarriesTheSecurityHeadersAndPagesHaveNoInlineScript() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            let signedOut = try await browser.get("/login")
            try await WebPages.signIn(browser)
            var responses = [("/login", signedOut)]
            for page in ["/", "/predict", "/retention", "/assets/app.css", "/assets/charts.js", "/healthz", "/no-such-page"] {
                responses.append((page, try await browser.get(page)))
            }
            for (page, response) in responses {
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(page): \(policy)")
                #expect(policy.contains("frame-ancestors 'none'"), "\(page)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(page)")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(page)")
                guard response.headers[.contentType]?.hasPrefix("text/html") == true else { continue }
                // Scripts only from files: no inline code, no event-handler attributes.
                let html = response.text
                for match in html.ranges(of: "<script") {
                    let tag = html[match.lowerBound...].prefix { $0 != ">" }
                    #expect(tag.contains("src=") || tag.contains("type=\"application/json\""), "\(page): inline script \(tag)")
                }
                #expect(html.firstMatch(of: /\son[a-z]+\s*=/) == nil, "\(page): an event-handler attribute")
            }
        }
        try await harness.stop()
    }

    @Test func aCustomerIdFullOfMarkupIsShownEscapedOnEveryPageAndInChartData() async throws {
        let harness = try await WebHarness.start(hostileCustomer: true)
        let hostile = WebHarness.hostileID
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let pages = [
                "/", "/retention", "/predict?customer=" + CookieBrowser.encode(hostile),
                "/predict?model=churn&customer=" + CookieBrowser.encode(hostile),
            ]
            var shown = 0
            for page in pages {
                let response = try await browser.get(page)
                #expect(response.status == .ok, "\(page): \(response.status)")
                let html = response.text
                #expect(!html.contains("<script>alert"), "\(page) shows the id's markup unescaped")
                #expect(!html.contains("</script>'"), "\(page)")
                if html.contains("&lt;script&gt;alert") { shown += 1 }
                // A template tag in data is text, never expanded.
                #expect(!html.contains("'Sign in"), "\(page) expanded a template tag from data")
                // Chart data: valid JSON that carries the id exactly, with no way out of its script element.
                if let start = html.range(of: #"<script type="application/json" id="churn-charts">"#) {
                    let body = html[start.upperBound...].prefix { $0 != "<" || true }
                    let json = String(body[..<(body.range(of: "</script>")?.lowerBound ?? body.endIndex)])
                    #expect(!json.contains("</"), "\(page): chart data can close its script element")
                    _ = try JSONParser.parse(Array(json.utf8))
                }
            }
            #expect(shown >= 2, "the hostile customer is listed (escaped) on the dashboard and the prediction page")
            // The dashboard's link to the customer, followed as a browser would, opens that customer
            // (the id URL-encoded in the link, its `&` and `#` kept inside the value).
            let search = try await browser.get("/?q=" + CookieBrowser.encode("alert(\"x\")"))
            let href = try #require(Self.href(before: "&lt;script&gt;alert", in: search.text), "no link to the hostile customer")
            #expect(!href.contains("<") && !href.contains("#"), "\(href)")
            let opened = try await browser.get(href)
            #expect(opened.status == .ok, "\(href): \(opened.status)")
            #expect(opened.text.contains(#"id="probability""#), "\(href) found no customer")
            #expect(opened.text.contains(#"name="customer" value="&lt;script&gt;alert(&quot;x&quot;)"#), "\(href) looked up another id")
            // A form value full of markup comes back escaped.
            let csrf = try #require(CookieBrowser.csrf(in: try await browser.get("/predict").text))
            let posted = try await browser.post("/predict", form: ["csrf": csrf, "customerID": hostile, "tenure": "<b>bold</b>\"{{x}}"])
            #expect(!posted.text.contains("<script>alert"))
            #expect(!posted.text.contains("<b>bold</b>"))
        }
        try await harness.stop()
    }

    @Test func aSignInLinkSignsInOnceAndALinkThatDoesNotSaysWhy() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let link = try #require(harness.app.issueSignInLink(for: WebHarness.user, next: "/retention"))
            let first = try await CookieBrowser(client).get(link)
            #expect(first.status == .seeOther && first.location == "/retention")
            // The second click: the sign-in form, saying the link was used (not that a password was wrong).
            let again = CookieBrowser(client)
            let reused = try await again.get(link)
            #expect(reused.status == .unauthorized)
            #expect(reused.text.contains(#"id="link-refused""#) && reused.text.contains("This sign-in link was already used"), "\(reused.text)")
            #expect(!reused.text.contains("Wrong user or password") && !reused.text.contains(#"id="login-failed""#))
            #expect(reused.text.contains(#"name="next" value="/retention""#), "signing in with the password still leads where the link did")
            #expect(try await again.get("/").status == .seeOther, "a used link signs nobody in")
            let korean = try await CookieBrowser(client).get(link + "&lang=ko")
            #expect(korean.text.contains("이 로그인 링크는 이미 사용되었습니다"))
            let forged = try await CookieBrowser(client).get("/login/token?t=forged")
            #expect(forged.status == .unauthorized && forged.text.contains("This sign-in link is not valid"))
        }
        try await harness.stop()
    }

    @Test func withAPasswordSomeoneChoseNoSignInLinkIsIssued() async throws {
        var logger = Logger(label: "test-web")
        logger.logLevel = .critical
        // CHURN_WEB_PASSWORD or its bcrypt form: a configuration without links (the default).
        let app = try ChurnWebApp(
            configuration: WebConfiguration(port: 0, socketPath: "/nonexistent/churnd.sock", accounts: [WebHarness.user: Bcrypt.hash("chosen", cost: 4)]),
            logger: logger)
        #expect(app.issueSignInLink(for: WebHarness.user) == nil)
    }

    /// The `href` of the last link before `text` on a page, HTML-unescaped as a browser reads it.
    static func href(before text: String, in html: String) -> String? {
        guard let at = html.range(of: text), let start = html.range(of: #"href=""#, options: .backwards, range: html.startIndex..<at.lowerBound)
        else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func assetPathsCannotLeaveTheAssets() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            for path in [
                "/assets/../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc%2fpasswd",
                "/assets/%252e%252e/etc/passwd", "/assets/app.css/../../../etc/passwd", "/assets/....//....//etc/passwd",
                "/assets/chart.min.js%00.css", "/assets/%2fetc%2fpasswd",
            ] {
                let response = try await browser.get(path)
                #expect(response.status == .notFound || response.status == .seeOther || response.status == .badRequest, "\(path): \(response.status)")
                #expect(!response.text.contains("root:x:0:0"), "\(path) served /etc/passwd")
            }
        }
        try await harness.stop()
    }
}
