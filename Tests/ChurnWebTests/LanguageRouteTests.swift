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
@Suite("Pages in English and Korean", .serialized)
struct LanguageRouteTests {
    @Test func koreanFromAcceptLanguageOrTheSwitch() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            let korean = try await browser.get("/login", headers: [.acceptLanguage: "ko-KR,ko;q=0.9,en;q=0.5"])
            #expect(korean.text.contains("로그인"))
            #expect(korean.text.contains(#"<html lang="ko">"#))
            let english = try await browser.get("/login", headers: [.acceptLanguage: "en-GB,en;q=0.9,ko;q=0.1"])
            #expect(english.text.contains("Sign in"))
            let switched = try await browser.get("/login?lang=ko", headers: [.acceptLanguage: "en"])
            #expect(switched.text.contains("로그인"))
            #expect(try await browser.get("/login", headers: [.acceptLanguage: "en"]).text.contains("로그인"), "the switch is remembered")
        }
        try await harness.stop()
    }

    @Test func koreanPagesHaveNoEnglishInterfaceText() async throws {
        let harness = try await WebHarness.start()
        // Feedback so the running experiment has a report (and a verdict) on the dashboard.
        let admin = try await harness.client()
        _ = try await admin.startExperiment(challenger: "2", mode: "shadow", share: nil, note: nil)
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let english = WebStrings.table(.english)
            let korean = WebStrings.table(.korean)
            for path in ["/?lang=ko", "/predict?customer=\(try WebPages.firstCustomer(harness))", "/retention", "/models"] {
                let page = try await browser.get(path).text
                #expect(page.contains(#"<html lang="ko">"#), "\(path)")
                // Field names are the data's own (a driver row says `Contract`), not interface text.
                for (key, text) in english
                where text != korean[key] && text.count > 3 && key != "nav.language" && BuiltInSchemas.kaggle.input(named: text) == nil {
                    #expect(!page.contains(">\(text)<"), "\(path) shows English \"\(text)\" (\(key))")
                    #expect(!page.contains(#""text":"\#(text)""#), "\(path) has an English chart title \"\(text)\"")
                }
                for english in ["false positive rate", "true positive rate", "With outcome", "Predictions", ">Arm<", "plugins ready"] {
                    #expect(!page.contains(english), "\(path) shows \(english)")
                }
            }
            let predict = try await browser.get("/predict").text
            #expect(predict.contains("약정 (Contract)"))
        }
        try await harness.stop()
    }

    @Test func theSearchButtonIsTextNotAnEmoji() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let english = try await browser.get("/").text
            #expect(english.contains(#"<button id="search">Search</button>"#))
            #expect(!english.contains("🔍"))
            #expect(try await browser.get("/?lang=ko").text.contains(#"<button id="search">검색</button>"#))
        }
        try await harness.stop()
    }
}
