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
@Suite("The prediction page", .serialized)
struct PredictionRouteTests {
    @Test func thePredictionPageShowsTheCustomersMonthsAndTheirWeights() async throws {
        let harness = try await WebHarness.start()
        let admin = try await ChurnClient.connect(socketPath: harness.socketPath)
        _ = try await admin.promote("2")  // the attention model on the months answers
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let id = try WebPages.firstCustomer(harness)
            let page = try await browser.get("/predict?customer=\(id)")
            #expect(page.status == .ok)
            let html = page.text
            for expected in [
                #"id="history-source""#, "stored months", #"id="months""#, "<td>2026-10</td>", #"id="month-weights""#,
                #"id="month-0""#, "Attention weight",
            ] {
                #expect(html.contains(expected), "the prediction page lacks \(expected)")
            }
            let start = try #require(html.range(of: #"<script type="application/json" id="churn-charts">"#))
            let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
            let specs = try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [[String: Any]])
            #expect(specs.contains { $0["canvas"] as? String == "month-weights" } && specs.count >= 2, "a line per main column, then the weights")
            // In Korean too.
            let korean = try await browser.get("/predict?customer=\(id)&lang=ko")
            #expect(korean.text.contains("데몬에 저장된 월별 기록"))
        }
        try await harness.stop()
    }

    @Test func thePredictionFormShowsEachFieldsErrorBesideItAndNeverA500() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/predict")
            let csrf = try #require(CookieBrowser.csrf(in: page.text))
            var form = try WebPages.formValues(page.text)
            form["csrf"] = csrf
            form["tenure"] = "abc"
            form["Contract"] = "Weekly"
            form["MonthlyCharges"] = "-5"
            let bad = try await browser.post("/predict", form: form)
            #expect(bad.status == .unprocessableContent)
            // Every field's error at once, the schema's range rule among them.
            #expect(bad.text.contains(#"data-field="tenure""#))
            #expect(bad.text.contains(#"data-field="Contract""#))
            #expect(bad.text.contains(#"data-field="MonthlyCharges""#), "the range error waited for the other fields")
            #expect(bad.text.contains("enter a number (got &quot;abc&quot;)"))
            #expect(!bad.text.contains(#"id="result""#))

            form["tenure"] = "5"
            form["Contract"] = "One year"
            let range = try await browser.post("/predict", form: form)
            #expect(range.status == .unprocessableContent)
            #expect(range.text.contains(#"data-field="MonthlyCharges""#), "\(range.text)")
            #expect(!range.text.contains(#"data-field="tenure""#))

            form["MonthlyCharges"] = "99.5"
            let good = try await browser.post("/predict", form: form)
            #expect(good.status == .ok)
            #expect(good.text.contains(#"id="probability""#))
            #expect(good.text.contains(#"id="drivers""#))
            #expect(good.text.contains(#"<span id="answered-by">churn@1</span>"#))

            // An empty or garbage body is still a page, not a crash.
            let empty = try await browser.post("/predict", form: ["csrf": csrf])
            #expect(empty.status == .unprocessableContent)
        }
        try await harness.stop()
    }

    @Test func aCustomerTypedIntoTheFormGetsReasonsInWordsFromAnLSTMToo() async throws {
        let harness = try await WebHarness.start()
        let admin = try await harness.client()
        _ = try await admin.promote("2")  // the attention model: a typed customer has no months stored
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/predict")
            var form = try WebPages.formValues(page.text)
            form["csrf"] = try #require(CookieBrowser.csrf(in: page.text))
            form["Contract"] = "Month-to-month"
            form["tenure"] = "2"
            let answer = try await browser.post("/predict", form: form)
            #expect(answer.status == .ok)
            #expect(answer.text.contains(#"<span id="answered-by">churn@2</span>"#))
            let reasons = WebPages.tableRows(answer.text, id: "drivers").compactMap { $0["Reason"] }
            #expect(!reasons.isEmpty, "no reasons for a typed customer")
            let fields = BuiltInSchemas.kaggle.inputs.map { $0.displayName("en") }
            #expect(reasons.contains { reason in fields.contains { reason.hasPrefix($0) } }, "\(reasons)")
            #expect(answer.text.contains("percentage points: + raises the risk"))
        }
        try await harness.stop()
    }

    @Test func lookingUpACustomerScoresAndExplainsThem() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let found = try await browser.get("/predict?customer=SYN-0000950")
            #expect(found.status == .ok)
            #expect(found.text.contains(#"id="probability""#))
            #expect(found.text.contains(#"value="SYN-0000950""#))
            let missing = try await browser.get("/predict?customer=nobody")
            #expect(missing.status == .notFound)
            #expect(missing.text.contains(#"id="lookup-error""#))
        }
        try await harness.stop()
    }
}
