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
@Suite("The retention page", .serialized)
struct RetentionRouteTests {
    @Test func theTargetListRanksWhomToContactPagesAndExportsAsCSV() async throws {
        let harness = try await WebHarness.start()
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        let alreadyLeft = Set(zip(customers.customers.ids, customers.churned ?? []).filter { $0.1 }.map(\.0))
        #expect(!alreadyLeft.isEmpty, "the fixture has customers who already left")
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let html = try await browser.get("/retention").text
            #expect(html.contains(#"<table id="contacts" class="stack">"#))
            #expect(html.contains(#"id="targets-csv" href="/retention/targets.csv?model=churn""#))
            #expect(html.contains(#"id="already-left""#))
            let count = try #require(WebPages.number(after: #"<span id="contacts-summary">"#, in: html))
            #expect(count > 0)
            if count > 20 {
                #expect(html.contains(#"id="targets-next" href="/retention?model=churn&amp;page=2""#))
                let second = try await browser.get("/retention?model=churn&page=2").text
                #expect(second.contains(#"id="targets-prev""#))
                #expect(WebPages.tableRows(second, id: "contacts").first?["#"] == "21", "the second page starts at rank 21")
            }
            // The export: every contact once, ranked by value, none who already left, each with an
            // offer, its cost and acceptance, and reasons in words.
            let csv = try await browser.get("/retention/targets.csv?model=churn")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition]?.contains("attachment; filename=\"churn-targets-churn-1.csv\"") == true)
            let lines = csv.text.split(separator: "\n").map(String.init)
            #expect(lines.first == "rank,customer_id,risk,monthly_bill,offer,offer_expected_monthly_cost_USD,offer_acceptance,expected_monthly_revenue_kept_net_USD,reasons")
            #expect(lines.count - 1 == count)
            let rows = lines.dropFirst().map { $0.split(separator: ",", maxSplits: 8, omittingEmptySubsequences: false).map(String.init) }
            let values = rows.compactMap { Double($0[7]) }
            #expect(values.count == count && values == values.sorted(by: >), "ranked by expected revenue kept")
            #expect(values.allSatisfy { $0 > 0 }, "only offers worth more than they cost")
            #expect(rows.allSatisfy { !alreadyLeft.contains($0[1]) }, "nobody who already left is targeted")
            #expect(rows.allSatisfy { $0[8].contains(" pts") }, "every contact has its reasons in words")
            let rowByID = Dictionary(uniqueKeysWithValues: customers.customers.ids.enumerated().map { ($1, $0) })
            for row in rows {
                let offer = try #require(BuiltInSchemas.telcoOffers.offers.first { $0.id == row[4] })
                #expect(offer.fits(customers.record(at: rowByID[row[1]]!)), "\(row[1]) is offered \(offer.id), which does not fit them")
            }
            #expect(rows.allSatisfy { (Double($0[2]) ?? 0) >= 0.5 }, "only at-risk customers")
        }
        try await harness.stop()
    }

    @Test func theRetentionPageShowsCampaignsAndTheirMeasuredUplift() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
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
            try await WebPages.signIn(browser)
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
            let csv = try await browser.get("/retention/targets.csv?model=churn").text
            let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", maxSplits: 8, omittingEmptySubsequences: false) }
            let values = rows.compactMap { Double($0[7]) }
            #expect(!html.contains(#"id="no-uplift""#))
            #expect(values.allSatisfy { $0 > 0 } && values == values.sorted(by: >), "\(csv.suffix(600))")
            // The same customers as every list: at risk and still with us, and eligible for the offer.
            #expect(rows.allSatisfy { (Double($0[2]) ?? 0) >= 0.5 }, "only at-risk customers")
            let (base, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
            let rowByID = Dictionary(uniqueKeysWithValues: base.customers.ids.enumerated().map { ($1, $0) })
            let offer = try #require(BuiltInSchemas.telcoOffers.offers.first { $0.id == "two_year_contract" })
            // Evidence only when the held-back Qini gain over ranking by risk clears zero.
            if (uplift.metrics["val_qini_gain_low"] ?? 0) > 0 {
                let basis = try #require(html.range(of: #"<p class="note" id="uplift-basis">"#).map { String(html[$0.upperBound...].prefix(400)) })
                #expect(basis.contains("churn-uplift@1") && basis.contains("two_year_contract") && basis.contains("#\(campaign.id)"), "\(basis)")
                #expect(html.contains("measured evidence, not a simulation"))
                #expect(rows.allSatisfy { $0[4] == "two_year_contract" && offer.fits(base.record(at: rowByID[String($0[1])]!)) })
            } else {
                let note = try #require(html.range(of: #"<p class="note" id="uplift-not-better">"#).map { String(html[$0.upperBound...].prefix(400)) })
                #expect(note.contains("churn-uplift@1 is not yet better than ranking by risk"), "\(note)")
                #expect(!html.contains("measured evidence"), "a model that does not beat ranking by risk is never called evidence")
                #expect(!html.contains(#"id="uplift-basis""#))
            }
        }
        try await harness.stop()
    }

    @Test func howManyToContactShowsTheGainAndTheConfusionMatrixAtTheChosenThreshold() async throws {
        let harness = try await WebHarness.start()
        let (customers, _) = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle)
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            var atRisk: [Int] = []
            for threshold in ["50", "30"] {
                let html = try await browser.get("/retention?model=churn&threshold=" + threshold).text
                #expect(html.contains("at risk: churn probability ≥ \(threshold).0%"))
                atRisk.append(try #require(WebPages.number(after: #"<strong id="at-risk-count">"#, in: html)))
                // The gain: rising from 0 to 1, with the threshold and the budget marked.
                let gain = try #require(try WebPages.chartSpecs(html).first { $0["canvas"] as? String == "gain-chart" })
                let datasets = ((gain["data"] as? [String: Any])?["datasets"] as? [[String: Any]]) ?? []
                #expect(datasets.count == 4, "churners, revenue, the threshold and the budget")
                let churners = (datasets.first?["data"] as? [[String: Double]]) ?? []
                let ys = churners.compactMap { $0["y"] }
                #expect(ys.first == 0 && abs((ys.last ?? 0) - 1) < 1e-9 && ys == ys.sorted(), "\(ys)")
                // The confusion matrix counts every customer in the file once, against its label.
                let rows = WebPages.tableRows(html, id: "confusion")
                let cells = rows.flatMap { [$0["Left"], $0["Stayed"]] }.compactMap { $0.flatMap { Int($0.replacingOccurrences(of: ",", with: "")) } }
                #expect(cells.count == 4 && cells.reduce(0, +) == customers.customers.count, "\(rows)")
                let left = (customers.churned ?? []).filter { $0 }.count
                #expect(cells[0] + cells[2] == left, "the left column is the customers who left")
            }
            #expect(atRisk[1] > atRisk[0], "a lower threshold puts more customers at risk: \(atRisk)")
            // The plan goes with every link: the first screen, the pages, the export.
            let lower = try await browser.get("/retention?model=churn&threshold=30&budget=200").text
            #expect(lower.contains(#"href="/?model=churn&amp;threshold=30&amp;budget=200""#))
            #expect(lower.contains(#"id="targets-csv" href="/retention/targets.csv?model=churn&amp;threshold=30&amp;budget=200""#))
            let first = try await browser.get("/?model=churn&threshold=30&budget=200").text
            #expect(first.contains(#"<input name="threshold" value="30""#) && first.contains("churn probability ≥ 30.0%"))
            #expect(!lower.contains(#"id="targets-prev""#), "no arrow back from the first page")
            // A threshold out of range is the default, named.
            #expect(try await browser.get("/retention?model=churn&threshold=99").text.contains("churn probability ≥ 50.0%"))
        }
        try await harness.stop()
    }

    @Test func csvFieldsAreQuotedAndFormulasNeutralised() {
        #expect(RetentionController.csvField("plain") == "plain")
        #expect(RetentionController.csvField("a,b") == "\"a,b\"")
        #expect(RetentionController.csvField(#"say "hi""#) == #""say ""hi""""#)
        #expect(RetentionController.csvField("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(RetentionController.csvField("-12.5") == "-12.5", "a negative number stays a number")
        #expect(RetentionController.csvField("@SUM(A1)") == "'@SUM(A1)")
    }

    @Test func retentionRanksOffersByRevenueKeptFromReScoring() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/retention")
            #expect(page.status == .ok)
            let html = page.text
            #expect(html.contains(#"id="segments""#))
            #expect(html.contains("Month-to-month"))
            let rows = WebPages.tableRows(html, id: "actions")
            let kept = rows.compactMap { row -> Double? in
                // "USD 1,234" → 1234, "−USD 209" → -209: money carries its currency, thousands
                // separators, and a loss its minus before the currency (and the loss colour).
                guard let cell = row["Monthly revenue kept"], let acceptance = row["Assumed acceptance"] else { return nil }
                #expect(cell.hasPrefix("USD ") || cell.hasPrefix("−USD "), "\(cell)")
                #expect(acceptance.hasSuffix("%"), "the assumed acceptance is shown")
                let amount = Double(cell.replacingOccurrences(of: "−USD ", with: "-").replacingOccurrences(of: "USD ", with: "").replacingOccurrences(of: ",", with: ""))
                if let amount, amount < 0 { #expect(html.contains(#"class="loss">\#(cell)<"#), "a loss in the loss colour") }
                return amount
            }
            #expect(html.contains(#"id="revenue-at-risk">USD "#))
            #expect(html.contains("what-if simulation, not a measured effect"))
            #expect(kept.count == 6, "one row per offer")
            #expect(kept == kept.sorted(by: >), "offers are ranked by revenue kept")
            #expect(kept.contains { $0 != 0 }, "re-scoring moved some risk")
        }
        try await harness.stop()
    }
}
