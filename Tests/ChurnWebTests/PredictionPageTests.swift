import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import HummingbirdTesting
import Testing

@testable import ChurnWeb

/// The prediction page against a real daemon: a number that is not one is refused beside its
/// field, and a sequence model's month weights are charted in the unit, and with the meaning, the
/// months table gives them.
@Suite("Web UI prediction page", .serialized)
struct PredictionPageTests {

    @Test func aNumberThatIsNotOneIsShownBesideItsFieldNeverDropped() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/predict")
            // A text input: a browser sends what was typed (a number input would send "" for "abc").
            #expect(page.text.contains(#"<input name="TotalCharges" value=""#))
            let input = try #require(page.text.range(of: #"<input name="TotalCharges""#).map { page.text[$0.lowerBound...].prefix { $0 != ">" } })
            #expect(!input.contains(#"type="number""#), "\(input)")
            #expect(input.contains(#"inputmode="decimal""#), "\(input)")
            #expect(page.text.contains(#"data-range="tenure">0 – "#), "the bounds are shown beside the field")
            var form = try WebPages.formValues(page.text)
            form["csrf"] = try #require(CookieBrowser.csrf(in: page.text))
            form["TotalCharges"] = "abc"
            let bad = try await browser.post("/predict", form: form)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains(#"<span class="field-error" data-field="TotalCharges">enter a number (got &quot;abc&quot;)</span>"#))
            #expect(!bad.text.contains(#"id="result""#), "no prediction without the field")
            #expect(bad.text.contains(#"<input name="TotalCharges" value="abc""#), "what was typed stays in the field")
        }
        try await harness.stop()
    }

    @Test func anLSTMsMonthWeightsAreChartedInPointsWithTheirMeaning() async throws {
        let harness = try await WebHarness.start(lstm: true)
        let admin = try await harness.client()
        let version = try await admin.train(
            TrainParams(kind: "lstm", data: harness.root + "/train.csv", history: harness.root + "/history.csv", params: ["epochs": .number(2)], seed: 1))
        _ = try await admin.promote(version.ref.description)
        let id = try WebPages.firstCustomer(harness)
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/predict?customer=\(id)")
            #expect(page.status == .ok)
            let html = page.text
            let title = "What the month adds to the churn probability (with it − without it)"
            #expect(html.contains("<th>\(title)</th>"), "the months table says which way the weight goes")
            #expect(html.contains(#"id="month-note""#) && html.contains("red, the month raises the risk; green, it lowers it"))
            let chart = try #require(try WebPages.chartSpecs(html).first { $0["canvas"] as? String == "month-weights" })
            let dataset = try #require(((chart["data"] as? [String: Any])?["datasets"] as? [[String: Any]])?.first)
            #expect(dataset["label"] as? String == title)
            let plotted = try #require(dataset["data"] as? [Double])
            let colours = try #require(dataset["backgroundColor"] as? [String])
            let yAxis = (((chart["options"] as? [String: Any])?["scales"] as? [String: Any])?["y"] as? [String: Any])?["title"] as? [String: Any]
            #expect(yAxis?["text"] as? String == "percentage points")
            // The daemon's weights (probability with the month minus without it), as the page plots
            // them: in points, red where the month raises the risk.
            let record = try #require(try CSVCustomers(harness).record(id))
            let explained = try #require(try await admin.explain([record], model: version.ref.description).first)
            let weights = try #require(explained.explanation.months).map(\.weight)
            #expect(explained.explanation.monthMethod == "occlusion")
            #expect(plotted.count == weights.count)
            for (shown, weight) in zip(plotted, weights) { #expect(abs(shown - weight * 100) < 1e-6, "\(shown) vs \(weight)") }
            #expect(zip(colours, weights).allSatisfy { $0 == ($1 >= 0 ? "#d62728" : "#2b9348") })
            // The table shows each month in the same unit: "+1.2 pts".
            let first = try #require(weights.first)
            #expect(html.contains("<td>" + String(format: "%+.1f ", first * 100) + "pts</td>"))
            // In Korean too.
            let korean = try await browser.get("/predict?customer=\(id)&lang=ko").text
            #expect(korean.contains("해당 월이 이탈 확률에 더하는 값 (포함 − 제외)") && korean.contains("빨간색은 그 달이 위험을 높이고"))
        }
        await admin.close()
        try await harness.stop()
    }

    @Test func attentionWeightsAreOneColourWithTheirOwnNote() async throws {
        let harness = try await WebHarness.start()
        let admin = try await harness.client()
        _ = try await admin.promote("2")  // the attention model
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let html = try await browser.get("/predict?customer=\(try WebPages.firstCustomer(harness))").text
            let chart = try #require(try WebPages.chartSpecs(html).first { $0["canvas"] as? String == "month-weights" })
            let dataset = try #require(((chart["data"] as? [String: Any])?["datasets"] as? [[String: Any]])?.first)
            #expect(Set(dataset["backgroundColor"] as? [String] ?? []).count == 1, "attention has no direction: one colour")
            let plotted = dataset["data"] as? [Double] ?? []
            #expect(abs(plotted.reduce(0, +) - 100) < 0.5, "percent of attention, as the table shows it: \(plotted)")
            #expect(html.contains("attention the month received (the months add up to 100%)"))
        }
        try await harness.stop()
    }
}

/// The harness's customer base, read as the web reads it.
private struct CSVCustomers {
    let dataset: Dataset

    init(_ harness: WebHarness) throws {
        dataset = try DatasetReader.read(harness.customersFile, schema: BuiltInSchemas.kaggle).0
    }

    func record(_ id: String) -> CustomerRecord? {
        dataset.customers.ids.firstIndex(of: id).map { dataset.record(at: $0) }
    }
}
