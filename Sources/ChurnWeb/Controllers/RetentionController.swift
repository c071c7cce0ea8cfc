import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import Hummingbird
import NIOCore

/// The retention page and its export: whom to contact, with which offer, what it keeps, and why
/// each customer is at risk.
struct RetentionController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/retention") { request, context in try await retentionPage(request, context) }
        routes.get("/retention/targets.csv") { request, context -> Response in
            do {
                return try await targetsCSV(request, context)
            } catch {
                // Said as text, in the page's language, not as a bare 500.
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: app.text("error.daemon", context) + ": " + app.describe(error) + "\n")))
            }
        }
        return routes
    }

    /// Contacts a page shows at a time.
    static let perPage = 20

    /// Every contact within the budget as CSV, as the page lists them: rank, customer, risk,
    /// bill, offer with its monthly cost and acceptance, the value expected to be kept, and the
    /// reasons in words (in the page's language).
    private func targetsCSV(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = app.selectedModel(request, context)
        let plan = ContactPlan(request: request, context: context)
        let (report, scored, _) = try await app.retentionReport(model, threshold: plan.threshold)
        let contacts = report.contacts(within: plan.budget)
        let reasons = try await app.drivers(of: contacts, scored: scored, language: context.language)
        let valueColumn = report.revenueField == nil ? "expected_churners_kept" : "expected_monthly_revenue_kept_net_\(report.currency)"
        var lines = [
            [
                "rank", "customer_id", "risk", "monthly_bill", "offer", "offer_expected_monthly_cost_\(report.currency)", "offer_acceptance",
                valueColumn, "reasons",
            ].joined(separator: ",")
        ]
        for (index, target) in contacts.enumerated() {
            let fields = [
                "\(index + 1)", target.id, String(format: "%.4f", target.risk), target.bill.map { String(format: "%.2f", $0) } ?? "",
                target.offer.id, String(format: "%.2f", target.expectedCost), String(format: "%.2f", target.offer.acceptance),
                String(format: "%.2f", target.value), reasons[index],
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        var response = Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        response.headers[.contentDisposition] = "attachment; filename=\"churn-targets-\(scored.model.name)-\(scored.model.version).csv\""
        return response
    }

    /// A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @
    /// (a spreadsheet formula) is neutralised with a leading apostrophe.
    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func retentionPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = app.selectedModel(request, context)
        var values: [String: Any] = ["title": app.text("ret.title", context), "nav_retention": true]
        let plan = ContactPlan(request: request, context: context)
        values.merge(plan.values) { $1 }
        do {
            let everyVersion = try await app.link.with { client throws(ChurnClientError) in try await client.models() }
            values.merge(app.pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let (report, scored, base) = try await app.retentionReport(model, threshold: plan.threshold)
            values["synthetic"] = base.isSynthetic
            // The contacts within the budget, a page at a time, each with its reasons in words.
            let contacts = report.contacts(within: plan.budget)
            let perPage = Self.perPage
            let pageCount = max(1, (contacts.count + perPage - 1) / perPage)
            let page = min(max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1), pageCount)
            let shown = contacts.dropFirst((page - 1) * perPage).prefix(perPage)
            let reasons = try await app.drivers(of: shown, scored: scored, language: context.language)
            var (reportValues, chart) = app.pages.retentionValues(report, context: context)
            reportValues.merge(
                app.pages.targetValues(
                    report, contacts: contacts, shown: shown, reasons: reasons, page: page, pageCount: pageCount, model: model, plan: plan,
                    context: context)) { $1 }
            // Campaigns and their measured uplift (the five newest).
            let campaigns = try await app.link.with { client throws(ChurnClientError) in
                var reports: [CampaignReport] = []
                for campaign in try await client.campaigns().prefix(5) { reports.append(try await client.campaignReport(campaign.id)) }
                return reports
            }
            reportValues.merge(app.pages.campaignValues(campaigns, currency: report.currency, context: context)) { $1 }
            // How many to contact: gain against share contacted, and the threshold's confusion matrix.
            let (howMany, gain) = app.pages.howManyValues(report, scored: scored, contacts: contacts, context: context)
            reportValues.merge(howMany) { $1 }
            values["report"] = reportValues
            values.merge(app.pages.chartValues([gain, chart])) { $1 }
        } catch {
            values.merge(app.failure(error)) { $1 }
        }
        return app.render("retention", status: ChurnWebApp.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }
}
