import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import HTTPTypes
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import Testing

@testable import ChurnWeb

/// The web UI's routes against a real daemon, through HummingbirdTesting.
@Suite("Signing in and out", .serialized)
struct SignInRouteTests {
    @Test func signedOutVisitorsSeeOnlyTheSignInPageAndTheHealthCheck() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            let health = try await browser.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.text.contains(#""status":"ok""#))
            for page in ["/", "/predict", "/retention", "/predict?customer=x"] {
                let response = try await browser.get(page)
                #expect(response.status == .seeOther, "\(page)")
                #expect(response.location?.hasPrefix("/login?next=") == true, "\(page) → \(response.location ?? "nil")")
            }
            // A POST without a session has no CSRF token to match: refused before anything runs.
            let forged = try await browser.post("/models/promote", form: ["version": "2", "alias": "champion"])
            #expect(forged.status == .forbidden)
        }
        try await harness.stop()
    }

    @Test func signInWithTheRightPasswordOnlyAndSignOut() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            let form = try await browser.get("/login?next=%2Fretention")
            #expect(form.status == .ok)
            let sessionCookie = try #require(form.headers[values: .setCookie].first { $0.hasPrefix("churn_session=") })
            #expect(sessionCookie.contains("HttpOnly"))
            #expect(sessionCookie.contains("SameSite=Strict"))
            let csrf = try #require(CookieBrowser.csrf(in: form.text))

            let wrong = try await browser.post("/login", form: ["csrf": csrf, "user": WebHarness.user, "password": "nope", "next": "/retention"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("id=\"login-failed\""))
            let unknown = try await browser.post("/login", form: ["csrf": csrf, "user": "mallory", "password": WebHarness.password])
            #expect(unknown.status == .unauthorized)
            #expect(try await browser.get("/").status == .seeOther)

            let anonymousSession = browser.cookies["churn_session"]
            let right = try await browser.post(
                "/login", form: ["csrf": csrf, "user": WebHarness.user, "password": WebHarness.password, "next": "/retention"])
            #expect(right.status == .seeOther)
            #expect(right.location == "/retention")
            #expect(browser.cookies["churn_session"] != anonymousSession, "signing in must start a new session (no fixation)")
            let dashboard = try await browser.get("/")
            #expect(dashboard.status == .ok)
            #expect(dashboard.text.contains(WebHarness.user))

            let token = try #require(CookieBrowser.csrf(in: dashboard.text))
            let out = try await browser.post("/logout", form: ["csrf": token])
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/").status == .seeOther, "signed out: the dashboard needs a sign-in again")
        }
        try await harness.stop()
    }

    @Test func nextNeverLeavesTheSite() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            for next in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "/ /evil.example"] {
                let form = try await browser.get("/login")
                let csrf = try #require(CookieBrowser.csrf(in: form.text))
                let response = try await browser.post(
                    "/login", form: ["csrf": csrf, "user": WebHarness.user, "password": WebHarness.password, "next": next])
                #expect(response.status == .seeOther)
                #expect(response.location == "/", "next=\(next) → \(response.location ?? "nil")")
                let token = try #require(CookieBrowser.csrf(in: try await browser.get("/").text))
                _ = try await browser.post("/logout", form: ["csrf": token])
            }
        }
        try await harness.stop()
    }

    @Test func withTheDaemonDownPagesSayItIsDownAndHowToStartIt() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("churn-web-down-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var logger = Logger(label: "test-web")
        logger.logLevel = .critical
        let app = try ChurnWebApp(
            configuration: WebConfiguration(
                port: 0, socketPath: root + "/nobody.sock", accounts: [WebHarness.user: Bcrypt.hash(WebHarness.password, cost: 4)]),
            logger: logger)
        try await app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let dashboard = try await browser.get("/")
            #expect(dashboard.status == .serviceUnavailable)
            #expect(dashboard.text.contains(#"id="daemon-error""#))
            #expect(dashboard.text.contains("churn serve --socket \(root)/nobody.sock"))
            #expect(!dashboard.text.contains("No model is registered yet"), "a down daemon is not an empty registry")
            #expect(!dashboard.text.contains("No experiment is running"))
            let retention = try await browser.get("/retention")
            #expect(retention.text.contains(#"id="daemon-error""#))
        }
    }
}
