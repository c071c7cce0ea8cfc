import ChurnData
import ChurnProtocol
import Foundation

/// One chart: a Chart.js configuration for the browser, and the same numbers as a table for
/// anyone without Chart.js (or a screen).
struct ChartSpec {
    var id: String
    var title: String
    var type: String
    var data: JSONValue
    var options: JSONValue = .object([:])
    var height = 220
    var columns: [String]
    var rows: [[String]]
}

/// Turns the daemon's answers into what the templates show.
struct PageBuilder: Sendable {
    let chartJSAvailable: Bool

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]

    // MARK: Dashboard

    func daemonValues(
        health: HealthResult, models: [ModelVersionInfo], experiment: ExperimentInfo?, report: ExperimentReport?,
        audit: [AuditRecord], context: WebRequestContext
    ) -> [String: Any] {
        var values: [String: Any] = [:]
        let ready = health.plugins.filter { $0.state == "ready" }.count
        values["health"] = ["status": health.status, "plugins": "\(ready)/\(health.plugins.count) " + text("dash.plugins_ready", context)]
        let champion = models.first { $0.aliases.contains("champion") }
        let challenger = models.first { $0.aliases.contains("challenger") }
        if let champion { values["champion"] = "\(champion.ref) (\(champion.kind))" }
        if let challenger { values["challenger"] = "\(challenger.ref) (\(challenger.kind))" }
        values["has_models"] = !models.isEmpty
        values["models"] = models.sorted { ($0.name, $0.version) > ($1.name, $1.version) }.map { model -> [String: Any] in
            [
                "ref": model.ref.description, "kind": model.kind, "created": String(model.createdAt.prefix(16)),
                "roc_auc": Self.metric(model, "roc_auc"), "accuracy": Self.metric(model, "accuracy"),
                "precision": Self.metric(model, "precision"), "recall": Self.metric(model, "recall"), "f1": Self.metric(model, "f1"),
                "aliases": model.aliases.sorted(), "is_champion": model.aliases.contains("champion"),
                "is_challenger": model.aliases.contains("challenger"),
            ]
        }
        values["compare"] = Self.latestByKind(models).map { model -> [String: Any] in
            [
                "kind": model.kind, "ref": model.ref.description, "accuracy": Self.metric(model, "accuracy"),
                "precision": Self.metric(model, "precision"), "recall": Self.metric(model, "recall"), "f1": Self.metric(model, "f1"),
                "roc_auc": Self.metric(model, "roc_auc"),
            ]
        }
        if let experiment {
            var shown: [String: Any] = [
                "mode": experiment.mode + (experiment.mode == "ab" ? String(format: " %.0f%%", experiment.share * 100) : ""),
                "champion": "\(experiment.model)@\(experiment.championVersion)",
                "challenger": "\(experiment.model)@\(experiment.challengerVersion)", "started": experiment.startedAt,
            ]
            if let report {
                shown["report"] = [
                    "arms": report.arms.map { arm -> [String: Any] in
                        [
                            "arm": arm.arm, "model": "\(experiment.model)@\(arm.version)", "predictions": "\(arm.predictions)",
                            "labelled": "\(arm.outcomes)", "auc": Self.interval(arm.rocAUC), "precision": Self.interval(arm.precisionAtTop),
                        ]
                    },
                    "verdict_label": text(Self.verdictKey(report.decision), context),
                    "verdict_evidence": report.decision == .tooFewOutcomes
                        ? text("verdict.too_few_detail", context) : Self.verdictEvidence(report.verdict),
                ]
            }
            values["experiment"] = shown
        }
        values["audit"] = audit.map { entry -> [String: Any] in
            let change = [entry.fromVersion.map { "v\($0)" }, entry.toVersion.map { "v\($0)" }].compactMap { $0 }.joined(separator: " → ")
            return [
                "at": entry.at, "user": entry.user, "action": text("audit." + entry.action, context),
                "detail": [entry.model, change, entry.detail ?? ""].filter { !$0.isEmpty }.joined(separator: " · "),
            ]
        }
        return values
    }

    func modelCharts(models: [ModelVersionInfo], context: WebRequestContext) -> [ChartSpec] {
        var charts: [ChartSpec] = []
        let latest = Self.latestByKind(models)
        // ROC curves, one line per kind.
        let withROC = latest.filter { !($0.rocCurve ?? []).isEmpty }
        if !withROC.isEmpty {
            let datasets: [JSONValue] = withROC.enumerated().map { index, model in
                .object([
                    "label": .string("\(model.kind) \(model.ref) AUC \(Self.metric(model, "roc_auc"))"),
                    "data": .array((model.rocCurve ?? []).map { .object(["x": .number($0.falsePositiveRate), "y": .number($0.truePositiveRate)]) }),
                    "showLine": .bool(true), "pointRadius": .number(0), "borderColor": .string(Self.palette[index % Self.palette.count]),
                    "backgroundColor": .string(Self.palette[index % Self.palette.count]),
                ])
            }
            charts.append(
                ChartSpec(
                    id: "roc-chart", title: text("dash.roc", context), type: "scatter", data: .object(["datasets": .array(datasets)]),
                    options: Self.axes(x: text("axis.fpr", context), y: text("axis.tpr", context), maximum: 1),
                    columns: [text("exp.model", context), text("axis.points", context), "ROC-AUC"],
                    rows: withROC.map { [$0.ref.description + " " + $0.kind, "\($0.rocCurve?.count ?? 0)", Self.metric($0, "roc_auc")] }))
        }
        // Feature importance of the champion (or the newest model that has it).
        let ranked = models.sorted { ($0.aliases.contains("champion") ? 1 : 0, $0.version) > ($1.aliases.contains("champion") ? 1 : 0, $1.version) }
        if let model = ranked.first(where: { !($0.importances ?? []).isEmpty }) {
            let top = (model.importances ?? []).sorted { $0.importance > $1.importance }.prefix(12)
            charts.append(
                ChartSpec(
                    id: "importance-chart", title: text("dash.importance", context) + " — \(model.ref) (\(model.kind))", type: "bar",
                    data: .object([
                        "labels": .array(top.map { .string($0.feature) }),
                        "datasets": .array([
                            .object([
                                "label": .string(top.first?.method ?? "importance"), "data": .array(top.map { .number($0.importance) }),
                                "backgroundColor": .string(Self.palette[0]),
                            ])
                        ]),
                    ]),
                    options: .object([
                        "indexAxis": .string("y"),
                        "scales": .object([
                            "x": Self.axisTitle(text("axis.importance", context) + " (" + (top.first?.method ?? "") + ")"),
                            "y": Self.axisTitle(text("pred.feature", context)),
                        ]),
                    ]), height: 260,
                    columns: [text("pred.feature", context), text("axis.importance", context)],
                    rows: top.map { [$0.feature, String(format: "%.4f", $0.importance)] }))
        }
        // Each kind's newest training curve, on its own chart: along epochs or trees, losses on
        // the left axis, ROC-AUC on the right.
        for model in latest where !(model.lossCurve ?? []).isEmpty {
            charts.append(trainingCurve(model, context: context))
        }
        return charts
    }

    /// A version's training curve: what it counts along (epochs, trees) on the x axis, log
    /// losses on the left y axis, ROC-AUC on the right.
    func trainingCurve(_ model: ModelVersionInfo, context: WebRequestContext) -> ChartSpec {
        let curve = model.lossCurve ?? []
        let unit = model.lossCurveUnit ?? "epoch"
        var datasets: [JSONValue] = []
        var rows: [[String]] = []
        for (index, key) in Set(curve.flatMap { $0.values.keys }).sorted().enumerated() {
            let isAUC = key.contains("auc")
            datasets.append(
                .object([
                    "label": .string(key), "yAxisID": .string(isAUC ? "auc" : "loss"),
                    "data": .array(curve.compactMap { point in point.values[key].map { .object(["x": .number(Double(point.epoch)), "y": .number($0)]) } }),
                    "borderColor": .string(Self.palette[index % Self.palette.count]), "pointRadius": .number(1), "fill": .bool(false),
                    "showLine": .bool(true), "borderDash": isAUC ? .array([.number(4), .number(3)]) : .array([]),
                ]))
            rows.append([key, curve.compactMap { $0.values[key] }.map { String(format: "%.3f", $0) }.joined(separator: " ")])
        }
        let xTitle = text(unit == "trees" ? "axis.trees" : "axis.epoch", context)
        return ChartSpec(
            id: "curve-\(model.kind)", title: text("dash.loss", context) + " — \(model.ref) (\(model.kind))", type: "scatter",
            data: .object(["datasets": .array(datasets)]),
            options: .object([
                "scales": .object([
                    "x": Self.axisTitle(xTitle),
                    "loss": .object([
                        "type": .string("linear"), "position": .string("left"),
                        "title": .object(["display": .bool(true), "text": .string(text("axis.log_loss", context))]),
                    ]),
                    "auc": .object([
                        "type": .string("linear"), "position": .string("right"), "grid": .object(["drawOnChartArea": .bool(false)]),
                        "title": .object(["display": .bool(true), "text": .string("ROC-AUC")]),
                    ]),
                ])
            ]),
            columns: [text("axis.series", context), xTitle + " " + (curve.map { "\($0.epoch)" }.joined(separator: " "))], rows: rows)
    }

    func riskDistribution(_ scored: CustomerBase.Scored, context: WebRequestContext) -> ChartSpec {
        var bins = [Int](repeating: 0, count: 10)
        for risk in scored.risk { bins[min(9, max(0, Int(risk * 10)))] += 1 }
        let labels = (0..<10).map { "\($0 * 10)–\($0 * 10 + 10)%" }
        let colors: [JSONValue] = (0..<10).map { .string($0 >= 5 ? "#d62728" : "#1f77b4") }
        return ChartSpec(
            id: "risk-chart", title: text("dash.distribution", context) + " — \(scored.model)", type: "bar",
            data: .object([
                "labels": .array(labels.map { .string($0) }),
                "datasets": .array([.object(["label": .string(text("ret.size", context)), "data": .array(bins.map { .number(Double($0)) }), "backgroundColor": .array(colors)])]),
            ]),
            options: .object([
                "scales": .object(["x": Self.axisTitle(text("col.risk", context)), "y": Self.axisTitle(text("ret.size", context))])
            ]),
            columns: [text("col.risk", context), text("ret.size", context)], rows: zip(labels, bins).map { [$0, "\($1)"] })
    }

    /// Months × customers, each cell coloured by the attention weight the model gave that month.
    func attentionHeatmap(_ explained: [CustomerExplanation], context: WebRequestContext) -> ChartSpec? {
        let rows = explained.filter { !($0.explanation.attention ?? []).isEmpty }
        guard !rows.isEmpty else { return nil }
        let maximum = rows.flatMap { $0.explanation.attention ?? [] }.map(\.weight).max() ?? 1
        var points: [JSONValue] = []
        var colors: [JSONValue] = []
        for (index, row) in rows.enumerated() {
            for month in row.explanation.attention ?? [] {
                points.append(.object(["x": .number(Double(month.month)), "y": .number(Double(index)), "w": .number(month.weight)]))
                let strength = maximum > 0 ? month.weight / maximum : 0
                colors.append(.string(String(format: "rgba(214,39,40,%.3f)", 0.08 + 0.92 * strength)))
            }
        }
        let ids = rows.map(\.customerID)
        return ChartSpec(
            id: "attention-chart", title: text("dash.attention", context) + " — \(rows[0].model)", type: "scatter",
            data: .object([
                "datasets": .array([
                    .object([
                        "label": .string(text("axis.attention", context)), "data": .array(points), "pointStyle": .string("rect"),
                        "pointRadius": .number(11), "pointHoverRadius": .number(12), "backgroundColor": .array(colors),
                        "borderWidth": .number(0),
                    ])
                ])
            ]),
            options: .object([
                "plugins": .object(["legend": .object(["display": .bool(false)])]),
                "scales": .object([
                    "x": .object(["title": .object(["display": .bool(true), "text": .string(text("axis.month", context))])]),
                    "y": .object(["reverse": .bool(true), "min": .number(-0.5), "max": .number(Double(rows.count) - 0.5),
                                  "ticks": .object(["stepSize": .number(1)]),
                                  "title": .object(["display": .bool(true), "text": .string(text("axis.customers_riskiest", context) + ": " + ids.joined(separator: ", "))])]),
                ]),
            ]), height: 260,
            columns: [text("col.customer", context)] + (rows[0].explanation.attention ?? []).map { "m\($0.month)" },
            rows: rows.map { row in [row.customerID] + (row.explanation.attention ?? []).map { String(format: "%.3f", $0.weight) } })
    }

    /// The riskiest customers, a page at a time: id, risk, and the champion's most important
    /// fields (by its importances; the schema's first fields when it has none).
    func customerValues(_ scored: CustomerBase.Scored, query: String, page: Int, context: WebRequestContext) -> [String: Any] {
        let pageSize = 20
        let table = scored.customers
        let needle = query.trimmingCharacters(in: .whitespaces).lowercased()
        let matching = needle.isEmpty ? scored.byRisk : scored.byRisk.filter { table.ids[$0].lowercased().contains(needle) }
        let pages = max(1, (matching.count + pageSize - 1) / pageSize)
        let page = min(page, pages)
        let shown = matching.dropFirst((page - 1) * pageSize).prefix(pageSize)
        let columns = Self.shownFields(scored)
        let schema = scored.dataset.schema
        var values: [String: Any] = [
            "query": query, "page": "\(page)", "pages": "\(pages)", "scored_by": scored.model.description,
            "customer_count": "\(table.count)", "has_customers": true,
            "customer_columns": columns.map { name in schema.input(named: name)?.label(context.language.rawValue) ?? name },
        ]
        if page > 1 { values["previous"] = "\(page - 1)" }
        if page < pages { values["next"] = "\(page + 1)" }
        values["customers"] = shown.map { row -> [String: Any] in
            [
                "id": table.ids[row], "risk": String(format: "%.1f%%", scored.risk[row] * 100),
                "cells": columns.map { Self.display(table.value(of: $0, at: row)) },
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

    /// A field value as a table shows it.
    static func display(_ value: FieldValue) -> String {
        switch value {
        case .number(let number): number.rounded() == number ? String(format: "%.0f", number) : String(format: "%.2f", number)
        case .null: "—"
        default: value.text ?? "—"
        }
    }

    /// The model switch: every model name in the registry, the selected one marked.
    func modelSwitch(_ versions: [ModelVersionInfo], selected: String) -> [String: Any] {
        var names = Array(Set(versions.map(\.name))).sorted()
        if !names.contains(selected) { names.insert(selected, at: 0) }
        return [
            "model": selected, "model_names": names.map { ["name": $0, "selected": $0 == selected] },
            "several_models": names.count > 1,
        ]
    }

    func chartValues(_ charts: [ChartSpec]) -> [String: Any] {
        let specs: [JSONValue] = charts.map {
            .object(["canvas": .string($0.id), "type": .string($0.type), "data": $0.data, "options": $0.options])
        }
        // `</` never appears raw inside the script block.
        let json = String(decoding: JSONWriter.bytes(.array(specs)), as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
        return [
            "charts_json": json,
            "charts": charts.map { chart -> [String: Any] in
                [
                    "id": chart.id, "title": chart.title, "height": "\(chart.height)", "open": !chartJSAvailable,
                    "columns": chart.columns, "rows": chart.rows.map { ["cells": $0] },
                ]
            },
        ]
    }

    // MARK: Prediction

    func predictionValues(_ prediction: Prediction, explanation: CustomerExplanation?, context: WebRequestContext) -> [String: Any] {
        var values: [String: Any] = [
            "probability": String(format: "%.1f%%", prediction.churnProbability * 100),
            "verdict": text(prediction.churn ? "pred.will_churn" : "pred.will_stay", context),
            "model": prediction.model.description, "arm": prediction.arm,
        ]
        if let explanation {
            let drivers = explanation.explanation.contributions.sorted { abs($0.contribution) > abs($1.contribution) }.prefix(8)
            values["has_drivers"] = !drivers.isEmpty
            values["drivers"] = drivers.map { driver -> [String: Any] in
                [
                    "feature": driver.feature, "value": driver.value.text ?? "—",
                    "effect": String(format: "%+.1f ", driver.contribution * 100) + text("unit.points", context),
                    "direction": driver.contribution > 0 ? "up" : "down",
                ]
            }
            if let months = explanation.explanation.attention, !months.isEmpty {
                values["has_months"] = true
                values["months"] = months.map { ["month": "\($0.month)", "weight": String(format: "%.1f%%", $0.weight * 100)] }
            }
        }
        return values
    }

    // MARK: Retention

    func retentionValues(_ report: RetentionReport, context: WebRequestContext) -> ([String: Any], ChartSpec) {
        let hasReasons = report.segments.contains { !$0.reasons.isEmpty }
        let language = context.language.rawValue
        let money = { (value: Double?) -> String in value.map { String(format: "%.0f", $0) } ?? "—" }
        let values: [String: Any] = [
            "scored_by": report.model.description, "at_risk": "\(report.atRiskCustomers)",
            "revenue_at_risk": money(report.revenueAtRisk), "has_revenue": report.revenueField != nil, "has_reasons": hasReasons,
            "segment_fields": report.segmentFields,
            "offers": report.offers.enumerated().map { index, result -> [String: Any] in
                [
                    "rank": "\(index + 1)", "title": result.offer.title(language), "eligible": "\(result.eligible)",
                    "drop": String(format: "%.1f ", result.meanRiskDrop * 100) + text("unit.points", context),
                    "kept": result.monthlyRevenueKept.map { String(format: "%.0f", $0) } ?? String(format: "%.1f", result.customersKept),
                ]
            },
            "inapplicable": report.inapplicable.map { ["title": $0.offer.title(language), "reason": $0.reason] },
            "has_inapplicable": !report.inapplicable.isEmpty,
            "segments": report.segments.map { segment -> [String: Any] in
                [
                    "values": segment.values, "size": "\(segment.customers)",
                    "mean_risk": String(format: "%.1f%%", segment.meanRisk * 100), "revenue": money(segment.revenueAtRisk),
                    "reasons": segment.reasons.map { "\($0.reason) (\($0.count))" }.joined(separator: "; "),
                    "best": segment.bestOffer?.title(language) ?? "—",
                ]
            },
        ]
        let keptTitle = text(report.revenueField == nil ? "ret.customers_kept" : "ret.kept", context)
        let chart = ChartSpec(
            id: "actions-chart", title: keptTitle, type: "bar",
            data: .object([
                "labels": .array(report.offers.map { .string($0.offer.title(language)) }),
                "datasets": .array([
                    .object([
                        "label": .string(keptTitle),
                        "data": .array(report.offers.map { .number($0.monthlyRevenueKept ?? $0.customersKept) }),
                        "backgroundColor": .string(Self.palette[2]),
                    ])
                ]),
            ]),
            options: .object(["indexAxis": .string("y")]), columns: [], rows: [])
        return (values, chart)
    }

    // MARK: Helpers

    private func text(_ key: String, _ context: WebRequestContext) -> String { WebStrings.text(key, context.language) }

    /// The newest version of each plugin kind, in a stable order.
    static func latestByKind(_ models: [ModelVersionInfo]) -> [ModelVersionInfo] {
        var newest: [String: ModelVersionInfo] = [:]
        for model in models where (newest[model.kind]?.version ?? -1) < model.version { newest[model.kind] = model }
        return newest.values.sorted { $0.kind < $1.kind }
    }

    /// A held-back test metric, as the registry stores it (`test_<name>`).
    static func metric(_ model: ModelVersionInfo, _ name: String) -> String {
        guard let value = model.metrics["test_" + name] ?? model.metrics[name] else { return "—" }
        return String(format: "%.3f", value)
    }

    static func interval(_ interval: Interval?) -> String {
        guard let interval else { return "—" }
        return String(format: "%.3f [%.3f, %.3f]", interval.value, interval.low, interval.high)
    }

    /// The translation key of a report's decision.
    static func verdictKey(_ decision: ExperimentDecision?) -> String {
        switch decision {
        case .challengerBetter?: "verdict.better"
        case .challengerWorse?: "verdict.worse"
        case .tooFewOutcomes?: "verdict.too_few"
        default: "verdict.undecided"
        }
    }

    /// The evidence after a verdict's headline (numbers and versions, kept as they are).
    static func verdictEvidence(_ verdict: String) -> String {
        for headline in ["challenger better", "challenger worse", "not yet distinguishable"] where verdict.hasPrefix(headline) {
            return String(verdict.dropFirst(headline.count)).trimmingCharacters(in: CharacterSet(charactersIn: ": "))
        }
        return verdict
    }

    static func axisTitle(_ title: String) -> JSONValue {
        .object(["title": .object(["display": .bool(true), "text": .string(title)])])
    }

    static func axes(x: String, y: String, maximum: Double) -> JSONValue {
        .object([
            "scales": .object([
                "x": .object(["min": .number(0), "max": .number(maximum), "title": .object(["display": .bool(true), "text": .string(x)])]),
                "y": .object(["min": .number(0), "max": .number(maximum), "title": .object(["display": .bool(true), "text": .string(y)])]),
            ])
        ])
    }
}
