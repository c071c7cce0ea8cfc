import ChurnClient
import ChurnData
import ChurnProtocol
import Hummingbird

/// Model operations, on a page of their own: the daemon's health, the champion and challenger,
/// the running experiment, every version with its held-back metrics and charts, recent changes;
/// one version in detail; promoting and rolling back.
struct ModelsController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/models") { request, context in try await modelsPage(request, context) }
        routes.get("/version") { request, context in try await versionPage(request, context) }
        routes.post("/models/promote") { request, context in try await promote(request, context) }
        routes.post("/models/rollback") { request, context in try await rollBack(request, context) }
        return routes
    }

    private func modelsPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = app.selectedModel(request, context)
        var values: [String: Any] = ["title": app.text("models.title", context), "nav_models": true]
        if let refusal = app.takeRefusal(context) { values["refusal"] = refusal }
        if let notice = app.takeNotice(context) { values["done"] = notice }
        do {
            let (health, everyVersion, experiments, audit) = try await app.link.with { client throws(ChurnClientError) in
                (
                    try await client.health(), try await client.models(), try await client.experiments(name: model),
                    try await client.audit(limit: ModelActions.auditWindow)
                )
            }
            values.merge(app.pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let listed = everyVersion.filter { $0.name == model }
            // The list leaves out curves and importances: fetch them for the versions the charts show.
            var models = listed
            let charted = Set(PageBuilder.latestByKind(listed).map(\.ref) + listed.filter { $0.aliases.contains("champion") }.map(\.ref))
            for (index, version) in models.enumerated() where charted.contains(version.ref) {
                if let detailed = try? await app.link.with({ client throws(ChurnClientError) in try await client.model(version.ref.description) }) {
                    models[index] = detailed
                }
            }
            var report: ExperimentReport?
            if experiments.running != nil {
                report = try? await app.link.with { client throws(ChurnClientError) in try await client.experimentReport(name: model) }
            }
            let actions = ModelActions(name: model, versions: listed, experiment: experiments.running, audit: audit)
            values.merge(
                app.pages.daemonValues(
                    health: health, models: models, actions: actions, experiment: experiments.running, report: report,
                    audit: Array(audit.prefix(10)), context: context)) { $1 }
            values["daemon_ok"] = true
            if !models.contains(where: { $0.aliases.contains("champion") }) { values["notice"] = app.text("dash.no_champion", context) }
            values.merge(app.pages.chartValues(app.pages.modelCharts(models: models, context: context))) { $1 }
        } catch {
            values.merge(app.failure(error)) { $1 }
        }
        return app.render("models", status: ChurnWebApp.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }

    /// One version in detail (`/version?model=NAME&version=N`): a blend's members, a tuned
    /// version's leaderboard (``VersionPage``). A version not in the registry is a 404.
    private func versionPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let name = request.uri.queryParameters.get("model") ?? ""
        let number = request.uri.queryParameters.get("version").flatMap { Int($0) } ?? 0
        let ref = ModelRef(name: name, version: number)
        func notFound() -> Response {
            app.render("message", status: .notFound, context: context, values: [
                "title": app.text("ver.title", context), "heading": app.text("ver.title", context),
                "text": app.text("ver.not_found", context).replacingOccurrences(of: "{ref}", with: ref.description),
            ])
        }
        guard ModelReference.isValidName(name), number >= 1 else { return notFound() }
        var values: [String: Any] = ["title": ref.description, "nav_models": true]
        do {
            let (everyVersion, version) = try await app.link.with { client throws(ChurnClientError) in
                (try await client.models(), try await client.model(ref.description))
            }
            values.merge(app.pages.modelSwitch(everyVersion, selected: name)) { $1 }
            values.merge(VersionPage.values(version, language: context.language)) { $1 }
        } catch let error as ChurnClientError where error.rpcError?.knownCode == .modelNotFound {
            return notFound()
        } catch {
            values.merge(app.failure(error)) { $1 }
        }
        return app.render("version", status: ChurnWebApp.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }

    /// Promoting to champion asks first: a page comparing the champion and the candidate on
    /// their held-back metrics and calibration, whose button posts again with `confirm=yes`.
    /// Making a version the challenger needs no confirmation (it answers nothing alone). A
    /// refused change is said on the models page it was made from, in its language; a change
    /// made is said there too.
    private func promote(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = context.form["version"] ?? ""
        let alias = context.form["alias"] ?? "champion"
        let user = context.user ?? "?"
        let name = ModelReference(parsing: model)?.name ?? app.selectedModel(request, context)
        let key = alias == "champion" ? "dash.promote" : "dash.make_challenger"
        do {
            if alias == ModelReference.champion, context.form["confirm"] != "yes" {
                let (candidate, current, experiments) = try await app.link.with { client throws(ChurnClientError) in
                    (try await client.model(model), try? await client.model("\(name)@champion"), try await client.experiments(name: name))
                }
                // What churnd would refuse is refused before asking.
                let actions = ModelActions(name: name, versions: [candidate], experiment: experiments.running, audit: [])
                if let refusal = actions.promoteRefusal(candidate) {
                    app.refuse(app.text(key, context) + ": " + ModelActions.text(refusal, language: context.language), context: context)
                    return .redirect(to: "/models?model=\(name)", type: .normal)
                }
                // The confirmed change is the one compared: the version itself (not an alias that
                // could move) and the champion it replaces.
                return confirmation(
                    titleKey: "confirm.promote_title", yesKey: "confirm.yes_promote", action: "/models/promote", candidate: candidate,
                    current: current,
                    fields: ["version": candidate.ref.description, "alias": alias, "from": current.map { "\($0.version)" } ?? "none"],
                    context: context)
            }
            let previous = try? await app.link.with { client throws(ChurnClientError) in try await client.model("\(name)@champion") }
            if alias == ModelReference.champion, let from = context.form["from"], from != (previous.map { "\($0.version)" } ?? "none") {
                app.refuse(app.text(key, context) + ": " + app.text("act.changed_meanwhile", context), context: context)
                return .redirect(to: "/models?model=\(name)", type: .normal)
            }
            _ = try await app.link.with { client throws(ChurnClientError) in
                try await client.call(
                    DaemonMethod.ModelsPromote.self,
                    PromoteParams(model: model, alias: alias, reason: "churn web", onBehalfOf: "web: \(user)"))
            }
            app.logger.info("\(user) promoted \(model) to \(alias)")
            if alias == "champion" { _ = try? await app.bases[name]?.current(app.link, refresh: true) }
            app.tell(
                app.text(alias == "champion" ? "done.promoted" : "done.challenger", context).replacingOccurrences(of: "{candidate}", with: model)
                    .replacingOccurrences(of: "{previous}", with: previous?.ref.description ?? "—"), context: context)
        } catch {
            app.refuse(ModelActions.refusal(error, actionKey: key, language: context.language), context: context)
        }
        return .redirect(to: "/models?model=\(name)", type: .normal)
    }

    /// Rolling the champion back asks first too, comparing it with the version it goes back to.
    private func rollBack(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let user = context.user ?? "?"
        let name = app.selectedModel(request, context)
        do {
            let previous = try? await app.link.with { client throws(ChurnClientError) in try await client.model("\(name)@champion") }
            let (versions, audit) = try await app.link.with { client throws(ChurnClientError) in
                (try await client.models(name: name), try await client.audit(limit: ModelActions.auditWindow))
            }
            let target = ModelActions.rollbackTarget(
                of: name, alias: ModelReference.champion, current: previous?.version, versions: Set(versions.map(\.version)), audit: audit)
            guard let target else {
                app.refuse(app.text("dash.rollback", context) + ": " + app.text("act.nothing_to_roll_back", context), context: context)
                return .redirect(to: "/models?model=\(name)", type: .normal)
            }
            if context.form["confirm"] != "yes" {
                let candidate = try await app.link.with { client throws(ChurnClientError) in try await client.model("\(name)@\(target)") }
                return confirmation(
                    titleKey: "confirm.rollback_title", yesKey: "confirm.yes_rollback", action: "/models/rollback", candidate: candidate,
                    current: previous, fields: ["model": name, "from": "\(previous?.version ?? 0)", "to": "\(target)"], context: context)
            }
            // The rollback confirmed is the one compared: the same champion, going to the same version.
            if let from = context.form["from"], let to = context.form["to"], from != "\(previous?.version ?? 0)" || to != "\(target)" {
                app.refuse(app.text("dash.rollback", context) + ": " + app.text("act.changed_meanwhile", context), context: context)
                return .redirect(to: "/models?model=\(name)", type: .normal)
            }
            _ = try await app.link.with { client throws(ChurnClientError) in
                try await client.call(
                    DaemonMethod.ModelsRollback.self, RollbackParams(name: name, reason: "churn web", onBehalfOf: "web: \(user)"))
            }
            app.logger.info("\(user) rolled the champion of \(name) back")
            let now = try? await app.bases[name]?.current(app.link, refresh: true)
            app.tell(
                app.text("done.rolled_back", context).replacingOccurrences(of: "{candidate}", with: now?.model.description ?? name)
                    .replacingOccurrences(of: "{previous}", with: previous?.ref.description ?? "—"), context: context)
        } catch {
            app.refuse(ModelActions.refusal(error, actionKey: "dash.rollback", language: context.language), context: context)
        }
        return .redirect(to: "/models?model=\(name)", type: .normal)
    }

    /// The page that asks before a change of champion: the current champion and the candidate
    /// side by side on their held-back metrics and calibration, each difference marked better
    /// or worse, then a button that makes the change and a way back.
    private func confirmation(
        titleKey: String, yesKey: String, action: String, candidate: ModelVersionInfo, current: ModelVersionInfo?,
        fields: [String: String], context: WebRequestContext
    ) -> Response {
        let title = app.text(titleKey, context).replacingOccurrences(of: "{candidate}", with: candidate.ref.description)
        let question = (current == nil ? app.text("confirm.first", context) : app.text("confirm.question", context))
            .replacingOccurrences(of: "{candidate}", with: candidate.ref.description)
            .replacingOccurrences(of: "{current}", with: current?.ref.description ?? "—")
        var rows: [[String: Any]] = [
            ["name": app.text("dash.kind", context), "now": current?.kind ?? "—", "after": candidate.kind, "change": ""],
            [
                "name": app.text("dash.history", context), "now": current.map { PageBuilder.historyLabel($0, context: context) } ?? "—",
                "after": PageBuilder.historyLabel(candidate, context: context), "change": "",
            ],
        ]
        for metric in ["roc_auc", "accuracy", "precision", "recall", "f1"] {
            let now = current.flatMap { PageBuilder.heldBack($0, metric) }
            let after = PageBuilder.heldBack(candidate, metric)
            rows.append([
                "name": app.text("metric." + metric, context) + " (" + app.text("confirm.higher_better", context) + ")",
                "now": now.map { String(format: "%.3f", $0) } ?? "—", "after": after.map { String(format: "%.3f", $0) } ?? "—",
                "change": Self.change(now, after, higherIsBetter: true),
            ])
        }
        let now = current.flatMap(Self.servedECE)
        let after = Self.servedECE(candidate)
        rows.append([
            "name": app.text("confirm.ece", context), "now": now.map { String(format: "%.3f", $0) } ?? "—",
            "after": after.map { String(format: "%.3f", $0) } ?? "—", "change": Self.change(now, after, higherIsBetter: false),
        ])
        return app.render("confirm", status: .ok, context: context, values: [
            "title": title, "heading": title, "question": question, "nav_models": true, "model": candidate.name,
            "current_ref": current?.ref.description ?? "—", "candidate_ref": candidate.ref.description, "rows": rows, "action": action,
            "fields": fields.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "yes": app.text(yesKey, context), "cancel_link": "/models?model=" + queryValue(candidate.name),
        ])
    }

    /// The expected calibration error of the probabilities a version serves, on held-back rows.
    static func servedECE(_ version: ModelVersionInfo) -> Double? {
        guard let json = version.calibration, let record = try? JSONValueDecoder.decode(CalibrationRecord.self, from: json) else { return nil }
        return record.testECE
    }

    /// `better`, `worse` or nothing, for the after column.
    static func change(_ now: Double?, _ after: Double?, higherIsBetter: Bool) -> String {
        guard let now, let after, abs(after - now) >= 0.0005 else { return "" }
        return (after > now) == higherIsBetter ? "better" : "worse"
    }
}
