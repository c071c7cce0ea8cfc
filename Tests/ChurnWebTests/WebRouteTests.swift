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
@Suite("Web UI routes", .serialized)
struct WebRouteTests {
    /// Signs in through the form, as a person would.
    private func signIn(_ browser: CookieBrowser) async throws {
        let form = try await browser.get("/login")
        let csrf = try #require(CookieBrowser.csrf(in: form.text))
        let response = try await browser.post("/login", form: ["csrf": csrf, "user": WebHarness.user, "password": WebHarness.password, "next": "/"])
        #expect(response.status == .seeOther)
        #expect(response.location == "/")
    }

    private func csrf(_ browser: CookieBrowser) async throws -> String {
        try #require(CookieBrowser.csrf(in: try await browser.get("/").text), "no CSRF token on the dashboard")
    }

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
            for next in ["//evil.example/x", "https://evil.example/", "/\\evil.example"] {
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

    @Test func thePredictionPageShowsTheCustomersMonthsAndTheirWeights() async throws {
        let harness = try await WebHarness.start()
        let admin = try await ChurnClient.connect(socketPath: harness.socketPath)
        _ = try await admin.promote("2")  // the attention model on the months answers
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let id = try Self.firstCustomer(harness)
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

    @Test func dashboardShowsModelsExperimentsChartsAndTheRiskiestCustomers() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let page = try await browser.get("/")
            #expect(page.status == .ok)
            let html = page.text
            for expected in [
                "churn@1", "churn@2", "random_forest", "lstm_attention", #"class="badge champion""#, #"class="badge challenger""#,
                #"id="roc-chart""#, #"id="importance-chart""#, #"id="curve-random_forest""#, #"id="curve-lstm_attention""#, #"id="risk-chart""#,
                #"id="riskiest-table""#, "&amp;customer=",
                // Each kind's reliability curve with the calibration it serves with.
                #"id="reliability-chart""#, "perfectly calibrated",
                // The attention heatmap: a table with calendar months as columns and a legend.
                #"id="heatmap""#, "<th>2026-10</th>", #"id="heatmap-legend""#, #"<th scope="row">SYN-"#,
                // Each version says what history it reads.
                "<td>observed months</td>", "<td>derived from tenure and charges (not observed months)</td>",
            ] {
                #expect(html.contains(expected), "dashboard lacks \(expected)")
            }
            #expect(!html.contains("-0.5"), "no half-step ticks")
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            // The chart data is JSON the page's script can parse.
            let start = try #require(html.range(of: #"<script type="application/json" id="churn-charts">"#))
            let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
            let specs = try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [[String: Any]]
            #expect(specs?.count == 6)

            // Riskiest first, 20 a page, searchable.
            let risks = html.components(separatedBy: "<td>").compactMap { cell -> Double? in
                guard let percent = cell.range(of: "%</td>") else { return nil }
                return Double(cell[..<percent.lowerBound])
            }
            #expect(risks.count >= 20)
            #expect(risks.prefix(20) == risks.prefix(20).sorted(by: >).prefix(20))
            let second = try await browser.get("/?page=2")
            #expect(second.text.contains("2 / 15"))
            let search = try await browser.get("/?q=SYN-0000950")
            #expect(search.text.contains(">SYN-0000950<"))
            #expect(search.text.contains("1 / 1"))
        }
        try await harness.stop()
    }

    @Test func forgedAndStalePostsAreRefusedAndChangeNothing() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
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
            try await signIn(browser)
            let promoted = try await browser.post("/models/promote", form: ["csrf": try await csrf(browser), "version": "churn@2", "alias": "champion"])
            #expect(promoted.status == .seeOther)
            let admin = try await harness.client()
            #expect(try await admin.model("champion").version == 2)
            let audit = try await admin.audit(limit: 5)
            #expect(audit.first?.action == "promote")
            #expect(audit.first?.user.hasSuffix("(web: \(WebHarness.user))") == true, "\(audit.first?.user ?? "nil")")

            let rolledBack = try await browser.post("/models/rollback", form: ["csrf": try await csrf(browser)])
            #expect(rolledBack.status == .seeOther)
            #expect(try await admin.model("champion").version == 1)
            #expect(try await admin.audit(limit: 1).first?.action == "rollback")

            // A bad version number is said on the dashboard it came from: not a 500, nor a dead end.
            let bad = try await browser.post("/models/promote", form: ["csrf": try await csrf(browser), "version": "churn@99", "alias": "champion"])
            #expect(bad.status == .seeOther && bad.location == "/?model=churn")
            #expect(try await browser.get("/").text.contains(#"<p class="error" id="refusal">Promote to champion: "#))
            await admin.close()
        }
        try await harness.stop()
    }

    @Test func thePredictionFormShowsEachFieldsErrorBesideItAndNeverA500() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let page = try await browser.get("/predict")
            let csrf = try #require(CookieBrowser.csrf(in: page.text))
            var form = try Self.formValues(page.text)
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

    @Test func lookingUpACustomerScoresAndExplainsThem() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
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

    @Test func theTargetListRanksWhomToContactPagesAndExportsAsCSV() async throws {
        let harness = try await WebHarness.start()
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        let alreadyLeft = Set(zip(customers.customers.ids, customers.churned ?? []).filter { $0.1 }.map(\.0))
        #expect(!alreadyLeft.isEmpty, "the fixture has customers who already left")
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let html = try await browser.get("/retention").text
            #expect(html.contains(#"<table id="targets">"#))
            #expect(html.contains(#"id="targets-csv" href="/retention/targets.csv?model=churn""#))
            #expect(html.contains(#"id="already-left""#))
            let total = try #require(html.range(of: #"<p class="note" id="targets-note">"#))
            let count = Int(html[total.upperBound...].prefix { $0.isNumber }) ?? 0
            #expect(count > 0)
            if count > 20 {
                #expect(html.contains(#"id="targets-next" href="/retention?model=churn&amp;page=2""#))
                let second = try await browser.get("/retention?model=churn&page=2").text
                #expect(second.contains(#"id="targets-prev""#))
                #expect(second.contains("<td>21</td>"), "the second page starts at rank 21")
            }
            // The export: every target once, ranked by value, none who already left, each with an offer and drivers.
            let csv = try await browser.get("/retention/targets.csv?model=churn")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition]?.contains("attachment; filename=\"churn-targets-churn-1.csv\"") == true)
            let lines = csv.text.split(separator: "\n").map(String.init)
            #expect(lines.first == "rank,customer_id,risk,monthly_bill,offer,expected_monthly_revenue_kept_net_USD,drivers")
            #expect(lines.count - 1 == count)
            let rows = lines.dropFirst().map { $0.split(separator: ",", maxSplits: 6, omittingEmptySubsequences: false).map(String.init) }
            let values = rows.compactMap { Double($0[5]) }
            #expect(values.count == count && values == values.sorted(by: >), "ranked by expected revenue kept")
            #expect(values.allSatisfy { $0 > 0 }, "only offers worth more than they cost")
            #expect(rows.allSatisfy { !alreadyLeft.contains($0[1]) }, "nobody who already left is targeted")
            #expect(rows.allSatisfy { (Double($0[2]) ?? 0) >= 0.5 }, "only at-risk customers")
            #expect(rows.allSatisfy { !$0[6].isEmpty }, "every target has its drivers")
        }
        try await harness.stop()
    }

    @Test func theRetentionPageShowsCampaignsAndTheirMeasuredUplift() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            #expect(try await browser.get("/retention").text.contains(#"id="no-campaigns""#))
            let admin = try await harness.client()
            let cohort = (0..<200).map { CampaignCustomer(customerID: "k\($0)", monthlyBill: 40) }
            let campaign = try await admin.startCampaign(CampaignStartParams(offer: "two_year_contract", customers: cohort))
            let members = try await admin.campaignMembers(campaign.id)
            // Treated customers churn 1 in 10, control ones 1 in 2.
            _ = try await admin.feedback(members.enumerated().map { index, member in
                Outcome(customerID: member.customerID, churned: member.arm == "treated" ? index % 10 == 0 : index % 2 == 0)
            })
            await admin.close()
            let html = try await browser.get("/retention").text
            #expect(html.contains(#"<table id="campaigns">"#))
            let report = try #require(html.range(of: #"<table id="campaigns">"#).map { String(html[$0.upperBound...].prefix(1500)) })
            #expect(report.contains("<td>two_year_contract</td>"))
            #expect(report.contains("<td>\(campaign.treated) / \(campaign.control)</td>"))
            #expect(report.contains("· p "), "the uplift is shown with its test")
            #expect(report.contains("USD "), "revenue kept in the configured currency")
        }
        try await harness.stop()
    }

    @Test func theTargetListIsRankedByMeasuredUpliftOnceAnUpliftModelExists() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let before = try await browser.get("/retention").text
            #expect(before.contains(#"id="no-uplift""#) && before.contains("what-if simulation"))

            // A campaign on the 900 training customers, half held back; outcomes follow the
            // generator's documented response. Then an uplift model from it, promoted.
            let admin = try await harness.client()
            let path = harness.root + "/train.csv"
            let (training, _) = try DatasetReader.read(path, schema: SyntheticTelco.schema.canonical)
            let ids = training.customers.ids
            let campaign = try await admin.startCampaign(
                CampaignStartParams(offer: "two_year_contract", customers: ids.map { CampaignCustomer(customerID: $0) }, controlShare: 0.5, monthlyCost: 2))
            let treated = Set(try await admin.campaignMembers(campaign.id).filter { $0.arm == "treated" }.map(\.customerID))
            let records = training.records
            _ = try await admin.feedback(ids.enumerated().map { row, id in
                let natural = training.churned![row]
                let segment = TreatmentResponse.segment(of: records[row]) ?? ""
                return Outcome(
                    customerID: id,
                    churned: treated.contains(id) ? TreatmentResponse.outcome(customerID: id, wouldChurn: natural, segment: segment) : natural)
            })
            let uplift = try await admin.trainUplift(UpliftTrainParams(campaign: campaign.id, data: path, params: ["n_trees": 40], seed: 1))
            _ = try await admin.promote(uplift.ref.description)
            await admin.close()

            let html = try await browser.get("/retention").text
            let basis = try #require(html.range(of: #"<p class="note" id="uplift-basis">"#).map { String(html[$0.upperBound...].prefix(300)) })
            #expect(basis.contains("churn-uplift@1") && basis.contains("two_year_contract") && basis.contains("#\(campaign.id)"), "\(basis)")
            #expect(html.contains("measured evidence, not a simulation"))
            #expect(!html.contains(#"id="no-uplift""#))
            // Every listed target is worth more than it costs by the uplift model, best first.
            let csv = try await browser.get("/retention/targets.csv?model=churn").text
            let values = csv.split(separator: "\n").dropFirst().compactMap { line in
                Double(line.split(separator: ",", omittingEmptySubsequences: false)[5])
            }
            #expect(!values.isEmpty && values.allSatisfy { $0 >= 0 } && values == values.sorted(by: >), "\(csv.suffix(600))")
        }
        try await harness.stop()
    }

    @Test func csvFieldsAreQuotedAndFormulasNeutralised() {
        #expect(ChurnWebApp.csvField("plain") == "plain")
        #expect(ChurnWebApp.csvField("a,b") == "\"a,b\"")
        #expect(ChurnWebApp.csvField(#"say "hi""#) == #""say ""hi""""#)
        #expect(ChurnWebApp.csvField("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(ChurnWebApp.csvField("-12.5") == "-12.5", "a negative number stays a number")
        #expect(ChurnWebApp.csvField("@SUM(A1)") == "'@SUM(A1)")
    }

    @Test func retentionRanksOffersByRevenueKeptFromReScoring() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let page = try await browser.get("/retention")
            #expect(page.status == .ok)
            let html = page.text
            #expect(html.contains(#"id="segments""#))
            #expect(html.contains("Month-to-month"))
            let table = try #require(html.range(of: #"<table id="actions">"#))
            let rows = html[table.upperBound...].components(separatedBy: "</tr>").prefix(7).dropFirst()
            let kept = rows.compactMap { row -> Double? in
                let cells = row.components(separatedBy: "<td>").dropFirst().map { $0.replacingOccurrences(of: "</td>", with: "") }
                // "USD 1,234" → 1234: money carries its currency and thousands separators.
                guard cells.count == 7 else { return nil }
                #expect(cells[6].hasPrefix("USD "), "\(cells[6])")
                #expect(cells[5].hasSuffix("%"), "the assumed acceptance is shown")
                return Double(cells[6].dropFirst(4).replacingOccurrences(of: ",", with: ""))
            }
            #expect(html.contains(#"id="revenue-at-risk">USD "#))
            #expect(html.contains("what-if simulation, not a measured effect"))
            #expect(kept.count == 6, "one row per offer")
            #expect(kept == kept.sorted(by: >), "offers are ranked by revenue kept")
            #expect(kept.contains { $0 != 0 }, "re-scoring moved some risk")
        }
        try await harness.stop()
    }

    @Test func withoutChartJSEveryChartIsATableWithANoteOnHowToInstallIt() async throws {
        let harness = try await WebHarness.start()
        var logger = Logger(label: "test-web")
        logger.logLevel = .critical
        let app = try ChurnWebApp(
            configuration: WebConfiguration(
                port: 0, socketPath: harness.socketPath, accounts: [WebHarness.user: Bcrypt.hash(WebHarness.password, cost: 4)],
                customersFile: harness.customersFile, chartJSPath: harness.root + "/no-chart.min.js"),
            logger: logger)
        try await app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let html = try await browser.get("/").text
            #expect(html.contains(#"id="chart-missing""#))
            #expect(html.contains("apt-get install libjs-chart.js"))
            #expect(!html.contains("/assets/chart.min.js"))
            #expect(html.components(separatedBy: "<details open>").count - 1 == 6, "every chart's numbers are shown open")
            #expect(html.contains(#"id="heatmap""#), "the heatmap is a table: it needs no Chart.js")
            #expect(try await browser.get("/assets/chart.min.js").status == .notFound)
        }
        try await harness.stop()
    }

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
            try await signIn(browser)
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

    @Test func trainingCurvesAreChartedAlongWhatEachModelCounts() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let html = try await browser.get("/").text
            let specs = try Self.chartSpecs(html)
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

    @Test func theSearchButtonIsTextNotAnEmoji() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            let english = try await browser.get("/").text
            #expect(english.contains(#"<button id="search">Search</button>"#))
            #expect(!english.contains("🔍"))
            #expect(try await browser.get("/?lang=ko").text.contains(#"<button id="search">검색</button>"#))
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
            try await signIn(browser)
            let english = WebStrings.table(.english)
            let korean = WebStrings.table(.korean)
            for path in ["/?lang=ko", "/predict?customer=\(try Self.firstCustomer(harness))", "/retention"] {
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

    @Test func anOperatorsOwnSchemaGetsItsOwnFormTablesAndOffers() async throws {
        let offers = FileManager.default.temporaryDirectory.appendingPathComponent("offers-\(UUID().uuidString).json").path
        try #"""
            {"offers": [
              {"id": "intl_plan", "title": {"en": "International plan at no charge", "ko": "국제 요금제 무료"},
               "when": {"International plan": ["false"]}, "set": {"International plan": true}, "monthly_cost": 5},
              {"id": "bill_cut", "title": "15% off the bill", "scale": {"Monthly bill": 0.85}, "monthly_cost_share": 0.15},
              {"id": "two_year", "title": "Two-year contract", "set": {"Contract": "Two year"}}],
             "segments": ["Area code", "State"]}
            """#.write(toFile: offers, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: offers) }
        let harness = try await WebHarness.start(operatorModel: true, offers: offers)
        // The schema inferred from the uploaded file is named after the client's file (as `churn
        // train` prints it), not after churnd's copy of the upload.
        let admin = try await harness.client()
        let operatorSchema = try DatasetSchema.decode(try #require(try await admin.model("operator@1").datasetSchema), source: "operator@1")
        #expect(operatorSchema.name == "inferred from operator-train.csv", "\(operatorSchema.name)")
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await signIn(browser)
            // The switch lists both models; the operator's dashboard shows its own columns.
            let dashboard = try await browser.get("/?model=operator")
            #expect(dashboard.status == .ok)
            #expect(dashboard.text.contains(#"<option selected>operator</option>"#) && dashboard.text.contains("<option >churn</option>"))
            #expect(dashboard.text.contains(">row-1<") || dashboard.text.contains("customer=row-"), "rows of a file without ids are named by number")
            #expect(dashboard.text.contains("<th>Customer service calls</th>"), "the most important columns, by the champion's importances")
            #expect(!dashboard.text.contains("<th>Contract</th>"))
            // The form is the operator schema's: a number input with its bounds, a yes/no select, a date.
            let form = try await browser.get("/predict?model=operator")
            #expect(form.text.contains(#"<input name="Customer service calls" value="#) && form.text.contains(#"inputmode="numeric""#))
            #expect(form.text.contains(#"data-range="Customer service calls">"#), "the field's bounds are shown beside it")
            #expect(form.text.contains(#"<select name="International plan"><option value="true""#))
            #expect(form.text.contains(#"<input name="Last plan change" value="#) && form.text.contains(#"type="date""#))
            #expect(!form.text.contains(#"name="tenure""#))
            let csrf = try #require(CookieBrowser.csrf(in: form.text))
            var values = try Self.formValues(form.text)
            values["csrf"] = csrf
            values["model"] = "operator"
            values["Customer service calls"] = "-1"
            values["Account length"] = "many"
            let bad = try await browser.post("/predict", form: values)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains(#"data-field="Customer service calls""#) && bad.text.contains(#"data-field="Account length""#))
            values["Customer service calls"] = "5"
            values["Account length"] = "100"
            let good = try await browser.post("/predict", form: values)
            #expect(good.status == .ok, "\(good.text.suffix(2000))")
            #expect(good.text.contains(#"id="probability""#) && good.text.contains("operator@1"))
            // Retention: the configured segments and offers; an offer of fields it lacks is set aside, said why.
            let retention = try await browser.get("/retention?model=operator")
            #expect(retention.status == .ok, "\(retention.text.suffix(1500))")
            #expect(retention.text.contains("<th>State</th><th>"), "segments by the configured categorical field (Area code is a number here)")
            #expect(retention.text.contains("International plan at no charge") && retention.text.contains("15% off the bill"))
            #expect(retention.text.contains(#"id="inapplicable""#) && retention.text.contains("the model has no field Contract"))
            // The telco model keeps its own pages.
            let telco = try await browser.get("/predict?model=churn")
            #expect(telco.text.contains(#"name="Contract""#) && !telco.text.contains(#"name="Customer service calls""#))
        }
        try await harness.stop()
    }

    static func firstCustomer(_ harness: WebHarness) throws -> String {
        let text = try String(contentsOfFile: harness.customersFile, encoding: .utf8)
        return String(text.split(separator: "\n")[1].prefix { $0 != "," })
    }

    /// The chart descriptions a page carries for its script.
    static func chartSpecs(_ html: String) throws -> [[String: Any]] {
        let start = try #require(html.range(of: #"<script type="application/json" id="churn-charts">"#))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [[String: Any]])
    }

    /// The current value of every field of the prediction form.
    static func formValues(_ html: String) throws -> [String: String] {
        var values: [String: String] = [:]
        let form = try #require(html.range(of: #"id="predict-form""#))
        let body = html[form.upperBound...]
        for chunk in body.components(separatedBy: #"<label data-name=""#).dropFirst() {
            let name = String(chunk.prefix { $0 != "\"" })
            if let selected = chunk.range(of: #"" selected>"#) {
                let before = chunk[..<selected.lowerBound]
                let start = before.range(of: #"value=""#, options: .backwards)!
                values[name] = String(before[start.upperBound...])
            } else if let value = chunk.range(of: #"value=""#) {
                values[name] = String(chunk[value.upperBound...].prefix { $0 != "\"" })
            }
        }
        return values
    }
}
