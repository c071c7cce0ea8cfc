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
@Suite("An operator's own schema on every page", .serialized)
struct OperatorSchemaRouteTests {
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
            try await WebPages.signIn(browser)
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
            var values = try WebPages.formValues(form.text)
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
}
