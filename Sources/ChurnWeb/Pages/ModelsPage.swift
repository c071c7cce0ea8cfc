import ChurnData
import ChurnProtocol
import Foundation

/// The models page: the daemon, versions and their actions, the experiment, charts of
/// held-back metrics and training, recent changes.
extension PageBuilder {
    /// The dashboard's daemon, versions (with only the changes `actions` allows), experiment and
    /// recent changes.
    func daemonValues(
        health: HealthResult, models: [ModelVersionInfo], actions: ModelActions, experiment: ExperimentInfo?,
        report: ExperimentReport?, audit: [AuditRecord], context: WebRequestContext
    ) -> [String: Any] {
        var values: [String: Any] = [:]
        let ready = health.plugins.filter { $0.state == .ready }.count
        values["health"] = ["status": WebStrings.text("health." + health.status, context.language, or: health.status), "plugins": "\(ready)/\(health.plugins.count) " + text("dash.plugins_ready", context)]
        let champion = models.first { $0.aliases.contains("champion") }
        let challenger = models.first { $0.aliases.contains("challenger") }
        if let champion { values["champion"] = "\(champion.ref) (\(champion.kind))" }
        if let challenger { values["challenger"] = "\(challenger.ref) (\(challenger.kind))" }
        values["has_models"] = !models.isEmpty
        values["models"] = models.sorted { ($0.name, $0.version) > ($1.name, $1.version) }.map { model -> [String: Any] in
            [
                "ref": model.ref.description, "link": VersionPage.link(name: model.name, version: model.version),
                "kind": model.kind, "created": Self.dateTime(model.createdAt, language: context.language),
                "history": Self.historyLabel(model, context: context),
                "roc_auc": Self.metric(model, "roc_auc"), "accuracy": Self.metric(model, "accuracy"),
                "precision": Self.metric(model, "precision"), "recall": Self.metric(model, "recall"), "f1": Self.metric(model, "f1"),
                "aliases": model.aliases.sorted().map { ["alias": $0, "label": WebStrings.text("alias." + $0, context.language, or: $0)] },
                "can_promote": actions.canPromote(model), "can_make_challenger": actions.canMakeChallenger(model),
                "promote_refusal": actions.promoteRefusal(model).map { ModelActions.text($0, language: context.language) } ?? "",
                "challenger_refusal": actions.challengerRefusal(model).map { ModelActions.text($0, language: context.language) } ?? "",
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
                "mode": WebStrings.text("mode." + experiment.mode.rawValue, context.language, or: experiment.mode.rawValue) + (experiment.mode == .ab ? String(format: " %.0f%%", experiment.share * 100) : ""),
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
            ["at": Self.dateTime(entry.at, language: context.language), "user": entry.user, "said": auditSentence(entry, context: context)]
        }
        return values
    }

    /// An audit entry in words, in the page's language, without raw keys or hashes: "promoted
    /// churn v2 to champion (was v1): from the web dashboard".
    func auditSentence(_ entry: AuditRecord, context: WebRequestContext) -> String {
        let parts = (entry.detail ?? "").split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        let alias = parts.first.map { WebStrings.text("alias." + $0, context.language, or: $0) } ?? ""
        let reason = parts.count > 1 ? ": " + parts[1] : ""
        func version(_ number: Int?) -> String { number.map { "v\($0)" } ?? "—" }
        let sentence: String
        switch entry.action {
        case .register, .import:
            // The detail is the kind, the size and the artifact's hash: only the kind is for people.
            let kind = (entry.detail ?? "").split(separator: " ").first.map(String.init) ?? ""
            sentence = text("said." + entry.action.rawValue, context).replacingOccurrences(of: "{kind}", with: kind)
        case .promote where entry.detail?.hasPrefix("challenger cleared") == true:
            sentence = text("said.challenger_cleared", context)
        case .promote:
            sentence = text("said.promote", context).replacingOccurrences(of: "{alias}", with: alias)
                .replacingOccurrences(of: "{from}", with: version(entry.fromVersion)) + reason
        case .rollback:
            sentence = text("said.rollback", context).replacingOccurrences(of: "{alias}", with: alias)
                .replacingOccurrences(of: "{from}", with: version(entry.fromVersion)) + reason
        case .delete:
            sentence = text("said.delete", context)
        default:
            sentence = WebStrings.text("audit." + entry.action.rawValue, context.language, or: entry.action.rawValue)
                + (entry.detail.map { ": " + Self.withoutHashes($0) } ?? "")
        }
        return sentence.replacingOccurrences(of: "{model}", with: entry.model)
            .replacingOccurrences(of: "{to}", with: version(entry.toVersion))
            .replacingOccurrences(of: "{version}", with: version(entry.toVersion ?? entry.fromVersion))
    }

    /// `text` with any long hexadecimal run (a hash) left out.
    static func withoutHashes(_ text: String) -> String {
        text.replacingOccurrences(of: "(sha256 )?[0-9a-f]{32,}", with: "", options: .regularExpression)
            .replacingOccurrences(of: "  ", with: " ").trimmingCharacters(in: .whitespaces)
    }

    /// An ISO 8601 time as the page's language writes it: `2026-12-07 22:40` or
    /// `2026년 12월 7일 22:40` (the time as recorded, UTC).
    static func dateTime(_ iso: String, language: Language) -> String {
        let digits = iso.split(whereSeparator: { !$0.isNumber }).map(String.init)
        guard digits.count >= 5, let year = Int(digits[0]), let month = Int(digits[1]), let day = Int(digits[2]) else { return iso }
        let time = digits[3] + ":" + digits[4]
        return language == .korean ? "\(year)년 \(month)월 \(day)일 \(time)" : "\(digits[0])-\(digits[1])-\(digits[2]) \(time)"
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
}
