import ChurnClient
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

    /// A refused change is said on the models page it was made from, in its language.
    private func promote(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = context.form["version"] ?? ""
        let alias = context.form["alias"] ?? "champion"
        let user = context.user ?? "?"
        let name = ModelReference(parsing: model)?.name ?? app.selectedModel(request, context)
        do {
            _ = try await app.link.with { client throws(ChurnClientError) in
                try await client.call(
                    DaemonMethod.ModelsPromote.self,
                    PromoteParams(model: model, alias: alias, reason: "from the web dashboard", onBehalfOf: "web: \(user)"))
            }
            app.logger.info("\(user) promoted \(model) to \(alias)")
            if alias == "champion" { _ = try? await app.bases[name]?.current(app.link, refresh: true) }
        } catch {
            let key = alias == "champion" ? "dash.promote" : "dash.make_challenger"
            app.refuse(ModelActions.refusal(error, actionKey: key, language: context.language), context: context)
        }
        return .redirect(to: "/models?model=\(name)", type: .normal)
    }

    private func rollBack(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let user = context.user ?? "?"
        let name = app.selectedModel(request, context)
        do {
            _ = try await app.link.with { client throws(ChurnClientError) in
                try await client.call(
                    DaemonMethod.ModelsRollback.self, RollbackParams(name: name, reason: "from the web dashboard", onBehalfOf: "web: \(user)"))
            }
            app.logger.info("\(user) rolled the champion of \(name) back")
            _ = try? await app.bases[name]?.current(app.link, refresh: true)
        } catch {
            app.refuse(ModelActions.refusal(error, actionKey: "dash.rollback", language: context.language), context: context)
        }
        return .redirect(to: "/models?model=\(name)", type: .normal)
    }
}
