import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import Logging
import Mustache
import NIOCore
import NIOPosix
import Synchronization

/// The web UI: an admin dashboard, a prediction page and a retention-solution page, rendered on
/// the server and fed by the daemon over its Unix socket, like any other client.
///
/// Every page but `/healthz` needs a signed-in user (bcrypt-checked password, HttpOnly
/// SameSite=Strict session cookie); every POST carries the session's CSRF token.
public final class ChurnWebApp: Sendable {
    let configuration: WebConfiguration
    let logger: Logger
    let link: DaemonLink
    /// Customer bases by model name.
    let bases: [String: CustomerBase]
    let retention: RetentionOffers
    let templates: MustacheLibrary
    let pages: PageBuilder
    /// One-time sign-in links by token: kept a day after they expire or are used, so a second
    /// click is told the link was used (or expired), not that a password was wrong.
    private let signInTokens = Mutex<[String: SignInToken]>([:])
    private let retentionCache = Mutex<(key: String, report: RetentionReport)?>(nil)
    /// Failed sign-ins per user and per address.
    let signInLimiter = SignInLimiter()

    /// Prepares the app: the customer bases (read on first use, under each champion's schema),
    /// the retention configuration, and the templates.
    public init(configuration: WebConfiguration, logger: Logger) throws {
        guard !configuration.accounts.isEmpty else { throw WebError.noAccounts }
        self.configuration = configuration
        self.logger = logger
        link = DaemonLink(socketPath: configuration.socketPath)
        let customersSchema = try configuration.customersSchema.map { try BuiltInSchemas.named($0) }
        var bases = [
            configuration.defaultModel: CustomerBase(
                model: configuration.defaultModel, file: configuration.customersFile, schema: customersSchema)
        ]
        for (model, file) in configuration.modelCustomers { bases[model] = CustomerBase(model: model, file: file) }
        self.bases = bases
        retention = try configuration.retentionFile.map { try RetentionOffers.read(file: $0) } ?? BuiltInSchemas.telcoOffers
        templates = try Templates.library()
        pages = PageBuilder(chartJSAvailable: FileManager.default.isReadableFile(atPath: configuration.chartJSPath))
    }

    /// The model a request is about: `?model=` (or the form's), else the default.
    func selectedModel(_ request: Request, _ context: WebRequestContext) -> String {
        let asked = request.uri.queryParameters.get("model") ?? context.form["model"]
        guard let asked, ModelReference.isValidName(asked) else { return configuration.defaultModel }
        return asked
    }

    /// The customer base of `model`, or an error saying how to give it one.
    func base(_ model: String) throws -> CustomerBase {
        guard let base = bases[model] else {
            throw WebDataError("no customers are configured for model \(model): start churn web with --customers \(model)=FILE")
        }
        return base
    }

    /// A link that signs `user` in once, within five minutes (printed beside a generated
    /// password by `churn web` and `churn demo`); nil unless the configuration offers links
    /// (``WebConfiguration/signInLinks``).
    public func issueSignInLink(for user: String, next: String = "/") -> String? {
        guard configuration.signInLinks else { return nil }
        let token = randomToken()
        let now = ContinuousClock.now
        signInTokens.withLock { tokens in
            tokens = tokens.filter { $0.value.expires + SignInToken.remembered > now }
            tokens[token] = SignInToken(user: user, expires: now + SignInToken.lifetime)
        }
        return "/login/token?t=\(token)&next=\(queryValue(next))"
    }

    /// The Hummingbird application, ready to run as a service.
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let sessions = MemoryPersistDriver()
        let router = Router(context: WebRequestContext.self)
        let cookie = SessionCookieParameters(
            name: "churn_session", path: "/", secure: configuration.secureCookies, sameSite: .strict)
        router.add(
            middleware: SessionMiddleware(
                storage: sessions,
                configuration: SessionMiddlewareConfiguration(
                    sessionCookieParameters: cookie, keyPrefix: "churn.", defaultSessionExpiration: configuration.sessionLifetime)))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: FormAndLanguageMiddleware { [self] status, heading, text, context in
            message(status: status, headingKey: heading, textKey: text, context: context)
        })
        routes(router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "churn-web"),
            services: [sessions], onServerRunning: onServerRunning, logger: logger)
    }

    // MARK: Routes

    private func routes(_ router: Router<WebRequestContext>) {
        router.get("/healthz") { [self] _, _ -> Response in
            do {
                let health = try await link.with { client throws(ChurnClientError) in try await client.health() }
                return json(.ok, #"{"status":"ok","daemon":"\#(health.status)"}"#)
            } catch {
                return json(.serviceUnavailable, #"{"status":"daemon unavailable"}"#)
            }
        }
        router.get("/assets/app.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/charts.js") { _, _ in Self.asset(Assets.chartsScript, type: "text/javascript; charset=utf-8") }
        router.get("/assets/chart.min.js") { [self] _, _ -> Response in
            guard let data = FileManager.default.contents(atPath: configuration.chartJSPath) else {
                return Response(status: .notFound)
            }
            var response = Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            response.headers[.cacheControl] = "max-age=86400"
            return response
        }
        router.get("/login") { [self] request, context -> Response in
            if context.sessions.session == nil { context.sessions.createSession(.anonymous()) }
            return render("login", status: .ok, context: context, values: [
                "title": text("login.title", context), "next": safeNext(request.uri.queryParameters.get("next")),
            ])
        }
        router.post("/login") { [self] _, context -> Response in
            let user = context.form["user"] ?? ""
            let password = context.form["password"] ?? ""
            if let refusal = signInLimiter.check(user: user, address: context.remoteAddress) {
                let (key, wait) =
                    switch refusal {
                    case .user(let wait): ("login.limited_user", wait)
                    case .address(let wait): ("login.limited_address", wait)
                    }
                let minutes = max(1, Int((Double(wait.components.seconds) / 60).rounded(.up)))
                logger.warning("sign-in refused for \"\(user)\" from \(context.remoteAddress): too many failures")
                var response = render("login", status: .tooManyRequests, context: context, values: [
                    "title": text("login.title", context), "limited": text(key, context).replacingOccurrences(of: "{minutes}", with: "\(minutes)"),
                    "entered_user": user, "next": safeNext(context.form["next"]),
                ])
                response.headers[.retryAfter] = "\(minutes * 60)"
                return response
            }
            let hash = configuration.accounts[user]
            // Always pay for one bcrypt check, so timing does not reveal which users exist.
            let valid = try await NIOThreadPool.singleton.runIfActive {
                Bcrypt.verify(password, hash: hash ?? Self.decoyHash) && hash != nil
            }
            guard valid else {
                signInLimiter.failed(user: user, address: context.remoteAddress)
                logger.warning("failed sign-in for \"\(user)\"")
                return render("login", status: .unauthorized, context: context, values: [
                    "title": text("login.title", context), "failed": true, "entered_user": user,
                    "next": safeNext(context.form["next"]),
                ])
            }
            // A fresh session id at sign-in (no fixation), with a fresh CSRF token.
            signInLimiter.succeeded(user: user)
            context.sessions.createSession(WebSession(user: user, csrf: randomToken()))
            logger.info("\(user) signed in")
            return .redirect(to: safeNext(context.form["next"]), type: .normal)
        }
        router.get("/login/token") { [self] request, context -> Response in
            let token = request.uri.queryParameters.get("t") ?? ""
            let next = safeNext(request.uri.queryParameters.get("next"))
            let now = ContinuousClock.now
            let outcome = signInTokens.withLock { tokens -> Result<String, SignInToken.Refusal> in
                guard var entry = tokens[token] else { return .failure(.unknown) }
                if entry.used { return .failure(.used) }
                if entry.expires <= now { return .failure(.expired) }
                entry.used = true
                tokens[token] = entry
                return .success(entry.user)
            }
            switch outcome {
            case .success(let user):
                context.sessions.createSession(WebSession(user: user, csrf: randomToken()))
                logger.info("\(user) signed in with a one-time link")
                return .redirect(to: next, type: .normal)
            case .failure(let refusal):
                // The sign-in form, saying what happened to the link (never "wrong password").
                if context.sessions.session == nil { context.sessions.createSession(.anonymous()) }
                return render("login", status: .unauthorized, context: context, values: [
                    "title": text("login.title", context), "link_refused": text(refusal.textKey, context), "next": next,
                ])
            }
        }
        router.post("/logout") { _, context -> Response in
            context.sessions.clearSession()
            return .redirect(to: "/login", type: .normal)
        }

        let signedIn = router.group().add(middleware: RequireSignInMiddleware())
        signedIn.get("/") { [self] request, context in try await dashboard(request, context) }
        signedIn.get("/predict") { [self] request, context in try await predictPage(request, context) }
        signedIn.get("/version") { [self] request, context in try await versionPage(request, context) }
        signedIn.post("/predict") { [self] request, context in try await predictPage(request, context) }
        signedIn.get("/retention") { [self] request, context in try await retentionPage(request, context) }
        signedIn.get("/retention/targets.csv") { [self] request, context in try await targetsCSV(request, context) }
        signedIn.post("/rescore") { [self] request, context -> Response in
            let model = selectedModel(request, context)
            do {
                _ = try await base(model).current(link, refresh: true)
            } catch {
                refuse(WebStrings.text("dash.rescore", context.language) + ": " + describe(error), context: context)
            }
            return .redirect(to: "/?model=\(model)", type: .normal)
        }
        // A refused change is said on the dashboard it was made from, in its language.
        signedIn.post("/models/promote") { [self] request, context -> Response in
            let model = context.form["version"] ?? ""
            let alias = context.form["alias"] ?? "champion"
            let user = context.user ?? "?"
            let name = ModelReference(parsing: model)?.name ?? selectedModel(request, context)
            do {
                _ = try await link.with { client throws(ChurnClientError) in
                    try await client.call(
                        DaemonMethod.ModelsPromote.self,
                        PromoteParams(model: model, alias: alias, reason: "from the web dashboard", onBehalfOf: "web: \(user)"))
                }
                logger.info("\(user) promoted \(model) to \(alias)")
                if alias == "champion" { _ = try? await bases[name]?.current(link, refresh: true) }
            } catch {
                let key = alias == "champion" ? "dash.promote" : "dash.make_challenger"
                refuse(ModelActions.refusal(error, actionKey: key, language: context.language), context: context)
            }
            return .redirect(to: "/?model=\(name)", type: .normal)
        }
        signedIn.post("/models/rollback") { [self] request, context -> Response in
            let user = context.user ?? "?"
            let name = selectedModel(request, context)
            do {
                _ = try await link.with { client throws(ChurnClientError) in
                    try await client.call(
                        DaemonMethod.ModelsRollback.self,
                        RollbackParams(name: name, reason: "from the web dashboard", onBehalfOf: "web: \(user)"))
                }
                logger.info("\(user) rolled the champion of \(name) back")
                _ = try? await bases[name]?.current(link, refresh: true)
            } catch {
                refuse(ModelActions.refusal(error, actionKey: "dash.rollback", language: context.language), context: context)
            }
            return .redirect(to: "/?model=\(name)", type: .normal)
        }
    }

    /// Keeps `text` in the session for the next page (the dashboard a form redirects back to).
    private func refuse(_ text: String, context: WebRequestContext) {
        context.sessions.withLockedSession { $0?.refusal = text }
    }

    /// The refusal kept for this page, once.
    private func takeRefusal(_ context: WebRequestContext) -> String? {
        context.sessions.withLockedSession { session in
            guard let text = session?.refusal else { return nil }
            session?.refusal = nil
            return text
        }
    }

    // MARK: Pages

    private func dashboard(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = selectedModel(request, context)
        var values: [String: Any] = ["title": text("dash.title", context), "nav_dashboard": true]
        if let refusal = takeRefusal(context) { values["refusal"] = refusal }
        let query = request.uri.queryParameters.get("q") ?? ""
        let page = max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1)
        do {
            let (health, everyVersion, experiments, audit) = try await link.with { client throws(ChurnClientError) in
                (
                    try await client.health(), try await client.models(), try await client.experiments(name: model),
                    try await client.audit(limit: ModelActions.auditWindow)
                )
            }
            values.merge(pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let listed = everyVersion.filter { $0.name == model }
            // The list leaves out curves and importances: fetch them for the versions the charts show.
            var models = listed
            let charted = Set(PageBuilder.latestByKind(listed).map(\.ref) + listed.filter { $0.aliases.contains("champion") }.map(\.ref))
            for (index, version) in models.enumerated() where charted.contains(version.ref) {
                if let detailed = try? await link.with({ client throws(ChurnClientError) in try await client.model(version.ref.description) }) {
                    models[index] = detailed
                }
            }
            var report: ExperimentReport?
            if experiments.running != nil {
                report = try? await link.with { client throws(ChurnClientError) in try await client.experimentReport(name: model) }
            }
            let actions = ModelActions(name: model, versions: listed, experiment: experiments.running, audit: audit)
            values.merge(
                pages.daemonValues(
                    health: health, models: models, actions: actions, experiment: experiments.running, report: report,
                    audit: Array(audit.prefix(10)), context: context)) { $1 }
            var charts = pages.modelCharts(models: models, context: context)
            values["daemon_ok"] = true
            if models.contains(where: { $0.aliases.contains("champion") }) {
                do {
                    let base = try base(model)
                    let scored = try await base.current(link)
                    values.merge(pages.customerValues(scored, query: query, page: page, context: context)) { $1 }
                    charts.append(pages.riskDistribution(scored, context: context))
                    // The attention heatmap: the champion when it has attention, else the newest
                    // attention version (its months read from the store like any prediction's).
                    let attention = models.filter { $0.kind == "lstm_attention" }
                    if let shown = attention.first(where: { $0.aliases.contains("champion") }) ?? attention.max(by: { $0.version < $1.version }) {
                        let riskiest = scored.byRisk.prefix(12).map { scored.records[$0] }
                        if let explained = try? await link.with({ client throws(ChurnClientError) in
                            try await client.explain(riskiest, model: shown.ref.description)
                        }) {
                            values["heatmap"] = pages.monthHeatmap(explained, context: context)
                        }
                    }
                    values["synthetic"] = base.isSynthetic
                } catch let error as ChurnClientError {
                    throw error
                } catch {
                    values["base_problem"] = "\(error)"
                }
            } else {
                values["notice"] = text("dash.no_champion", context)
            }
            values.merge(pages.chartValues(charts)) { $1 }
        } catch {
            values.merge(failure(error)) { $1 }
        }
        return render("dashboard", status: Self.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }

    /// One version in detail (`/version?model=NAME&version=N`): a blend's members, a tuned
    /// version's leaderboard (``VersionPage``). A version not in the registry is a 404.
    private func versionPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let name = request.uri.queryParameters.get("model") ?? ""
        let number = request.uri.queryParameters.get("version").flatMap { Int($0) } ?? 0
        let ref = ModelRef(name: name, version: number)
        func notFound() -> Response {
            render("message", status: .notFound, context: context, values: [
                "title": text("ver.title", context), "heading": text("ver.title", context),
                "text": text("ver.not_found", context).replacingOccurrences(of: "{ref}", with: ref.description),
            ])
        }
        guard ModelReference.isValidName(name), number >= 1 else { return notFound() }
        var values: [String: Any] = ["title": ref.description]
        do {
            let (everyVersion, version) = try await link.with { client throws(ChurnClientError) in
                (try await client.models(), try await client.model(ref.description))
            }
            values.merge(pages.modelSwitch(everyVersion, selected: name)) { $1 }
            values.merge(VersionPage.values(version, language: context.language)) { $1 }
        } catch let error as ChurnClientError where error.rpcError?.knownCode == .modelNotFound {
            return notFound()
        } catch {
            values.merge(failure(error)) { $1 }
        }
        return render("version", status: Self.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }

    /// The dataset schema of the version a prediction goes to: the champion, else the newest.
    private func predictionSchema(_ model: String) async throws -> (ModelVersionInfo, DatasetSchema) {
        let champion = await Result { () async throws(ChurnClientError) -> ModelVersionInfo in
            try await link.with { client throws(ChurnClientError) in try await client.model("\(model)@champion") }
        }
        if case .success(let version) = champion { return (version, try CustomerBase.schema(of: version)) }
        let newest = try await link.with { client throws(ChurnClientError) in try await client.models(name: model) }.first
        guard let newest else { return try (champion.get(), BuiltInSchemas.kaggle) }
        let version = try await link.with { client throws(ChurnClientError) in try await client.model(newest.ref.description) }
        return (version, try CustomerBase.schema(of: version))
    }

    private func predictPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = selectedModel(request, context)
        var values: [String: Any] = ["title": text("pred.title", context), "nav_predict": true]
        var status = HTTPResponse.Status.ok
        do {
            let everyVersion = try await link.with { client throws(ChurnClientError) in try await client.models() }
            values.merge(pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let (version, schema) = try await predictionSchema(model)
            let form = PredictionForm(schema: schema)
            values["form_model"] = version.ref.description
            var entered: [String: String] = [:]
            var record: CustomerRecord?
            if request.method == .post {
                entered = context.form
                switch form.validate(context.form, language: context.language) {
                case .success(let valid): record = valid
                case .failure(let errors):
                    values["has_errors"] = true
                    values["fields"] = form.fields(entered, errors: errors.errors, language: context.language)
                    status = .unprocessableContent
                }
            } else if let id = request.uri.queryParameters.get("customer"), !id.isEmpty {
                values["lookup"] = id
                let base = try? base(model)
                if let found = try await base?.customer(id: id, link) {
                    record = found
                    entered = form.values(of: found)
                    values["synthetic"] = base?.isSynthetic ?? false
                } else {
                    values["lookup_error"] = text("pred.unknown_customer", context)
                    status = .notFound
                }
            } else if let first = try? await bases[model]?.current(link).records.first {
                entered = form.values(of: first)
                entered[form.idField] = "web-0001"
            }
            if values["fields"] == nil { values["fields"] = form.fields(entered, errors: [:], language: context.language) }
            if let record {
                let prediction = try await link.with { client throws(ChurnClientError) in
                    try await client.predict([record], model: "\(model)@champion")
                }
                if let answer = prediction.first {
                    let explanation = try? await link.with { client throws(ChurnClientError) in
                        try await client.explain([record], model: answer.model.description, top: 8)
                    }.first
                    values["result"] = pages.predictionValues(answer, explanation: explanation, schema: schema, context: context)
                    if let explanation { values.merge(pages.chartValues(pages.monthCharts(explanation, context: context))) { $1 } }
                }
            }
        } catch {
            values.merge(failure(error)) { $1 }
            status = .serviceUnavailable
        }
        return render("predict", status: status, context: context, values: values)
    }

    /// The retention report of `model`'s customer base, built once per scoring.
    private func retentionReport(_ model: String) async throws -> (RetentionReport, CustomerBase.Scored, CustomerBase) {
        let base = try base(model)
        let scored = try await base.current(link)
        let uplift = try await upliftSource(for: model)
        let key = "\(scored.model)@\(scored.scoredAt.timeIntervalSince1970)+\(uplift.map { "\($0.version.ref)" } ?? "simulation")"
        if let cached = retentionCache.withLock({ $0 }), cached.key == key { return (cached.report, scored, base) }
        let report = try await RetentionReport.build(scored, configuration: retention, link: link, uplift: uplift)
        retentionCache.withLock { $0 = (key, report) }
        return (report, scored, base)
    }

    /// The uplift model targets of `model` are ranked by: the champion of `<model>-uplift`
    /// (the name `churn campaign uplift` registers under), when it is an uplift model.
    private func upliftSource(for model: String) async throws -> RetentionReport.UpliftSource? {
        let name = "\(model)-uplift"
        let versions = try await link.with { client throws(ChurnClientError) in try await client.models(name: name) }
        guard let champion = versions.first(where: { $0.aliases.contains(ModelReference.champion) }),
            let id = UpliftEvidence(tags: champion.tags).campaign ?? (UpliftEvidence(tags: champion.tags).isUplift ? -1 : nil)
        else { return nil }
        let campaign = try await link.with { client throws(ChurnClientError) in try await client.campaigns() }.first { $0.id == id }
        return RetentionReport.UpliftSource(version: champion, campaign: campaign)
    }

    /// The top three reasons of each target in words (``RiskReasons``, in `language`), from the
    /// champion's explanations (in calls of 500).
    private func drivers(of targets: ArraySlice<RetentionReport.Target>, scored: CustomerBase.Scored, language: Language)
        async throws -> [String]
    {
        let wording = RiskReasons(schema: scored.dataset.schema, language: language.rawValue)
        var drivers: [String] = []
        for start in stride(from: targets.startIndex, to: targets.endIndex, by: 500) {
            let records = targets[start..<min(start + 500, targets.endIndex)].map { scored.records[$0.row] }
            let model = scored.model.description
            let explained = try await link.with { client throws(ChurnClientError) in try await client.explain(records, model: model, top: 3) }
            drivers += explained.map { wording.line($0.explanation, top: 3) }
        }
        return drivers
    }

    /// Every target as CSV: id, risk, bill, offer, expected value, drivers.
    private func targetsCSV(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = selectedModel(request, context)
        let (report, scored, _) = try await retentionReport(model)
        let drivers = try await drivers(of: report.targets[...], scored: scored, language: context.language)
        let valueColumn = report.revenueField == nil ? "expected_churners_kept" : "expected_monthly_revenue_kept_net_\(report.currency)"
        var lines = [["rank", "customer_id", "risk", "monthly_bill", "offer", valueColumn, "drivers"].joined(separator: ",")]
        for (index, target) in report.targets.enumerated() {
            let fields = [
                "\(index + 1)", target.id, String(format: "%.4f", target.risk), target.bill.map { String(format: "%.2f", $0) } ?? "",
                target.offer.id, String(format: "%.2f", target.value), drivers[index],
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        var response = Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        response.headers[.contentDisposition] = "attachment; filename=\"churn-targets-\(scored.model.name)-\(scored.model.version).csv\""
        return response
    }

    /// A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @
    /// (a spreadsheet formula) is neutralised with a leading apostrophe.
    static func csvField(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func retentionPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = selectedModel(request, context)
        var values: [String: Any] = ["title": text("ret.title", context), "nav_retention": true]
        do {
            let everyVersion = try await link.with { client throws(ChurnClientError) in try await client.models() }
            values.merge(pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let (report, scored, base) = try await retentionReport(model)
            values["synthetic"] = base.isSynthetic
            // The target list, 20 a page, with each target's drivers.
            let perPage = 20
            let pageCount = max(1, (report.targets.count + perPage - 1) / perPage)
            let page = min(max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1), pageCount)
            let shown = report.targets[min((page - 1) * perPage, report.targets.count)..<min(page * perPage, report.targets.count)]
            let drivers = try await drivers(of: shown, scored: scored, language: context.language)
            var (reportValues, chart) = pages.retentionValues(report, context: context)
            reportValues.merge(
                pages.targetValues(
                    report, shown: shown, drivers: drivers, page: page, pageCount: pageCount, model: model, context: context)) { $1 }
            // Campaigns and their measured uplift (the five newest).
            let campaigns = try await link.with { client throws(ChurnClientError) in
                var reports: [CampaignReport] = []
                for campaign in try await client.campaigns().prefix(5) { reports.append(try await client.campaignReport(campaign.id)) }
                return reports
            }
            reportValues.merge(pages.campaignValues(campaigns, currency: report.currency, context: context)) { $1 }
            values["report"] = reportValues
            values.merge(pages.chartValues([chart])) { $1 }
        } catch {
            values.merge(failure(error)) { $1 }
        }
        return render("retention", status: Self.failed(values) ? .serviceUnavailable : .ok, context: context, values: values)
    }

    // MARK: Rendering

    func render(_ template: String, status: HTTPResponse.Status, context: WebRequestContext, values: [String: Any]) -> Response {
        var all = values
        all["t"] = WebStrings.nested(context.language)
        all["lang"] = context.language.rawValue
        all["other_lang"] = context.language == .english ? Language.korean.rawValue : Language.english.rawValue
        if let user = context.user { all["user"] = user }
        all["csrf"] = context.csrf ?? ""
        all["socket"] = configuration.socketPath
        all["chart_js"] = pages.chartJSAvailable
        all["chart_missing"] = !pages.chartJSAvailable
        let html = templates.render(all, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func message(status: HTTPResponse.Status, headingKey: String, textKey: String, context: WebRequestContext) -> Response {
        render("message", status: status, context: context, values: [
            "title": text(headingKey, context), "heading": text(headingKey, context), "text": text(textKey, context),
        ])
    }

    private func text(_ key: String, _ context: WebRequestContext) -> String { WebStrings.text(key, context.language) }

    private func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Only local paths: `next` must never send a signed-in user to another site.
    private func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    /// What a page shows when its daemon calls failed: that the daemon is down and how to start
    /// it, that its socket is closed to the web UI's user (and who can open it), or the error the
    /// daemon answered with.
    private func failure(_ error: any Error) -> [String: Any] {
        switch error as? ChurnClientError {
        case .noDaemon?, .transport?, .localFile?: ["daemon_error": describe(error)]
        case .socketAccessDenied?: ["daemon_access": describe(error)]
        case .daemon?: ["daemon_failure": describe(error)]
        case nil: ["data_problem": describe(error)]
        }
    }

    /// Whether a page's daemon calls failed (see ``failure(_:)``).
    private static func failed(_ values: [String: Any]) -> Bool {
        values["daemon_error"] != nil || values["daemon_access"] != nil || values["daemon_failure"] != nil
    }

    private func describe(_ error: any Error) -> String {
        if let error = error as? ChurnClientError { return error.description }
        return "\(error)"
    }

    /// A valid bcrypt hash of a random password: checked against when the user is unknown.
    private static let decoyHash = Bcrypt.hash(randomToken(), cost: 12)
}

/// A one-time sign-in link's token: whom it signs in, until when, and whether it was used.
struct SignInToken {
    var user: String
    var expires: ContinuousClock.Instant
    var used = false

    /// How long a link works.
    static let lifetime = Duration.seconds(300)
    /// How long after it expires a link is still recognised (to say it was used or expired).
    static let remembered = Duration.seconds(24 * 3600)

    /// Why a link signs nobody in, as the sign-in page says it.
    enum Refusal: Error {
        case used, expired, unknown

        var textKey: String {
            switch self {
            case .used: "login.link_used"
            case .expired: "login.link_expired"
            case .unknown: "login.link_unknown"
            }
        }
    }
}

/// Why the web app cannot start.
public enum WebError: Error, CustomStringConvertible {
    case noAccounts

    public var description: String {
        switch self {
        case .noAccounts: "no web accounts: set CHURN_WEB_PASSWORD or CHURN_WEB_PASSWORD_BCRYPT (or pass --password-bcrypt)"
        }
    }
}

/// Headers every response carries: no framing by other sites, no sniffing, scripts from here only.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext

    func handle(_ request: Request, context: WebRequestContext, next: (Request, WebRequestContext) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            // Errors (a 404 for an unknown path) carry the headers too.
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }
}
