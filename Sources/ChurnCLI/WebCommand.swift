import ArgumentParser
import ChurnData
import ChurnProtocol
import ChurnWeb
import Foundation
import HummingbirdBcrypt
import Logging
import ServiceLifecycle

/// Who may sign in to the web UI, from flags or the environment; a generated password when
/// neither names one (printed once, so the person starting it can sign in).
struct WebAccountOptions: ParsableArguments {
    @Option(help: "The web UI's user name (else CHURN_WEB_USER, else admin).")
    var webUser: String?

    @Option(help: "A bcrypt hash of the web password (else CHURN_WEB_PASSWORD_BCRYPT; else CHURN_WEB_PASSWORD in clear; else a generated one).")
    var passwordBcrypt: String?

    /// The accounts, and the generated password when one was made.
    func accounts() -> (accounts: [String: String], user: String, generatedPassword: String?) {
        let environment = ProcessInfo.processInfo.environment
        let user = webUser ?? environment["CHURN_WEB_USER"] ?? "admin"
        if let hash = passwordBcrypt ?? environment["CHURN_WEB_PASSWORD_BCRYPT"] { return ([user: hash], user, nil) }
        if let clear = environment["CHURN_WEB_PASSWORD"], !clear.isEmpty { return ([user: Bcrypt.hash(clear)], user, nil) }
        let generated = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16)).lowercased()
        return ([user: Bcrypt.hash(generated)], user, generated)
    }
}

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve the web UI: admin dashboard, prediction and retention pages, as a client of the daemon.",
        discussion: """
            Every page needs a signed-in user except /healthz. The password is bcrypt-checked; set \
            CHURN_WEB_PASSWORD_BCRYPT (a bcrypt hash) or CHURN_WEB_PASSWORD, or let churn generate one \
            and print it with a one-time sign-in link (good for 5 minutes; printed only beside a \
            generated password). Charts use Debian's Chart.js (sudo apt-get install libjs-chart.js); \
            without it the numbers show as tables. The dashboards of --model score the customers in \
            --customers, read under that model's champion's schema (or --schema), else a synthetic telco \
            population (labelled as such on every page); other models get their own file with \
            --customers NAME=FILE, and the pages switch between models. Retention offers come from \
            --offers (a JSON file; default: the telco offers, shown where the model has their fields). \
            The dashboard offers only the changes churnd would accept (no rollback without an earlier \
            champion, no promotion while an experiment runs), and says a refusal on the same page.

            Examples:
              churn web
              churn web --port 8080 --customers data/customers.csv
              churn web --model operator --customers operator=data/operator.csv --offers offers.json
              CHURN_WEB_PASSWORD_BCRYPT='$2b$12$...' churn web --host 0.0.0.0
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var accountOptions: WebAccountOptions

    @Option(help: "Address to bind (default loopback; put a TLS proxy in front to expose it).")
    var host = "127.0.0.1"

    @Option(help: "TCP port.")
    var port = 8080

    @Option(help: "The model name the pages open on.")
    var model = "churn"

    @Option(help: "Customers of --model (FILE), or of another model (NAME=FILE); repeatable (default: synthetic customers).")
    var customers: [String] = []

    @Option(help: "Schema to read --model's customer file with: kaggle, ibm, or a schema file (default: the champion's).")
    var schema: String?

    @Option(help: "Retention offers and segment fields, a JSON file (default: the built-in telco offers).")
    var offers: String?

    @Flag(help: "Mark the session cookie Secure (behind a TLS proxy).")
    var secureCookies = false

    func run() async throws {
        let (accounts, user, generated) = accountOptions.accounts()
        var defaultFile: String?
        var others: [String: String] = [:]
        for entry in customers {
            if let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) {
                let name = String(entry[..<equals])
                guard ModelReference.isValidName(name) else { throw ValidationError("--customers \(entry): \(name) is not a model name") }
                let file = URL(fileURLWithPath: String(entry[entry.index(after: equals)...])).path
                if name == model { defaultFile = file } else { others[name] = file }
            } else {
                defaultFile = URL(fileURLWithPath: entry).path
            }
        }
        try await WebServer.run(
            configuration: WebConfiguration(
                host: host, port: port, socketPath: connection.socketPath, accounts: accounts, customersFile: defaultFile,
                secureCookies: secureCookies, defaultModel: model, modelCustomers: others,
                customersSchema: schema.map { BuiltInSchemas.all[$0] == nil ? URL(fileURLWithPath: $0).path : $0 },
                retentionFile: offers.map { URL(fileURLWithPath: $0).path }),
            user: user, generatedPassword: generated)
    }
}

/// Runs the web UI until SIGINT/SIGTERM, printing where it is and how to sign in.
enum WebServer {
    /// Serves `configuration`; with a generated password, prints it with a one-time sign-in link
    /// (a password someone chose is never joined by a link: it would be a second way in).
    static func run(configuration given: WebConfiguration, user: String, generatedPassword: String?, announce: String = "") async throws {
        let configuration = Self.configuration(given, generatedPassword: generatedPassword)
        var logger = Logger(label: "churn-web")
        logger.logLevel = .info
        let app: ChurnWebApp
        do {
            app = try ChurnWebApp(configuration: configuration, logger: logger)
        } catch {
            throw CleanExit.message("cannot start the web UI: \(error)", code: 1)
        }
        let host = configuration.host
        let application = app.application { channel in
            let port = channel.localAddress?.port ?? configuration.port
            let base = "http://\(host):\(port)"
            var lines = ["web UI: \(base)/  (user \(user)" + (generatedPassword.map { ", generated password \($0))" } ?? ")")]
            if let link = app.issueSignInLink(for: user) { lines.append("one-time sign-in link (5 minutes): \(base)\(link)") }
            if !announce.isEmpty { lines.append(announce) }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// `given`, offering one-time sign-in links only beside a generated password.
    static func configuration(_ given: WebConfiguration, generatedPassword: String?) -> WebConfiguration {
        var configuration = given
        configuration.signInLinks = generatedPassword != nil
        return configuration
    }
}
