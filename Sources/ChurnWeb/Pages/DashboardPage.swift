import ChurnData
import ChurnProtocol
import Foundation

/// The manager's first screen: figures, the first contacts, the risk over the base, the
/// riskiest customers and what their months say.
extension PageBuilder {
    /// The strip of figures a manager reads first: customers still with us at risk (by the one
    /// threshold, named), their monthly revenue at risk, the share the file says have left, and
    /// the contacts recommended within the budget with what they are expected to keep and cost.
    func figureValues(
        _ report: RetentionReport, scored: CustomerBase.Scored, contacts: ArraySlice<RetentionReport.Target>, plan: ContactPlan,
        feedback: [FeedbackMonth], context: WebRequestContext
    ) -> [String: Any] {
        var values = headlineValues(report, context: context)
        let spend = contacts.reduce(0.0) { $0 + $1.expectedCost }
        let kept = contacts.reduce(0.0) { $0 + $1.value }
        values["contacts_count"] = Self.grouped(contacts.count)
        values["of_still_with_us"] = text("dash.of_still_with_us", context).replacingOccurrences(
            of: "{count}", with: Self.grouped(report.customersStillWithUs))
        values["contacts_detail"] = report.revenueField == nil
            ? text("dash.contacts_detail_count", context).replacingOccurrences(of: "{kept}", with: String(format: "%.1f", kept))
            : text("dash.contacts_detail", context)
                .replacingOccurrences(of: "{kept}", with: Self.money(kept, currency: report.currency))
                .replacingOccurrences(of: "{spend}", with: Self.money(spend, currency: report.currency))
        values["budget_text"] = plan.budget.map { text("dash.within_budget", context).replacingOccurrences(of: "{budget}", with: Self.money($0, currency: report.currency)) }
            ?? text("dash.no_budget", context)
        values["currency"] = report.currency
        values["customer_count"] = Self.grouped(scored.customers.count)
        let wording = RiskReasons(schema: nil, language: context.language.rawValue)
        if let latest = feedback.first {
            // The churn rate the operator observed: the latest month with outcomes, against the one before.
            values["churn_rate"] = Self.percent(latest.churnRate)
            values["churn_rate_label"] = text("dash.churn_rate_feedback", context)
            var detail = text("dash.churn_rate_month", context)
                .replacingOccurrences(of: "{churned}", with: Self.grouped(latest.churned))
                .replacingOccurrences(of: "{outcomes}", with: Self.grouped(latest.outcomes))
                .replacingOccurrences(of: "{month}", with: wording.monthName(latest.month, derived: false))
            if feedback.count > 1 {
                let change = (latest.churnRate - feedback[1].churnRate) * 100
                detail += " · " + text(change > 0.05 ? "dash.trend_up" : change < -0.05 ? "dash.trend_down" : "dash.trend_flat", context)
                    .replacingOccurrences(of: "{points}", with: String(format: "%.1f", abs(change)))
                    .replacingOccurrences(of: "{month}", with: wording.monthName(feedback[1].month, derived: false))
                values["churn_trend"] = change > 0.05 ? "up" : change < -0.05 ? "down" : "flat"
            }
            values["churn_rate_detail"] = detail
            values["has_churn_months"] = feedback.count > 1
            values["churn_months"] = feedback.reversed().map { month -> [String: String] in
                ["month": wording.monthName(month.month, derived: false), "rate": Self.percent(month.churnRate), "outcomes": Self.grouped(month.outcomes)]
            }
        } else if let left = scored.dataset.churned, !left.isEmpty {
            values["churn_rate_label"] = text("dash.churn_rate", context)
            values["churn_rate"] = Self.percent(Double(report.alreadyLeft) / Double(left.count))
            values["churn_rate_detail"] = text("dash.churn_rate_detail", context)
                .replacingOccurrences(of: "{left}", with: Self.grouped(report.alreadyLeft))
                .replacingOccurrences(of: "{all}", with: Self.grouped(left.count))
        }
        values["has_figures"] = true
        values["retention_link"] = "/retention?model=" + queryValue(scored.model.name) + plan.query
        return values
    }

    /// How many customers fall in each tenth of churn risk, the bars at or above the at-risk
    /// threshold in the risk colour.
    func riskDistribution(_ scored: CustomerBase.Scored, threshold: Double, context: WebRequestContext) -> ChartSpec {
        var bins = [Int](repeating: 0, count: 10)
        for risk in scored.risk { bins[min(9, max(0, Int(risk * 10)))] += 1 }
        let labels = (0..<10).map { "\($0 * 10)–\($0 * 10 + 10)%" }
        let colors: [JSONValue] = (0..<10).map { .string(Double($0) / 10 >= threshold - 1e-9 ? "#d62728" : "#1f77b4") }
        return ChartSpec(
            id: "risk-chart", title: text("dash.distribution", context) + " — \(scored.model)", type: "bar",
            data: .object([
                "labels": .array(labels.map { .string($0) }),
                "datasets": .array([.object(["label": .string(text("ret.size", context)), "data": .array(bins.map { .number(Double($0)) }), "backgroundColor": .array(colors)])]),
            ]),
            options: .object([
                "plugins": .object(["legend": .object(["display": .bool(false)])]),
                "scales": .object(["x": Self.axisTitle(text("col.risk", context)), "y": Self.axisTitle(text("ret.size", context))]),
            ]),
            columns: [text("col.risk", context), text("ret.size", context)], rows: zip(labels, bins).map { [$0, "\($1)"] })
    }

    /// What the champion's months say about its riskiest customers still with us: rows the
    /// customers (ids as row headers), columns the months any of them has, newest first (or the
    /// months of tenure for the derived history), each cell coloured on one scale by the
    /// month's share of attention (`lstm_attention`) or what it adds to the churn probability
    /// (`lstm`, points), with a legend; a month a customer lacks is an empty cell. An HTML
    /// table, so it reads without Chart.js and on a phone.
    func monthHeatmap(_ explained: [CustomerExplanation], context: WebRequestContext) -> [String: Any]? {
        let rows = explained.filter { !($0.explanation.months ?? []).isEmpty }
        guard let first = rows.first else { return nil }
        let periods = Array(Set(rows.flatMap { ($0.explanation.months ?? []).map(\.period) }))
            .sorted { (MonthlyPanel.parsePeriod($0) ?? 0) > (MonthlyPanel.parsePeriod($1) ?? 0) }
        let weighing = MonthWeighing(first.explanation)
        let maximum = max(rows.flatMap { ($0.explanation.months ?? []).map { abs($0.weight) } }.max() ?? 0, 1e-9)
        // One scale in ten steps (classes: the page's security policy allows no inline styles).
        func level(_ weight: Double) -> Int { min(9, max(0, Int((abs(weight) / maximum * 10).rounded(.down)))) }
        let derived = first.explanation.history != nil && first.explanation.history != "observed months"
        let wording = RiskReasons(schema: nil, language: context.language.rawValue)
        return [
            "model": first.model.description,
            "method": text(weighing.titleKey, context),
            "provenance": text(derived ? "history.derived" : "history.observed", context),
            "columns": periods.map { wording.monthName($0, derived: derived) },
            "rows": rows.map { row -> [String: Any] in
                let weights = Dictionary((row.explanation.months ?? []).map { ($0.period, $0.weight) }, uniquingKeysWith: { $1 })
                return [
                    "id": row.customerID,
                    "cells": periods.map { period -> [String: Any] in
                        guard let weight = weights[period] else { return ["empty": true] }
                        return ["level": "h\(level(weight))", "value": weighing.text(weight, context: context)]
                    },
                ]
            },
            "legend": (0..<10).map { step -> [String: Any] in
                ["level": "h\(step)", "value": weighing.text(maximum * Double(step) / 10, context: context)]
            },
        ]
    }

    /// The riskiest customers, a page at a time: id, risk, and the champion's most important
    /// fields (by its importances; the schema's first fields when it has none).
    func customerValues(_ scored: CustomerBase.Scored, query: String, page: Int, context: WebRequestContext) -> [String: Any] {
        let pageSize = 20
        let table = scored.customers
        let needle = query.trimmingCharacters(in: .whitespaces).lowercased()
        // Customers the file says have left are not at risk: left out of the list, and marked
        // when a search finds them.
        let left = scored.dataset.churned ?? []
        let hasLeft = { (row: Int) in row < left.count && left[row] }
        let matching = needle.isEmpty
            ? scored.byRisk.filter { !hasLeft($0) } : scored.byRisk.filter { table.ids[$0].lowercased().contains(needle) }
        let pages = max(1, (matching.count + pageSize - 1) / pageSize)
        let page = min(page, pages)
        let shown = matching.dropFirst((page - 1) * pageSize).prefix(pageSize)
        let columns = Self.shownFields(scored)
        let schema = scored.dataset.schema
        var values: [String: Any] = [
            "query": query, "query_param": queryValue(query), "page": "\(page)", "pages": "\(pages)", "scored_by": scored.model.description,
            "customer_count": "\(table.count)", "has_customers": true,
            "customer_columns": columns.map { name in schema.input(named: name)?.displayName(context.language.rawValue) ?? name },
        ]
        if page > 1 { values["previous"] = "\(page - 1)" }
        if page < pages { values["next"] = "\(page + 1)" }
        values["customers"] = shown.map { row -> [String: Any] in
            [
                "id": table.ids[row], "id_query": queryValue(table.ids[row]), "risk": Self.percent(scored.risk[row]), "left": hasLeft(row),
                "cells": columns.map { name -> [String: String] in
                    let column = schema.input(named: name)
                    return [
                        "label": column?.displayName(context.language.rawValue) ?? name,
                        "value": Self.display(table.value(of: name, at: row), column: column, language: context.language),
                    ]
                },
            ]
        }
        return values
    }

    /// The fields the riskiest-customers table shows: the champion's four most important inputs.
    static func shownFields(_ scored: CustomerBase.Scored) -> [String] {
        let inputs = scored.customers.layout.fields.map(\.name)
        var ranked: [String] = []
        for importance in (scored.champion.importances ?? []).sorted(by: { $0.importance > $1.importance })
        where inputs.contains(importance.feature) && !ranked.contains(importance.feature) {
            ranked.append(importance.feature)
        }
        for name in inputs where !ranked.contains(name) { ranked.append(name) }
        return Array(ranked.prefix(4))
    }

    /// A field value as a table shows it: numbers to two decimals at most, categories by their
    /// label in the page's language (when the schema gives one).
    static func display(_ value: FieldValue, column: SchemaColumn? = nil, language: Language = .english) -> String {
        switch value {
        case .number(let number) where column?.type != .categorical:
            number.rounded() == number ? String(format: "%.0f", number) : String(format: "%.2f", number)
        case .null: "—"
        default: value.text.map { column?.displayValue($0, language.rawValue) ?? $0 } ?? "—"
        }
    }
}
