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
@Suite("The models page", .serialized)
struct ModelsRouteTests {
    @Test func theModelsPageShowsVersionsTheExperimentAndTheirCharts() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/models")
            #expect(page.status == .ok)
            let html = page.text
            for expected in [
                "churn@1", "churn@2", "random_forest", "lstm_attention", #"class="badge champion""#, #"class="badge challenger""#,
                #"id="roc-chart""#, #"id="importance-chart""#, #"id="curve-random_forest""#, #"id="curve-lstm_attention""#,
                // Each kind's reliability curve with the calibration it serves with.
                #"id="reliability-chart""#, "perfectly calibrated",
                // Each version says what history it reads.
                "<td>observed months</td>", "<td>derived from tenure and charges (not observed months)</td>",
                #"aria-current="page">Models</a>"#,
            ] {
                #expect(html.contains(expected), "the models page lacks \(expected)")
            }
            #expect(!html.contains("-0.5"), "no half-step ticks")
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(try WebPages.chartSpecs(html).count == 5)
        }
        try await harness.stop()
    }

    @Test func forgedAndStalePostsAreRefusedAndChangeNothing() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            for form in [["version": "2", "alias": "champion"], ["version": "2", "alias": "champion", "csrf": "forged"]] {
                let response = try await browser.post("/models/promote", form: form)
                #expect(response.status == .forbidden)
                #expect(response.text.contains("did not come from this site"))
            }
            let admin = try await harness.client()
            let champion = try await admin.model("champion")
            #expect(champion.version == 1, "a forged POST must not promote anything")
            await admin.close()
        }
        try await harness.stop()
    }

    @Test func promotingFromTheDashboardIsAuditedWithTheWebUser() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let promoted = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion", "confirm": "yes"])
            #expect(promoted.status == .seeOther)
            let admin = try await harness.client()
            #expect(try await admin.model("champion").version == 2)
            let audit = try await admin.audit(limit: 5)
            #expect(audit.first?.action == "promote")
            #expect(audit.first?.user.hasSuffix("(web: \(WebHarness.user))") == true, "\(audit.first?.user ?? "nil")")

            let rolledBack = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "confirm": "yes"])
            #expect(rolledBack.status == .seeOther)
            #expect(try await admin.model("champion").version == 1)
            #expect(try await admin.audit(limit: 1).first?.action == "rollback")

            // A bad version number is said on the dashboard it came from: not a 500, nor a dead end.
            let bad = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@99", "alias": "champion"])
            #expect(bad.status == .seeOther && bad.location == "/models?model=churn")
            #expect(try await browser.get("/models").text.contains(#"<p class="error" id="refusal">Promote to champion: "#))
            await admin.close()
        }
        try await harness.stop()
    }

    @Test func aChangeOfChampionIsConfirmedAfterComparingTheTwoVersionsAndThenSaid() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            // The champion's own row: promotion disabled and why; it can never be the challenger.
            let models = try await browser.get("/models").text
            #expect(models.contains(#"<button disabled title="already the champion">Promote to champion</button>"#))
            #expect(models.contains(#"<button disabled title="the champion cannot also be the challenger">Make challenger</button>"#))
            // Asking first: the two versions side by side, nothing changed yet.
            let asked = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion"])
            #expect(asked.status == .ok)
            #expect(asked.text.contains(#"<h1 id="confirm-title">Promote churn@2 to champion?</h1>"#))
            let rows = WebPages.tableRows(asked.text, id: "confirm-compare")
            let auc = try #require(rows.first { ($0["Held-back measure"] ?? "").hasPrefix("ROC-AUC") })
            let admin = try await harness.client()
            let (one, two) = (try await admin.model("churn@1"), try await admin.model("churn@2"))
            #expect(auc["Now: churn@1"] == String(format: "%.3f", one.metrics["test_roc_auc"] ?? .nan))
            #expect(auc["After: churn@2"]?.contains(String(format: "%.3f", two.metrics["test_roc_auc"] ?? .nan)) == true)
            #expect(rows.contains { ($0["Held-back measure"] ?? "").hasPrefix("Calibration error") })
            #expect(asked.text.contains(#"<input type="hidden" name="confirm" value="yes"><button id="confirm">Yes, promote</button>"#))
            #expect(try await admin.model("champion").version == 1, "asking changes nothing")
            // Confirmed: changed, and said on the models page once.
            let done = try await browser.post(
                "/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion", "confirm": "yes"])
            #expect(done.status == .seeOther)
            #expect(try await admin.model("champion").version == 2)
            let after = try await browser.get("/models").text
            #expect(after.contains(#"<p class="notice" id="done">churn@2 is now the champion (was churn@1).</p>"#))
            #expect(!(try await browser.get("/models").text.contains(#"id="done""#)), "said once")
            // Rolling back asks too, in Korean when the page is Korean.
            _ = try await browser.get("/models?lang=ko")
            let rollback = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "model": "churn"])
            #expect(rollback.status == .ok && rollback.text.contains("챔피언을 churn@1(으)로 롤백할까요?"))
            #expect(try await admin.model("champion").version == 2)
            // The champion moves while the page is open: the confirmed rollback is refused, nothing moves.
            _ = try await admin.promote("churn@1")
            _ = try await browser.get("/models?lang=en")
            let stale = try await browser.post(
                "/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "model": "churn", "confirm": "yes", "from": "2", "to": "1"])
            #expect(stale.status == .seeOther)
            #expect(try await browser.get("/models").text.contains("the champion changed after the comparison was shown"))
            #expect(try await admin.model("champion").version == 1)
            await admin.close()
        }
        try await harness.stop()
    }

    @Test func trainingCurvesAreChartedAlongWhatEachModelCounts() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let html = try await browser.get("/models").text
            let specs = try WebPages.chartSpecs(html)
            let forest = try #require(specs.first { $0["canvas"] as? String == "curve-random_forest" })
            let lstm = try #require(specs.first { $0["canvas"] as? String == "curve-lstm_attention" })
            func title(_ spec: [String: Any], _ axis: String) -> String? {
                (((spec["options"] as? [String: Any])?["scales"] as? [String: Any])?[axis] as? [String: Any])
                    .flatMap { ($0["title"] as? [String: Any])?["text"] as? String }
            }
            #expect(title(forest, "x") == "trees")
            #expect(title(lstm, "x") == "epoch")
            #expect(title(forest, "loss") == "log loss")
            #expect(title(forest, "auc") == "ROC-AUC")
            // Each series sits on the axis of its unit.
            let datasets = ((forest["data"] as? [String: Any])?["datasets"] as? [[String: Any]]) ?? []
            #expect(!datasets.isEmpty)
            for dataset in datasets {
                let label = dataset["label"] as? String ?? ""
                #expect(dataset["yAxisID"] as? String == (label.contains("auc") ? "auc" : "loss"), "\(label)")
            }
        }
        try await harness.stop()
    }
}
