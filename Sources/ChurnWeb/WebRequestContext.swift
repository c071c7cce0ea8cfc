import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore

/// What a session remembers: who signed in (nil before sign-in), the session's CSRF token, and
/// a refusal or a notice to show once on the next page (a change the daemon refused, or one it
/// made, said after the redirect back to the page the form was on).
struct WebSession: Codable, Sendable {
    var user: String?
    var csrf: String
    var refusal: String?
    var notice: String?

    static func anonymous() -> WebSession { WebSession(user: nil, csrf: randomToken()) }
}

/// 32 random bytes, URL-safe base64: session CSRF tokens and one-time sign-in tokens.
func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// The per-request state of the web UI: the session, the parsed form of a POST, and the language.
struct WebRequestContext: SessionRequestContext, RequestContext {
    var coreContext: CoreRequestContextStorage
    let sessions: SessionContext<WebSession>
    /// The fields of a POSTed `application/x-www-form-urlencoded` body.
    var form: [String: String] = [:]
    var language: Language = .english
    /// The client's address, for sign-in limits ("unknown" when the transport has none).
    let remoteAddress: String

    init(source: Source) {
        coreContext = .init(source: source)
        sessions = .init()
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    var user: String? { sessions.session?.user }
    var csrf: String? { sessions.session?.csrf }
}

/// `text` as one value in a URL's query: everything but RFC 3986's unreserved ASCII characters
/// percent-encoded, so an `&`, `=`, `#` or `+` in a customer id stays inside its value.
func queryValue(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? ""
}

private let unreservedCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

/// Parses an `application/x-www-form-urlencoded` body. Later duplicates win.
func parseForm(_ body: ByteBuffer) -> [String: String] {
    var fields: [String: String] = [:]
    let text = String(buffer: body)
    for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        let key = decode(parts[0])
        fields[key] = parts.count > 1 ? decode(parts[1]) : ""
    }
    return fields
}

/// Chooses the language, reads POSTed forms, and refuses any POST whose `csrf` field does not
/// match its session's token (a forged cross-site form, or an expired page).
struct FormAndLanguageMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    /// The largest form accepted.
    static let maximumFormBytes = 256 * 1024

    let render: @Sendable (_ status: HTTPResponse.Status, _ headingKey: String, _ textKey: String, _ context: WebRequestContext) -> Response

    func handle(_ request: Request, context: WebRequestContext, next: (Request, WebRequestContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let query = request.uri.queryParameters.get("lang")
        context.language = Language.negotiate(
            query: query, cookie: request.cookies["churn_lang"]?.value, acceptLanguage: request.headers[.acceptLanguage])
        if request.method == .post {
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Self.maximumFormBytes)
            } catch {
                return render(.contentTooLarge, "error.notfound", "error.csrf", context)
            }
            context.form = parseForm(body)
            guard let expected = context.csrf, let sent = context.form["csrf"], constantTimeEqual(expected, sent) else {
                context.logger.warning("refused a POST to \(request.uri.path) without a valid CSRF token")
                return render(.forbidden, "login.title", "error.csrf", context)
            }
        }
        var response = try await next(request, context)
        if let query, Language(rawValue: query) != nil {
            response.setCookie(Cookie(name: "churn_lang", value: query, maxAge: 365 * 24 * 3600, path: "/", httpOnly: true, sameSite: .lax))
        }
        return response
    }
}

/// Sends anyone not signed in to the sign-in page (GET) or refuses (other methods).
struct RequireSignInMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext

    func handle(_ request: Request, context: WebRequestContext, next: (Request, WebRequestContext) async throws -> Response)
        async throws -> Response
    {
        guard context.user != nil else {
            if request.method == .get {
                let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return .redirect(to: "/login?next=" + queryValue(next), type: .normal)
            }
            return Response(status: .unauthorized)
        }
        return try await next(request, context)
    }
}

/// Compares two strings in time independent of where they differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}
