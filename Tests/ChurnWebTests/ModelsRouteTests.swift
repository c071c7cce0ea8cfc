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
            let promoted = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion"])
            #expect(promoted.status == .seeOther)
            let admin = try await harness.client()
            #expect(try await admin.model("champion").version == 2)
            let audit = try await admin.audit(limit: 5)
            #expect(audit.first?.action == "promote")
            #expect(audit.first?.user.hasSuffix("(web: \(WebHarness.user))") == true, "\(audit.first?.user ?? "nil")")

            let rolledBack = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser)])
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
