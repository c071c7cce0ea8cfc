import ChurnData
import ChurnProtocol
import Foundation

/// The prediction page: the probability, its reasons in words and the months behind them.
extension PageBuilder {
    /// The prediction's probability and verdict, then its reasons in words (fields and months
    /// ranked together, ``RiskReasons``) and, for a sequence model, the months behind them.
    func predictionValues(
        _ prediction: Prediction, explanation: CustomerExplanation?, schema: DatasetSchema?, context: WebRequestContext
    ) -> [String: Any] {
        var values: [String: Any] = [
            "probability": String(format: "%.1f%%", prediction.churnProbability * 100),
            "verdict": text(prediction.churn ? "pred.will_churn" : "pred.will_stay", context),
            "model": prediction.model.description,
            "arm": WebStrings.text("alias." + prediction.arm.rawValue, context.language, or: prediction.arm.rawValue),
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
}
