import ChurnClient
import ChurnData
import ChurnProtocol
import Hummingbird

/// The manager's first screen: the figures that matter (customers still with us at risk, their
/// monthly revenue at risk, the churn rate, the contacts recommended within the budget), the
/// ten customers to contact first with a reason in words and an eligible offer, then the risk
/// over the base, the riskiest customers and what the months say. Model operations are on the
/// models page.
struct DashboardController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/") { request, context in try await firstScreen(request, context) }
        routes.post("/rescore") { request, context -> Response in
            let model = app.selectedModel(request, context)
            let plan = ContactPlan(request: request, context: context)
            do {
                _ = try await app.base(model).current(app.link, refresh: true)
            } catch {
                app.refuse(app.text("dash.rescore", context) + ": " + app.describe(error), context: context)
            }
            return .redirect(to: "/?model=\(queryValue(model))" + plan.query, type: .normal)
        }
        return routes
    }

    private func firstScreen(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = app.selectedModel(request, context)
        var values: [String: Any] = ["title": app.text("dash.title", context), "nav_dashboard": true]
        if let refusal = app.takeRefusal(context) { values["refusal"] = refusal }
        let query = request.uri.queryParameters.get("q") ?? ""
        let page = max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1)
        let plan = ContactPlan(request: request, context: context)
        values.merge(plan.values) { $1 }
        do {
            let everyVersion = try await app.link.with { client throws(ChurnClientError) in try await client.models() }
            values.merge(app.pages.modelSwitch(everyVersion, selected: model)) { $1 }
            values["daemon_ok"] = true
            guard everyVersion.contains(where: { $0.name == model && $0.aliases.contains(ModelReference.champion) }) else {
                values["notice"] = app.text("dash.no_champion", context)
                return app.render("dashboard", status: .ok, context: context, values: values)
            }
            do {
                let (report, scored, base) = try await app.retentionReport(model, threshold: plan.threshold)
                values["synthetic"] = base.isSynthetic
                let contacts = report.contacts(within: plan.budget)
                let top = contacts.prefix(10)
                // Reasons are secondary: a failed explanation leaves them out, never the figures.
                let reasons = (try? await app.drivers(of: top, scored: scored, language: context.language))
                    ?? Array(repeating: "", count: top.count)
                let feedback = (try? await app.link.with { client throws(ChurnClientError) in try await client.feedbackSummary(months: 6) }) ?? []
                values.merge(
                    app.pages.figureValues(report, scored: scored, contacts: contacts, plan: plan, feedback: feedback, context: context)) { $1 }
                values.merge(app.pages.contactValues(report, shown: top, first: 1, reasons: reasons, context: context)) { $1 }
                values.merge(app.pages.customerValues(scored, query: query, page: page, context: context)) { $1 }
                let charts = [app.pages.riskDistribution(scored, threshold: report.atRiskThreshold, context: context)]
                // What the months say, when the champion reads months: its customers still with
                // us, riskiest first.
                if scored.champion.kind.hasPrefix("lstm") {
                    let left = scored.dataset.churned ?? []
                    let riskiest = Array(scored.byRisk.lazy.filter { $0 >= left.count || !left[$0] }.prefix(12).map { scored.records[$0] })
                    let champion = scored.model.description
                    if let explained = try? await app.link.with({ client throws(ChurnClientError) in
                        try await client.explain(riskiest, model: champion)
                    }) {
                        values["heatmap"] = app.pages.monthHeatmap(explained, context: context)
                    }
                }
                values.merge(app.pages.chartValues(charts)) { $1 }
            } catch let error as ChurnClientError {
                throw error
            } catch {
                values["base_problem"] = "\(error)"
            }
        } catch {
            values.merge(app.failure(error)) { $1 }
        }
        return app.render("dashboard", status: ChurnWebApp.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }
}
