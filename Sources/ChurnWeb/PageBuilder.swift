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
    /// Spans the whole row of a grid of small charts.
    var wide = false
}

/// Turns the daemon's answers into what the templates show.
struct PageBuilder: Sendable {
    let chartJSAvailable: Bool

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]

    // MARK: Dashboard

    /// The dashboard's daemon, versions (with only the changes `actions` allows), experiment and
    /// recent changes.
    func daemonValues(
        health: HealthResult, models: [ModelVersionInfo], actions: ModelActions, experiment: ExperimentInfo?,
        report: ExperimentReport?, audit: [AuditRecord], context: WebRequestContext
    ) -> [String: Any] {
        var values: [String: Any] = [:]
        let ready = health.plugins.filter { $0.state == .ready }.count
        values["health"] = ["status": health.status, "plugins": "\(ready)/\(health.plugins.count) " + text("dash.plugins_ready", context)]
        let champion = models.first { $0.aliases.contains("champion") }
        let challenger = models.first { $0.aliases.contains("challenger") }
        if let champion { values["champion"] = "\(champion.ref) (\(champion.kind))" }
        if let challenger { values["challenger"] = "\(challenger.ref) (\(challenger.kind))" }
        values["has_models"] = !models.isEmpty
        values["models"] = models.sorted { ($0.name, $0.version) > ($1.name, $1.version) }.map { model -> [String: Any] in
            [
                "ref": model.ref.description, "link": VersionPage.link(name: model.name, version: model.version),
                "kind": model.kind, "created": String(model.createdAt.prefix(16)),
                "history": Self.historyLabel(model, context: context),
                "roc_auc": Self.metric(model, "roc_auc"), "accuracy": Self.metric(model, "accuracy"),
                "precision": Self.metric(model, "precision"), "recall": Self.metric(model, "recall"), "f1": Self.metric(model, "f1"),
                "aliases": model.aliases.sorted(), "can_promote": actions.canPromote(model),
                "can_make_challenger": actions.canMakeChallenger(model),
            ].merging(VersionPage.memberValues(model)) { $1 }
        }
        if let target = actions.rollbackOffer {
            values["rollback_label"] = text("dash.rollback_to", context).replacingOccurrences(of: "{version}", with: "\(target)")
        }
        if let experiment = actions.experiment {
            values["changes_blocked"] = text("act.experiment", context).replacingOccurrences(of: "{id}", with: "\(experiment.id)")
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
                "mode": experiment.mode.rawValue + (experiment.mode == .ab ? String(format: " %.0f%%", experiment.share * 100) : ""),
                "champion": "\(experiment.model)@\(experiment.championVersion)",
                "challenger": "\(experiment.model)@\(experiment.challengerVersion)", "started": experiment.startedAt,
            ]
            if let report {
                shown["report"] = [
                    "arms": report.arms.map { arm -> [String: Any] in
                        [
                            "arm": arm.arm, "model": "\(experiment.model)@\(arm.version)", "predictions": "\(arm.predictions)",
                            "labelled": "\(arm.outcomes)", "auc": Self.interval(arm.rocAUC), "precision": Self.interval(arm.precisionAtTop),
                            "revenue": arm.revenueAtTop.map { reached in
                                let share = arm.revenueShareAtTop.map { String(format: " (%.0f%% [%.0f, %.0f])", $0.value * 100, $0.low * 100, $0.high * 100) } ?? ""
                                return String(format: "%.0f [%.0f, %.0f]", reached.value, reached.low, reached.high) + share
                            } ?? "—",
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
                "at": entry.at, "user": entry.user, "action": text("audit." + entry.action.rawValue, context),
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
        // Reliability of the served (calibrated) probabilities, one line per kind, with the diagonal.
        let calibrated = latest.compactMap { model -> (ModelVersionInfo, CalibrationRecord)? in
            guard let json = model.calibration, let record = try? JSONValueDecoder.decode(CalibrationRecord.self, from: json),
                !record.reliability.isEmpty
            else { return nil }
            return (model, record)
        }
        if !calibrated.isEmpty {
            var datasets: [JSONValue] = [
                .object([
                    "label": .string(text("dash.perfect", context)),
                    "data": .array([.object(["x": 0, "y": 0]), .object(["x": 1, "y": 1])]), "showLine": .bool(true),
                    "pointRadius": .number(0), "borderColor": .string("#999999"), "backgroundColor": .string("#999999"),
                    "borderDash": .array([4, 4]),
                ])
            ]
            for (index, (model, record)) in calibrated.enumerated() {
                datasets.append(
                    .object([
                        "label": .string("\(model.kind) \(model.ref) ECE \(String(format: "%.3f", record.testECE))"),
                        "data": .array(record.reliability.map { .object(["x": .number($0.meanPredicted), "y": .number($0.observedRate)]) }),
                        "showLine": .bool(true), "pointRadius": .number(3), "borderColor": .string(Self.palette[index % Self.palette.count]),
                        "backgroundColor": .string(Self.palette[index % Self.palette.count]),
                    ]))
            }
            charts.append(
                ChartSpec(
                    id: "reliability-chart", title: text("dash.reliability", context), type: "scatter", data: .object(["datasets": .array(datasets)]),
                    options: Self.axes(x: text("axis.predicted", context), y: text("axis.observed", context), maximum: 1),
                    columns: [text("exp.model", context), text("dash.calibration_method", context), text("dash.ece", context)],
                    rows: calibrated.map { model, record in
                        [
                            model.ref.description + " " + model.kind, record.calibrator.method.rawValue,
                            String(format: "%.3f → %.3f", record.testECERaw, record.testECE),
                        ]
                    }))
        }
        // Feature importance of the champion (or the newest model that has it).
        let ranked = models.sorted { ($0.aliases.contains("champion") ? 1 : 0, $0.version) > ($1.aliases.contains("champion") ? 1 : 0, $1.version) }
        if let model = ranked.first(where: { !($0.importances ?? []).isEmpty }) {
            // One method per chart: exact mean |SHAP| when the version has it, else permutation,
            // else whatever it recorded first (methods are not on one scale).
            let importances = model.importances ?? []
            let method = ["mean_abs_shap", "permutation"].first { name in importances.contains { $0.method == name } } ?? importances[0].method
            let top = importances.filter { $0.method == method }.sorted { $0.importance > $1.importance }.prefix(12)
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

    /// The attention heatmap: rows the riskiest customers (their ids as row headers), columns the
    /// calendar months any of them has (or the months of tenure for the derived history), each
    /// cell coloured on one scale by the weight the model gave that month, with a legend; a
    /// month before a customer joined (or without data) is an empty cell. An HTML table, so it
    /// reads without Chart.js and on a phone (it scrolls in place).
    func monthHeatmap(_ explained: [CustomerExplanation], context: WebRequestContext) -> [String: Any]? {
        let rows = explained.filter { !($0.explanation.months ?? []).isEmpty }
        guard let first = rows.first else { return nil }
        let periods = Array(Set(rows.flatMap { ($0.explanation.months ?? []).map(\.period) }))
            .sorted { (MonthlyPanel.parsePeriod($0) ?? 0) < (MonthlyPanel.parsePeriod($1) ?? 0) }
        let maximum = max(rows.flatMap { ($0.explanation.months ?? []).map(\.weight) }.max() ?? 0, 1e-9)
        // One scale in ten steps (classes: the page's security policy allows no inline styles).
        func level(_ weight: Double) -> Int { min(9, max(0, Int((weight / maximum * 10).rounded(.down)))) }
        let derived = first.explanation.history != nil && first.explanation.history != "observed months"
        return [
            "model": first.model.description,
            "provenance": text(derived ? "history.derived" : "history.observed", context),
            "columns": periods.map { derived ? text("heat.tenure_month", context) + " " + $0 : $0 },
            "rows": rows.map { row -> [String: Any] in
                let weights = Dictionary((row.explanation.months ?? []).map { ($0.period, $0.weight) }, uniquingKeysWith: { $1 })
                return [
                    "id": row.customerID,
                    "cells": periods.map { period -> [String: Any] in
                        guard let weight = weights[period] else { return ["empty": true] }
                        return ["level": "h\(level(weight))", "value": String(format: "%.2f", weight)]
                    },
                ]
            },
            "legend": (0..<10).map { step -> [String: Any] in
                ["level": "h\(step)", "value": String(format: "%.2f", maximum * Double(step) / 10)]
            },
        ]
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
            "query": query, "query_param": queryValue(query), "page": "\(page)", "pages": "\(pages)", "scored_by": scored.model.description,
            "customer_count": "\(table.count)", "has_customers": true,
            "customer_columns": columns.map { name in schema.input(named: name)?.label(context.language.rawValue) ?? name },
        ]
        if page > 1 { values["previous"] = "\(page - 1)" }
        if page < pages { values["next"] = "\(page + 1)" }
        values["customers"] = shown.map { row -> [String: Any] in
            [
                "id": table.ids[row], "id_query": queryValue(table.ids[row]), "risk": String(format: "%.1f%%", scored.risk[row] * 100),
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
                    "id": chart.id, "title": chart.title, "height": "\(chart.height)", "open": !chartJSAvailable, "wide": chart.wide,
                    "columns": chart.columns, "rows": chart.rows.map { ["cells": $0] },
                ]
            },
        ]
    }

    // MARK: Prediction

    /// The prediction's probability and verdict, then its reasons in words (fields and months
    /// ranked together, ``RiskReasons``) and, for a sequence model, the months behind them.
    func predictionValues(
        _ prediction: Prediction, explanation: CustomerExplanation?, schema: DatasetSchema?, context: WebRequestContext
    ) -> [String: Any] {
        var values: [String: Any] = [
            "probability": String(format: "%.1f%%", prediction.churnProbability * 100),
            "verdict": text(prediction.churn ? "pred.will_churn" : "pred.will_stay", context),
            "model": prediction.model.description, "arm": prediction.arm,
        ]
        if let explanation {
            let wording = RiskReasons(schema: schema, language: context.language.rawValue)
            let reasons = wording.reasons(explanation.explanation, top: 8)
            values["has_drivers"] = !reasons.isEmpty
            values["drivers"] = reasons.map { reason -> [String: Any] in
                [
                    "reason": reason.phrase, "effect": wording.points(reason.points), "direction": reason.points > 0 ? "up" : "down",
                ]
            }
            if let months = explanation.explanation.months, !months.isEmpty {
                let weighing = MonthWeighing(explanation.explanation)
                let columns = Array(Set(months.flatMap { $0.values.keys })).sorted()
                values["has_months"] = true
                values["month_method"] = text(weighing.titleKey, context)
                values["month_note"] = text(weighing.noteKey, context)
                values["month_columns"] = columns
                values["months"] = months.map { month -> [String: Any] in
                    [
                        "period": month.period, "weight": weighing.text(month.weight, context: context),
                        "values": columns.map { Self.display(month.values[$0] ?? .null) },
                    ]
                }
            }
        }
        if let source = prediction.history {
            values["history_source"] = text("history." + (source == .derived ? "derived" : source.rawValue), context)
        }
        return values
    }

    /// The customer's months as small multiples: a line per most influential panel column, and
    /// under them the weight the model gave each month (its share of attention, or how many
    /// points the month adds to the churn probability), in the unit the months table shows.
    func monthCharts(_ explanation: CustomerExplanation, context: WebRequestContext) -> [ChartSpec] {
        guard let months = explanation.explanation.months, !months.isEmpty else { return [] }
        let labels = JSONValue.array(months.map { .string($0.period) })
        let columns = Array(Set(months.flatMap { $0.values.keys })).sorted()
        var charts: [ChartSpec] = []
        for (index, column) in columns.enumerated() {
            let points = months.map { month -> JSONValue in
                if case .number(let number)? = month.values[column] { return .number(number) }
                if case .bool(let flag)? = month.values[column] { return .number(flag ? 1 : 0) }
                return .null
            }
            guard points.contains(where: { $0 != .null }) else { continue }
            charts.append(
                ChartSpec(
                    id: "month-\(index)", title: column, type: "line",
                    data: .object([
                        "labels": labels,
                        "datasets": .array([
                            .object([
                                "label": .string(column), "data": .array(points), "borderColor": .string(Self.palette[index % Self.palette.count]),
                                "pointRadius": .number(2), "spanGaps": .bool(false), "fill": .bool(false),
                            ])
                        ]),
                    ]),
                    options: .object(["plugins": .object(["legend": .object(["display": .bool(false)])])]), height: 120,
                    columns: [text("pred.period", context), column],
                    rows: months.map { [$0.period, Self.display($0.values[column] ?? .null)] }))
        }
        let weighing = MonthWeighing(explanation.explanation)
        let method = text(weighing.titleKey, context)
        charts.append(
            ChartSpec(
                id: "month-weights", title: method, type: "bar",
                data: .object([
                    "labels": labels,
                    "datasets": .array([
                        .object([
                            "label": .string(method), "data": .array(months.map { .number(weighing.scaled($0.weight)) }),
                            "backgroundColor": .array(months.map { .string(weighing.colour($0.weight)) }),
                        ])
                    ]),
                ]),
                options: .object([
                    "plugins": .object(["legend": .object(["display": .bool(false)])]),
                    "scales": .object([
                        "x": Self.axisTitle(text("pred.period", context)), "y": Self.axisTitle(text(weighing.unitKey, context)),
                    ]),
                ]), height: 90,
                columns: [text("pred.period", context), method],
                rows: months.map { [$0.period, weighing.text($0.weight, context: context)] },
                wide: true))
        return charts
    }

    /// How an explanation weighs a customer's months, and how the page shows those weights: one
    /// unit on the chart and in the table (percent of attention, or percentage points of churn
    /// probability), with a note saying what the bars and their colours mean.
    struct MonthWeighing {
        /// `occlusion` (`lstm`): the churn probability with the month minus without it, so a
        /// positive weight is a month that raises the risk. Otherwise attention shares.
        let occlusion: Bool

        init(_ explanation: ModelExplanation) { occlusion = explanation.monthMethod == "occlusion" }

        var titleKey: String { occlusion ? "pred.month_occlusion" : "pred.month_attention" }
        var noteKey: String { occlusion ? "pred.month_occlusion_note" : "pred.month_attention_note" }
        var unitKey: String { occlusion ? "unit.points_axis" : "unit.attention_axis" }

        /// A weight in the shown unit: points, or percent.
        func scaled(_ weight: Double) -> Double { weight * 100 }

        func text(_ weight: Double, context: WebRequestContext) -> String {
            occlusion
                ? String(format: "%+.1f ", scaled(weight)) + WebStrings.text("unit.points", context.language)
                : String(format: "%.1f%%", scaled(weight))
        }

        /// Occlusion: red raises the churn probability, green lowers it. Attention: one colour.
        func colour(_ weight: Double) -> String {
            guard occlusion else { return PageBuilder.palette[0] }
            return weight >= 0 ? "#d62728" : "#2b9348"
        }
    }

    // MARK: Retention

    func retentionValues(_ report: RetentionReport, context: WebRequestContext) -> ([String: Any], ChartSpec) {
        let hasReasons = report.segments.contains { !$0.reasons.isEmpty }
        let language = context.language.rawValue
        let money = { (value: Double?) -> String in value.map { Self.money($0, currency: report.currency) } ?? "—" }
        let values: [String: Any] = [
            "scored_by": report.model.description, "at_risk": "\(report.atRiskCustomers)",
            "revenue_at_risk": money(report.revenueAtRisk), "bills_at_risk": money(report.billsAtRisk),
            "already_left": "\(report.alreadyLeft)", "already_left_at_risk": "\(report.alreadyLeftAtRisk)",
            "has_left": report.alreadyLeft > 0,
            "has_revenue": report.revenueField != nil, "has_reasons": hasReasons,
            "segment_fields": report.segmentFields,
            "offers": report.offers.enumerated().map { index, result -> [String: Any] in
                [
                    "rank": "\(index + 1)", "title": result.offer.title(language), "eligible": "\(result.eligible)",
                    "drop": String(format: "%.1f ", result.meanRiskDrop * 100) + text("unit.points", context),
                    "kept": result.monthlyRevenueKept.map { money($0) } ?? String(format: "%.1f", result.customersKept),
                    "cost": money(result.offer.monthlyCost) + (result.offer.monthlyCostShare > 0
                        ? String(format: " + %.0f%% ", result.offer.monthlyCostShare * 100) + text("ret.of_bill", context) : ""),
                    "acceptance": String(format: "%.0f%%", result.offer.acceptance * 100),
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

    /// Campaigns with their measured effect.
    func campaignValues(_ reports: [CampaignReport], currency: String, context: WebRequestContext) -> [String: Any] {
        func rate(_ arm: CampaignArm) -> String {
            arm.churnRate?.percentText ?? "—"
        }
        return [
            "has_campaigns": !reports.isEmpty,
            "campaigns": reports.map { report -> [String: Any] in
                [
                    "id": "\(report.campaign.id)", "offer": report.campaign.offer, "status": report.campaign.status.rawValue,
                    "arms": "\(report.campaign.treated) / \(report.campaign.control)",
                    "treated": rate(report.treated), "control": rate(report.control),
                    "uplift": report.uplift.map {
                        String(format: "%+.1f [%.1f, %.1f] · p %.4f", $0.uplift.value * 100, $0.uplift.low * 100, $0.uplift.high * 100, $0.p)
                    } ?? "—",
                    "kept": report.monthlyRevenueKept.map { Self.money($0, currency: currency) } ?? "—",
                ]
            },
        ]
    }

    /// The target list's rows, paging and export link.
    func targetValues(
        _ report: RetentionReport, shown: ArraySlice<RetentionReport.Target>, drivers: [String], page: Int, pageCount: Int, model: String,
        context: WebRequestContext
    ) -> [String: Any] {
        let language = context.language.rawValue
        let query = "model=" + queryValue(model)
        return [
            "targets": zip(shown, drivers).enumerated().map { index, pair -> [String: Any] in
                let (target, drivers) = pair
                return [
                    "rank": "\((page - 1) * 20 + index + 1)", "id": target.id, "risk": String(format: "%.1f%%", target.risk * 100),
                    "bill": target.bill.map { Self.money($0, currency: report.currency) } ?? "—", "offer": target.offer.title(language),
                    "value": report.revenueField == nil
                        ? String(format: "%.2f", target.value) : Self.money(target.value, currency: report.currency),
                    "drivers": drivers.isEmpty ? "—" : drivers,
                ]
            },
            "has_targets": !report.targets.isEmpty, "targets_total": "\(report.targets.count)",
            "targets_note": basisNote(report.basis, context: context),
            "has_uplift": { if case .upliftModel = report.basis { return true } else { return false } }(),
            "uplift_basis": { () -> String in
                guard case .upliftModel(let model, let campaign, let offer, let qini) = report.basis else { return "" }
                var text = "\(self.text("ret.uplift_source", context)) \(model) · \(offer)"
                if let campaign { text += " · \(self.text("ret.campaign", context)) #\(campaign)" }
                if let qini { text += String(format: " · %@ %.3f", self.text("ret.qini", context), qini) }
                return text
            }(),
            "page": "\(page)", "pages": "\(pageCount)",
            "prev_link": page > 1 ? "/retention?\(query)&page=\(page - 1)" : "",
            "next_link": page < pageCount ? "/retention?\(query)&page=\(page + 1)" : "",
            "csv_link": "/retention/targets.csv?\(query)",
        ]
    }

    /// What the target list is ranked by, said plainly.
    func basisNote(_ basis: RetentionReport.TargetBasis, context: WebRequestContext) -> String {
        switch basis {
        case .simulation: text("ret.targets_note", context)
        case .upliftModel: text("ret.targets_note_uplift", context)
        }
    }

    // MARK: Helpers

    /// Money as the retention page shows it: the currency, then the amount rounded to whole
    /// units with thousands separators (`USD 92,501`).
    static func money(_ value: Double, currency: String) -> String {
        let rounded = Int(value.rounded())
        let digits = String(abs(rounded))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return "\(currency) \(rounded < 0 ? "-" : "")\(grouped)"
    }

    private func text(_ key: String, _ context: WebRequestContext) -> String { WebStrings.text(key, context.language) }

    /// What a version reads as history, for its card: observed months, the derived fallback
    /// (labelled as derived from tenure and charges), or none.
    static func historyLabel(_ model: ModelVersionInfo, context: WebRequestContext) -> String {
        let key: String
        switch model.historySource {
        case "panel"?: key = "history.observed"
        case "derived"?: key = "history.derived"
        case "none"?: key = "history.no_history"
        default: key = model.kind.hasPrefix("lstm") ? "history.derived" : "history.no_history"
        }
        return WebStrings.text(key, context.language)
    }

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
