import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Signing in and out: the password form (bcrypt-checked, limited per user and per address),
/// one-time sign-in links, and signing out. Every sign-in starts a fresh session with a fresh
/// CSRF token (no fixation).
struct SignInController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/login") { request, context in showForm(request, context) }
        routes.post("/login") { _, context in try await signIn(context) }
        routes.get("/login/token") { request, context in followLink(request, context) }
        routes.post("/logout") { _, context -> Response in
            context.sessions.clearSession()
            return .redirect(to: "/login", type: .normal)
        }
        return routes
    }

    private func showForm(_ request: Request, _ context: WebRequestContext) -> Response {
        if context.sessions.session == nil { context.sessions.createSession(.anonymous()) }
        return app.render("login", status: .ok, context: context, values: [
            "title": app.text("login.title", context), "next": app.safeNext(request.uri.queryParameters.get("next")),
        ])
    }

    private func signIn(_ context: WebRequestContext) async throws -> Response {
        let user = context.form["user"] ?? ""
        let password = context.form["password"] ?? ""
        if let refusal = app.signInLimiter.check(user: user, address: context.remoteAddress) {
            let (key, wait) =
                switch refusal {
                case .user(let wait): ("login.limited_user", wait)
                case .address(let wait): ("login.limited_address", wait)
                }
            let minutes = max(1, Int((Double(wait.components.seconds) / 60).rounded(.up)))
            app.logger.warning("sign-in refused for \"\(user)\" from \(context.remoteAddress): too many failures")
            var response = app.render("login", status: .tooManyRequests, context: context, values: [
                "title": app.text("login.title", context),
                "limited": app.text(key, context).replacingOccurrences(of: "{minutes}", with: "\(minutes)"),
                "entered_user": user, "next": app.safeNext(context.form["next"]),
            ])
            response.headers[.retryAfter] = "\(minutes * 60)"
            return response
        }
        let hash = app.configuration.accounts[user]
        // Always pay for one bcrypt check, so timing does not reveal which users exist.
        let valid = try await NIOThreadPool.singleton.runIfActive {
            Bcrypt.verify(password, hash: hash ?? Self.decoyHash) && hash != nil
        }
        guard valid else {
            app.signInLimiter.failed(user: user, address: context.remoteAddress)
            app.logger.warning("failed sign-in for \"\(user)\"")
            return app.render("login", status: .unauthorized, context: context, values: [
                "title": app.text("login.title", context), "failed": true, "entered_user": user,
                "next": app.safeNext(context.form["next"]),
            ])
        }
        app.signInLimiter.succeeded(user: user)
        context.sessions.createSession(WebSession(user: user, csrf: randomToken()))
        app.logger.info("\(user) signed in")
        return .redirect(to: app.safeNext(context.form["next"]), type: .normal)
    }

    private func followLink(_ request: Request, _ context: WebRequestContext) -> Response {
        let token = request.uri.queryParameters.get("t") ?? ""
        let next = app.safeNext(request.uri.queryParameters.get("next"))
        switch app.signInLinks.use(token) {
        case .success(let user):
            context.sessions.createSession(WebSession(user: user, csrf: randomToken()))
            app.logger.info("\(user) signed in with a one-time link")
            return .redirect(to: next, type: .normal)
        case .failure(let refusal):
            // The sign-in form, saying what happened to the link (never "wrong password").
            if context.sessions.session == nil { context.sessions.createSession(.anonymous()) }
            return app.render("login", status: .unauthorized, context: context, values: [
                "title": app.text("login.title", context), "link_refused": app.text(refusal.textKey, context), "next": next,
            ])
        }
    }

    /// A valid bcrypt hash of a random password: checked against when the user is unknown.
    private static let decoyHash = Bcrypt.hash(randomToken(), cost: 12)
}

/// One-time sign-in links by token: kept a day after they expire or are used, so a second
/// click is told the link was used (or expired), not that a password was wrong.
final class SignInLinks: Sendable {
    private let tokens = Mutex<[String: SignInToken]>([:])

    /// A new link's token for `user`, working for five minutes.
    func issue(for user: String) -> String {
        let token = randomToken()
        let now = ContinuousClock.now
        tokens.withLock { tokens in
            tokens = tokens.filter { $0.value.expires + SignInToken.remembered > now }
            tokens[token] = SignInToken(user: user, expires: now + SignInToken.lifetime)
        }
        return token
    }

    /// The user `token` signs in, once; or why it signs nobody in.
    func use(_ token: String) -> Result<String, SignInToken.Refusal> {
        let now = ContinuousClock.now
        return tokens.withLock { tokens in
            guard var entry = tokens[token] else { return .failure(.unknown) }
            if entry.used { return .failure(.used) }
            if entry.expires <= now { return .failure(.expired) }
            entry.used = true
            tokens[token] = entry
            return .success(entry.user)
        }
    }
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
