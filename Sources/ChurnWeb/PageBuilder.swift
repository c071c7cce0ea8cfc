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

/// Turns the daemon's answers into what the templates show: what every page shares here, each
/// page's own values in `Pages/`.
struct PageBuilder: Sendable {
    let chartJSAvailable: Bool

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    /// Losses, in charts as in tables (`.loss`).
    static let lossColour = "#b3261e"

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

    /// Money as pages show it: the currency, then the amount rounded to whole units with
    /// thousands separators (`USD 92,501`); a loss with a minus before the currency
    /// (`−USD 209`).
    static func money(_ value: Double, currency: String) -> String {
        let rounded = Int(value.rounded())
        return (rounded < 0 ? "−" : "") + "\(currency) " + grouped(abs(rounded))
    }

    /// Money for a table cell: its text, and whether it is a loss (shown in the loss colour).
    static func moneyCell(_ value: Double, currency: String) -> [String: Any] {
        ["text": money(value, currency: currency), "loss": value.rounded() < 0]
    }

    /// A whole number with thousands separators (`12,345`).
    static func grouped(_ number: Int) -> String {
        let digits = String(abs(number))
        var grouped = number < 0 ? "−" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return grouped
    }

    /// A share as a percentage with one decimal (`27.7%`).
    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    func text(_ key: String, _ context: WebRequestContext) -> String { WebStrings.text(key, context.language) }

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
        heldBack(model, name).map { String(format: "%.3f", $0) } ?? "—"
    }

    /// A held-back metric of a version (`test_<name>`, else the name).
    static func heldBack(_ version: ModelVersionInfo, _ name: String) -> Double? {
        version.metrics["test_" + name] ?? version.metrics[name]
    }

    static func interval(_ interval: Interval?) -> String {
        guard let interval else { return "—" }
        return String(format: "%.3f [%.3f, %.3f]", interval.value, interval.low, interval.high)
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
