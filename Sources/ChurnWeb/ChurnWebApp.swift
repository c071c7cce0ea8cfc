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
    /// One-time sign-in links.
    let signInLinks = SignInLinks()
    /// The last retention report built, by the scoring and uplift model it came from.
    let retentionCache = Mutex<(key: String, report: RetentionReport)?>(nil)
    /// Contacts' reasons in words by customer, for one scoring and language (``drivers(of:scored:language:)``).
    let reasonCache = Mutex<(scoring: String, reasons: [String: String])>(("", [:]))
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
        return "/login/token?t=\(signInLinks.issue(for: user))&next=\(queryValue(next))"
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
        // Each page family is a controller: signing in and the assets are open, the rest needs a
        // signed-in user.
        router.addRoutes(AssetsController(app: self).endpoints)
        router.addRoutes(SignInController(app: self).endpoints)
        let signedIn = router.group().add(middleware: RequireSignInMiddleware())
        signedIn.addRoutes(DashboardController(app: self).endpoints)
        signedIn.addRoutes(ModelsController(app: self).endpoints)
        signedIn.addRoutes(PredictionController(app: self).endpoints)
        signedIn.addRoutes(RetentionController(app: self).endpoints)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "churn-web"),
            services: [sessions], onServerRunning: onServerRunning, logger: logger)
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
