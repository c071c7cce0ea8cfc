import Foundation

/// How `churn web` serves: where it listens, which daemon it asks, who may sign in, and which
/// customers its dashboards are about.
public struct WebConfiguration: Sendable {
    /// Host to bind (default loopback: put a TLS-terminating proxy in front for remote use).
    public var host: String
    /// TCP port (0 picks a free one).
    public var port: Int
    /// The daemon's socket.
    public var socketPath: String
    /// Who may sign in: user name → bcrypt hash of the password.
    public var accounts: [String: String]
    /// The model name the pages show first (others are a switch away).
    public var defaultModel: String
    /// The customer base the default model's dashboards score, read under its champion's
    /// schema (or `customersSchema`). Nil: a synthetic telco population, labelled as such on
    /// every page.
    public var customersFile: String?
    /// Customer bases of other model names: model name → CSV file.
    public var modelCustomers: [String: String]
    /// The schema to read `customersFile` with (a built-in name or a schema file), when it is not
    /// the champion's own (another export of the same customers).
    public var customersSchema: String?
    /// The retention offers and segment fields (a JSON file; see `RetentionOffers`). Nil: the
    /// built-in telco offers, which apply to models whose schema has their fields.
    public var retentionFile: String?
    /// Chart.js, served by the app itself (Debian's `libjs-chart.js`).
    public var chartJSPath: String
    /// How long a session lasts without a new sign-in.
    public var sessionLifetime: Duration
    /// Mark the session cookie `Secure` (set when a TLS proxy is in front).
    public var secureCookies: Bool
    /// Whether ``ChurnWebApp/issueSignInLink(for:next:)`` issues one-time sign-in links: only
    /// when churn generated the password (a link printed beside it is no weaker). With a password
    /// the operator chose, a link in the console or its log would be a second way in.
    public var signInLinks: Bool

    public init(
        host: String = "127.0.0.1", port: Int = 8080, socketPath: String, accounts: [String: String],
        customersFile: String? = nil, chartJSPath: String = WebConfiguration.debianChartJS,
        sessionLifetime: Duration = .seconds(8 * 3600), secureCookies: Bool = false, defaultModel: String = "churn",
        modelCustomers: [String: String] = [:], customersSchema: String? = nil, retentionFile: String? = nil,
        signInLinks: Bool = false
    ) {
        self.signInLinks = signInLinks
        self.defaultModel = defaultModel
        self.modelCustomers = modelCustomers
        self.customersSchema = customersSchema
        self.retentionFile = retentionFile
        self.host = host
        self.port = port
        self.socketPath = socketPath
        self.accounts = accounts
        self.customersFile = customersFile
        self.chartJSPath = chartJSPath
        self.sessionLifetime = sessionLifetime
        self.secureCookies = secureCookies
    }

    /// Where Debian's `libjs-chart.js` installs Chart.js.
    public static let debianChartJS = "/usr/share/javascript/chart.js/chart.min.js"
}
