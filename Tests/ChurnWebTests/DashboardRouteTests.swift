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
@Suite("The manager's first screen", .serialized)
struct DashboardRouteTests {
    @Test func theFirstScreenLeadsWithTheFiguresAndTheFirstContacts() async throws {
        let harness = try await WebHarness.start()
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        let rowByID = Dictionary(uniqueKeysWithValues: customers.customers.ids.enumerated().map { ($1, $0) })
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/")
            #expect(page.status == .ok)
            let html = page.text
            // The figures, then the first contacts, before any chart; model operations elsewhere.
            let order = [#"id="figures""#, #"id="figure-at-risk""#, #"id="figure-revenue""#, #"id="figure-churn-rate""#, #"id="figure-contacts""#,
                         #"id="first-contacts""#, #"<table id="contacts""#, #"id="risk-chart""#, #"id="riskiest-table""#]
            let positions = order.map { html.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil }, "\(zip(order, positions).filter { $0.1 == nil }.map(\.0))")
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "the figures and contacts come first")
            #expect(!html.contains(#"id="models""#) && !html.contains(#"id="roc-chart""#), "model operations are on the models page")
            #expect(html.contains("at risk: churn probability ≥ 50.0%"), "the threshold is named")
            // At most ten contacts; the first has a reason in words naming a field, and an offer it is eligible for.
            let rows = WebPages.tableRows(html, id: "contacts")
            #expect((1...10).contains(rows.count), "\(rows.count) contacts")
            let first = try #require(rows.first)
            let id = try #require(first["Customer"]).replacingOccurrences(of: #"<a href="[^"]*">|</a>"#, with: "", options: .regularExpression)
            let reasons = try #require(first["Why at risk"])
            let fieldNames = BuiltInSchemas.kaggle.inputs.map { $0.displayName("en") }
            #expect(fieldNames.contains { reasons.contains($0 + ":") || reasons.contains($0 + " ") }, "\(reasons)")
            #expect(reasons.contains(" pts"), "\(reasons)")
            let offerCell = try #require(first["Offer"])
            let offer = try #require(BuiltInSchemas.telcoOffers.offers.first { offerCell.hasPrefix($0.title("en")) }, "\(offerCell)")
            let record = customers.record(at: try #require(rowByID[id], "\(id)"))
            #expect(offer.fits(record), "\(id) is offered \(offer.id), which does not fit them")
            #expect(offerCell.contains("assumed to accept"), "the acceptance is beside the offer: \(offerCell)")
        }
        try await harness.stop()
    }

    @Test func theHeadlineAgreesWithTheContactListAtTheSameThresholdAndBudget() async throws {
        let harness = try await WebHarness.start()
        // At risk, counted apart from the web: the champion's probabilities of the customers still with us.
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        let admin = try await harness.client()
        let predictions = try await admin.predict(customers.records, model: "churn@1")
        await admin.close()
        let left = customers.churned ?? []
        let atRisk = predictions.indices.filter { predictions[$0].churnProbability >= 0.5 && !left[$0] }.count
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            for budget in ["", "300", "40", "0"] {
                let query = budget.isEmpty ? "" : "&budget=" + budget
                let first = try await browser.get("/?model=churn" + query).text
                let retention = try await browser.get("/retention?model=churn" + query).text
                let csv = try await browser.get("/retention/targets.csv?model=churn" + query).text
                let listed = csv.split(separator: "\n").count - 1
                #expect(WebPages.number(after: #"<strong id="contacts-count">"#, in: first) == listed, "budget \(budget)")
                #expect(WebPages.number(after: #"<span id="contacts-summary">"#, in: retention) == listed, "budget \(budget)")
                #expect(WebPages.number(after: #"<strong id="at-risk-count">"#, in: retention) == atRisk)
                #expect(first.contains("<strong>\(atRisk)</strong>"), "the first screen's at-risk figure is \(atRisk)")
                // Within the budget: the expected spend of the listed contacts fits it.
                let spend = csv.split(separator: "\n").dropFirst().compactMap { Double($0.split(separator: ",", omittingEmptySubsequences: false)[5]) }
                if let limit = Double(budget) { #expect(spend.reduce(0, +) <= limit + 1e-6, "budget \(budget): spend \(spend.reduce(0, +))") }
            }
            // A smaller budget never lists more.
            let all = try await browser.get("/retention/targets.csv?model=churn").text.split(separator: "\n").count
            let few = try await browser.get("/retention/targets.csv?model=churn&budget=40").text.split(separator: "\n").count
            #expect(few <= all)
            let free = try await browser.get("/retention/targets.csv?model=churn&budget=0").text.split(separator: "\n").dropFirst()
            #expect(free.allSatisfy { Double($0.split(separator: ",", omittingEmptySubsequences: false)[5]) == 0 }, "no budget: only offers that cost nothing")
        }
        try await harness.stop()
    }

    @Test func theChurnRateAndItsTrendComeFromFeedbackOnceThereIsSome() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            // Without feedback: the file's label, said as such.
            let before = try await browser.get("/").text
            #expect(before.contains("Churn rate in the customer file"))
            // October: 2 of 40 churned; November: 6 of 30.
            let admin = try await harness.client()
            _ = try await admin.feedback((0..<40).map { Outcome(customerID: "oct-\($0)", churned: $0 < 2, date: "2026-10-15") })
            _ = try await admin.feedback((0..<30).map { Outcome(customerID: "nov-\($0)", churned: $0 < 6, date: "2026-11-15") })
            await admin.close()
            let html = try await browser.get("/").text
            let figure = try #require(html.range(of: #"id="figure-churn-rate""#).map { String(html[$0.upperBound...].prefix(700)) })
            #expect(figure.contains("Churn rate from feedback") && figure.contains(#"<strong class="trend-up">20.0%</strong>"#), "\(figure)")
            #expect(figure.contains("6 of 30 outcomes in Nov 2026 churned · up 15.0 pts on Oct 2026"), "\(figure)")
            #expect(figure.contains("Oct 2026 5.0%") && figure.contains("Nov 2026 20.0%"))
            let korean = try await browser.get("/?lang=ko").text
            #expect(korean.contains("피드백 기준 이탈률") && korean.contains("2026년 10월 대비 15.0%p 상승"))
        }
        try await harness.stop()
    }

    @Test func customersWhoLeftAreNeverOnAnAtRiskListAndMarkedWhenSearched() async throws {
        let harness = try await WebHarness.start()
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        let leftIDs = Set(zip(customers.customers.ids, customers.churned ?? []).filter { $0.1 }.map(\.0))
        #expect(!leftIDs.isEmpty)
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let html = try await browser.get("/").text
            for table in ["riskiest-table", "contacts"] {
                let ids = WebPages.tableRows(html, id: table).compactMap { $0["Customer"] }
                    .map { $0.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression) }
                #expect(!ids.isEmpty)
                #expect(ids.allSatisfy { !leftIDs.contains($0) }, "\(table) lists a customer who left")
            }
            // Riskiest first, 20 a page, searchable; a search finds a customer who left, marked.
            let risks = WebPages.tableRows(html, id: "riskiest-table").compactMap { $0["Churn risk"].flatMap { Double($0.dropLast()) } }
            #expect(risks.count == 20 && risks == risks.sorted(by: >))
            #expect(try await browser.get("/?page=2").text.contains(#"id="riskiest""#))
            let gone = try #require(leftIDs.sorted().first)
            let search = try await browser.get("/?q=" + gone).text
            #expect(search.contains(">\(gone)</a> <span class=\"badge left\">left</span>"))
        }
        try await harness.stop()
    }

    @Test func theMonthsAreTheChampionsNewestFirst() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            // A forest champion reads no months: no heatmap of another version.
            #expect(!(try await browser.get("/").text.contains(#"id="heatmap""#)))
            // The attention model promoted from the models page: its months, its customers.
            let promoted = try await browser.post(
                "/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion", "confirm": "yes"])
            #expect(promoted.status == .seeOther)
            let html = try await browser.get("/").text
            #expect(html.contains(#"id="heatmap""#))
            let title = try #require(html.range(of: #"<h2 id="heatmap-title">"#).map { String(html[$0.upperBound...].prefix(80)) })
            #expect(title.contains("churn"))
            let header = try #require(html.range(of: #"<table id="heatmap" class="heatmap"><thead><tr>"#).map {
                String(html[$0.upperBound...].prefix { $0 != "\n" })
            })
            let months = header.components(separatedBy: "<th>").dropFirst(2).map { $0.replacingOccurrences(of: "</th>", with: "").replacingOccurrences(of: "</tr></thead><tbody>", with: "") }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "MMM yyyy"
            let dates = months.compactMap { formatter.date(from: $0) }
            #expect(dates.count == months.count && dates.count >= 6, "\(months)")
            #expect(dates == dates.sorted(by: >), "newest month first: \(months)")
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
            try await WebPages.signIn(browser)
            let html = try await browser.get("/models").text
            #expect(html.contains(#"id="chart-missing""#))
            #expect(html.contains("apt-get install libjs-chart.js"))
            #expect(!html.contains("/assets/chart.min.js"))
            #expect(html.components(separatedBy: "<details open>").count - 1 == 5, "every chart's numbers are shown open")
            let first = try await browser.get("/").text
            #expect(first.components(separatedBy: "<details open>").count - 1 == 1, "the risk over the base, as numbers")
            #expect(try await browser.get("/assets/chart.min.js").status == .notFound)
        }
        try await harness.stop()
    }
}
