import ChurnProtocol
import Foundation

/// One version in detail (`/version?model=NAME&version=N`): what it is and how it was fitted,
/// how it did on the held-back rows, for a blend the versions it averages, and for a tuned
/// version its leaderboard (every configuration the search cross-validated on the training rows).
///
/// Everything here is plain text for the templates, which escape it; nothing is HTML.
enum VersionPage {
    /// How many of a leaderboard's configurations the page lists, best first (the registered one
    /// is listed after them, with its own rank, when it is not among them).
    static let shownEntries = 10

    /// The held-back metrics the page shows, in order, with their text keys.
    static let metrics = [
        ("roc_auc", "metric.roc_auc"), ("accuracy", "metric.accuracy"), ("precision", "metric.precision"),
        ("recall", "metric.recall"), ("f1", "metric.f1"),
    ]

    /// The address of a version's page.
    static func link(name: String, version: Int) -> String {
        "/version?model=\(queryValue(name))&version=\(version)"
    }

    /// What the `version` template shows of `version` (fetched with `models.get`, so with its
    /// leaderboard when it was tuned).
    static func values(_ version: ModelVersionInfo, language: Language) -> [String: Any] {
        let isBlend = !(version.members ?? []).isEmpty
        var values: [String: Any] = [
            "ref": version.ref.description, "kind": version.kind, "created": String(version.createdAt.prefix(16)),
            "created_by": version.createdBy, "aliases": version.aliases.sorted(),
            "metrics": metrics.map { name, key in
                ["name": WebStrings.text(key, language), "value": PageBuilder.metric(version, name)]
            },
            "has_version": true,
        ]
        values.merge(memberValues(version)) { $1 }
        if let notes = version.notes, !notes.isEmpty { values["notes"] = notes }
        if !version.tags.isEmpty { values["tags"] = version.tags.joined(separator: ", ") }
        // A blend's params are its members, shown as links above.
        if !isBlend, !version.params.isEmpty {
            values["has_params"] = true
            values["params"] = paramValues(version.params)
        }
        if let board = version.leaderboard { values["leaderboard"] = leaderboardValues(board, language: language) }
        return values
    }

    /// A blend's members as the templates show them beside its kind: each a link to its
    /// version, with its kind and weight (`members`, `has_members`); nothing for other versions.
    static func memberValues(_ version: ModelVersionInfo) -> [String: Any] {
        let members = version.members ?? []
        guard !members.isEmpty else { return ["has_members": false] }
        return [
            "has_members": true,
            "members": members.enumerated().map { index, member -> [String: Any] in
                [
                    "first": index == 0, "ref": ModelRef(name: version.name, version: member.version).description,
                    "link": link(name: version.name, version: member.version), "kind": member.kind,
                    "weight": String(format: "%.2f", member.weight),
                ]
            },
        ]
    }

    /// A leaderboard as the page shows it: a line on how the search ran (folds, rows,
    /// configurations, seconds, budget, what stopped it), the best ``shownEntries``
    /// configurations (the registered one and the kinds' defaults marked), and the blend.
    static func leaderboardValues(_ board: Leaderboard, language: Language) -> [String: Any] {
        func text(_ key: String, _ fills: [String: String] = [:]) -> String {
            fills.reduce(WebStrings.text(key, language)) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
        var summary = text(
            "lb.summary",
            [
                "folds": "\(board.folds)", "rows": "\(board.rows)", "tried": "\(board.entries.count)",
                "kinds": board.kinds.joined(separator: ", "), "seconds": String(format: "%.1f", board.searchSeconds),
                "budget": String(format: "%.0f", board.budgetSeconds),
            ])
        switch board.stopped {
        case "budget"?: summary += " " + text("lb.stopped_budget", ["planned": "\(board.planned)"])
        case "cancelled"?: summary += " " + text("lb.stopped_cancelled", ["planned": "\(board.planned)"])
        case let other?: summary += " " + text("lb.stopped_other", ["reason": other])
        case nil: summary += " " + text("lb.completed")
        }
        var ranked = Array(board.entries.enumerated().prefix(shownEntries))
        if let chosen = board.chosenTrial, !ranked.contains(where: { $0.element.trial == chosen }),
            let found = board.entries.enumerated().first(where: { $0.element.trial == chosen })
        {
            ranked.append(found)
        }
        var values: [String: Any] = [
            "summary": summary,
            "caption": text("lb.top", ["shown": "\(min(shownEntries, board.entries.count))", "total": "\(board.entries.count)"]),
            "rows": ranked.map { index, entry -> [String: Any] in
                [
                    "rank": "\(index + 1)", "trial": "\(entry.trial)", "kind": entry.kind, "rung": "\(entry.rung)",
                    "auc": String(format: "%.4f ± %.4f", entry.rocAUC, entry.rocAUCStd), "log_loss": String(format: "%.4f", entry.logLoss),
                    "fold_seconds": String(format: "%.2f", entry.fitSeconds), "params": paramValues(entry.params),
                    "registered": entry.trial == board.chosenTrial, "defaults": entry.isDefault,
                ]
            },
        ]
        if let blend = board.blend {
            let members = blend.members.map {
                text("lb.blend_member", ["trial": "\($0.trial)", "kind": $0.kind, "weight": String(format: "%.2f", $0.weight)])
            }
            values["blend"] = [
                "members": members.joined(separator: " + "),
                "auc": String(format: "%.4f ± %.4f", blend.rocAUC, blend.rocAUCStd),
                "outcome": text(blend.chosen ? "lb.blend_registered" : "lb.blend_not_better"),
                "chosen": blend.chosen,
            ]
        }
        return values
    }

    /// Hyperparameters as `name=value` pairs, by name.
    static func paramValues(_ params: [String: JSONValue]) -> [[String: String]] {
        params.keys.sorted().map { ["name": $0, "value": paramText(params[$0] ?? .null)] }
    }

    /// A hyperparameter's value as text: strings as they are, whole numbers without a fraction,
    /// others to six significant digits, arrays and objects as compact JSON.
    static func paramText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(format: "%g", number)
        case .array, .object: String(decoding: JSONWriter.bytes(value), as: UTF8.self)
        default: value.brief
        }
    }
}
