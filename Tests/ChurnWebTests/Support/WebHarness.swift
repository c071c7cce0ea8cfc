#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnDaemon
import ChurnData
import ChurnProtocol
import ChurnRegistry
import ChurnWeb
import Foundation
import HTTPTypes
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// A real daemon in this process with the shipped random-forest and LSTM-attention plugins,
/// trained on synthetic customers, and the web app pointed at it.
final class WebHarness: @unchecked Sendable {
    static let user = "alice"
    static let password = "correct horse battery"

    let root: String
    let socketPath: String
    let customersFile: String
    let app: ChurnWebApp
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>

    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// Starts the daemon, trains a forest (champion) and an attention model on the customers'
    /// months (challenger); with
    /// `operatorModel`, also a forest named `operator` on the synthetic operator file (another
    /// schema, no id column), with `offers` as the retention configuration when given.
    /// A customer id no page may show unescaped: markup, quotes, a template tag, and the URL
    /// syntax (`&`, `=`, `#`) that would open another customer from a link not encoding it.
    static let hostileID = #"<script>alert("x")</script>'{{t.login.title}}&customer=x#"#

    /// With `lstm`, the `lstm` plugin (months weighed by occlusion) is started too (nothing is trained with it).
    static func start(operatorModel: Bool = false, offers: String? = nil, hostileCustomer: Bool = false, lstm: Bool = false) async throws
        -> WebHarness
    {
        var template = Array("/tmp/churn-web-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw CancellationError() }
        let root = String(cString: created)
        let plugins = root + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        let pluginNames = ["random-forest", "lstm-attention"] + (lstm ? ["lstm"] : [])
        for name in pluginNames {
            try FileManager.default.createSymbolicLink(
                atPath: plugins + "/churn-plugin-" + name, withDestinationPath: productsDirectory + "/churn-plugin-" + name)
        }
        let socket = root + "/d.sock"
        var configuration = DaemonConfiguration(
            socketPath: socket, home: root + "/home", pluginSearchPaths: [plugins], searchExecutableDirectory: false)
        configuration.pluginLogLevel = .warning
        let registry = try ModelRegistry(path: root + "/home/registry.sqlite")
        var logger = Logger(label: "test-churnd")
        logger.logLevel = .critical
        let daemon = ChurnDaemon(configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: daemon)], logger: logger))
        let runTask = Task { try await group.run() }

        // Synthetic customers: 900 to train on, 300 as the web's customer base; the months of
        // all of them (the attention model trains on them and the daemon stores them).
        let generated = SyntheticTelco.generate(customers: 1_200, months: 12, seed: 11)
        let synthetic = generated.dataset
        let training = root + "/train.csv"
        let customers = root + "/customers.csv"
        let history = root + "/history.csv"
        try synthetic.rows(Array(0..<900)).writeCSV(to: training)
        try synthetic.rows(Array(900..<1_200)).writeCSV(to: customers)
        try generated.panel.writeCSV(to: history, ids: synthetic.customers.ids)
        if hostileCustomer {
            // The first customer of the web's base gets an id full of markup (CSV-quoted).
            var lines = try String(contentsOfFile: customers, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let header = lines[0].split(separator: ",").map(String.init)
            let column = try #require(header.firstIndex(of: "customerID"))
            var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[column] = "\"" + hostileID.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            lines[1] = fields.joined(separator: ",")
            try lines.joined(separator: "\n").write(toFile: customers, atomically: true, encoding: .utf8)
        }

        var client: ChurnClient?
        for _ in 0..<600 where client == nil {
            if let connected = try? await ChurnClient.connect(socketPath: socket),
                let statuses = try? await connected.plugins(), statuses.count == pluginNames.count, statuses.allSatisfy({ $0.state == "ready" })
            {
                client = connected
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let admin = try #require(client, "the daemon did not start with its \(pluginNames.count) plugins")
        _ = try await admin.train(TrainParams(kind: "random_forest", data: training, params: ["n_trees": .number(40)], seed: 1))
        _ = try await admin.train(TrainParams(kind: "lstm_attention", data: training, history: history, params: ["epochs": .number(4)], seed: 1))
        _ = try await admin.promote("1")
        _ = try await admin.promote("2", alias: "challenger")
        var modelCustomers: [String: String] = [:]
        if operatorModel {
            let operatorData = SyntheticOperator.generate(customers: 1_000, seed: 12)
            let operatorTraining = root + "/operator-train.csv"
            let operatorCustomers = root + "/operator.csv"
            try SyntheticOperator.write(operatorData.rows(Array(0..<800)), to: operatorTraining)
            try SyntheticOperator.write(operatorData.rows(Array(800..<1_000)), to: operatorCustomers)
            _ = try await admin.train(
                TrainParams(kind: "random_forest", data: operatorTraining, params: ["n_trees": .number(40)], seed: 1, name: "operator", label: "Churn"))
            _ = try await admin.promote("operator@1")
            modelCustomers["operator"] = operatorCustomers
        }
        await admin.close()

        var webLogger = Logger(label: "test-web")
        webLogger.logLevel = .critical
        let app = try ChurnWebApp(
            configuration: WebConfiguration(
                port: 0, socketPath: socket, accounts: [user: Bcrypt.hash(password, cost: 4)], customersFile: customers,
                modelCustomers: modelCustomers, retentionFile: offers, signInLinks: true),
            logger: webLogger)
        return WebHarness(root: root, socketPath: socket, customersFile: customers, app: app, group: group, runTask: runTask)
    }

    private init(root: String, socketPath: String, customersFile: String, app: ChurnWebApp, group: ServiceGroup, runTask: Task<Void, any Error>) {
        self.root = root
        self.socketPath = socketPath
        self.customersFile = customersFile
        self.app = app
        self.group = group
        self.runTask = runTask
    }

    func client() async throws -> ChurnClient { try await ChurnClient.connect(socketPath: socketPath) }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runTask.value
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A test client that keeps cookies like a browser (no redirects followed).
final class CookieBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await send(uri, method: .get, headers: headers, body: nil)
    }

    @discardableResult
    func post(_ uri: String, form: [String: String]) async throws -> TestResponse {
        let body = form.map { key, value in
            "\(Self.encode(key))=\(Self.encode(value))"
        }.joined(separator: "&")
        return try await send(
            uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
    }

    private func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var headers = headers
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";").first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let expired = line.lowercased().contains("max-age=0") || line.contains("1970")
            if expired || isPast(line) { cookies[parts[0]] = nil } else { cookies[parts[0]] = parts[1] }
        }
        return response
    }

    private func isPast(_ line: String) -> Bool {
        guard let range = line.range(of: "Expires=", options: .caseInsensitive) else { return false }
        let value = line[range.upperBound...].split(separator: ";").first.map(String.init) ?? ""
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { $0 <= Date() } ?? false
    }

    /// The CSRF token in the last page's forms.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var location: String? { headers[.location] }
}
