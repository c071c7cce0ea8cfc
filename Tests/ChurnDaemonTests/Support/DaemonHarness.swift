#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnDaemon
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// Runs a real `ChurnDaemon` in this process on a real Unix socket, with plugins as real child
/// processes: the test-support plugin linked under the kinds a test asks for.
final class DaemonHarness: @unchecked Sendable {
    let root: String
    let socketPath: String
    let home: String
    let pluginFolder: String
    private var group: ServiceGroup?
    /// The daemon's registry, once started.
    private(set) var registry: ModelRegistry?
    private var runTask: Task<Void, any Error>?
    /// The registry the daemon uses (nil: `<home>/registry.sqlite`).
    let registryLocation: RegistryLocation?

    /// The folder holding the built executables (beside the test bundle).
    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    static var testPluginPath: String {
        (productsDirectory as NSString).appendingPathComponent("churn-test-plugin")
    }

    /// Prepares a scratch folder with the test plugin linked as `churn-plugin-<kind>` for each of
    /// `kinds`, and the shipped plugins named in `shipped` (e.g. `random-forest`) linked as themselves.
    init(kinds: [String] = ["echo"], shipped: [String] = [], registry: RegistryLocation? = nil) throws {
        registryLocation = registry
        var template = Array("/tmp/churn-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw RawSocketError.system("mkdtemp", errno) }
        root = String(cString: created)
        socketPath = root + "/d.sock"
        home = root + "/home"
        pluginFolder = root + "/plugins"
        try FileManager.default.createDirectory(atPath: pluginFolder, withIntermediateDirectories: true)
        for kind in kinds {
            try FileManager.default.createSymbolicLink(
                atPath: pluginFolder + "/churn-plugin-" + kind.replacingOccurrences(of: "_", with: "-"),
                withDestinationPath: Self.testPluginPath)
        }
        for name in shipped {
            try FileManager.default.createSymbolicLink(
                atPath: pluginFolder + "/churn-plugin-" + name,
                withDestinationPath: Self.productsDirectory + "/churn-plugin-" + name)
        }
    }

    var configuration: DaemonConfiguration {
        var configuration = DaemonConfiguration(
            socketPath: socketPath, home: home, pluginSearchPaths: [pluginFolder], searchExecutableDirectory: false)
        configuration.plugins.initialBackoff = .milliseconds(50)
        configuration.plugins.healthCheckInterval = .seconds(1)
        configuration.pluginLogLevel = .warning
        // Daemon-side paths (PROTOCOL.md's examples name files) only under this test's folder.
        let root = URL(fileURLWithPath: self.root).resolvingSymlinksInPath().path
        configuration.dataRoots = [root]
        configuration.exportRoots = [root]
        configuration.registry = registryLocation
        configuration.registryPoll = .milliseconds(200)
        return configuration
    }

    /// Starts the daemon and waits until its socket answers and every plugin has settled.
    func start(configuration: DaemonConfiguration? = nil) async throws {
        let registry = try ModelRegistry(location: registryLocation ?? .sqlite(path: home + "/registry.sqlite"))
        self.registry = registry
        var logger = Logger(label: "test-churnd")
        logger.logLevel = .critical
        let daemon = ChurnDaemon(configuration: configuration ?? self.configuration, registry: registry, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: daemon)], logger: logger))
        self.group = group
        runTask = Task { try await group.run() }
        let deadline = Date().addingTimeInterval(Self.settleSeconds)
        while Date() < deadline {
            if UnixSocketFile.isLive(socketPath), let client = try? await ChurnClient.connect(socketPath: socketPath) {
                let plugins = (try? await client.plugins()) ?? []
                await client.close()
                if plugins.allSatisfy({ $0.state == "ready" || $0.state == "refused" }) { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RawSocketError.timeout
    }

    /// Starts the daemon, trains an `echo` model and promotes it: the usual starting point.
    func startWithChampion() async throws {
        try await start()
        let client = try await client()
        _ = try await client.train(TrainParams(kind: "echo", data: try writeTrainingCSV()))
        _ = try await client.promote("1")
        await client.close()
    }

    /// How long startup may take before a test gives up: generous, because a debug build running
    /// suites in parallel on two cores can be slow to start plugins; a healthy start takes < 1 s.
    static let settleSeconds: TimeInterval = 60

    func client() async throws -> ChurnClient {
        try await ChurnClient.connect(socketPath: socketPath)
    }

    /// Graceful shutdown, as SIGTERM would do; waits for the daemon to finish.
    func stop() async throws {
        try await stopKeepingState()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Graceful shutdown that leaves the home folder (registry, logs) in place.
    func stopKeepingState() async throws {
        await group?.triggerGracefulShutdown()
        try await runTask?.value
    }

    // MARK: The real executable

    /// What the churnd started by ``launchProcess(index:)`` wrote to stderr.
    func processLog(_ index: Int = 0) -> String {
        (try? String(contentsOfFile: root + "/churnd-\(index).log", encoding: .utf8)) ?? ""
    }

    /// Starts the real `churnd` executable on this harness's socket (or `socket`), home and
    /// plugin folder, with `arguments` added.
    func launchProcess(index: Int = 0, socket: String? = nil, arguments: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.productsDirectory + "/churnd")
        process.arguments = [
            "--socket", socket ?? socketPath, "--home", home, "--plugin-path", pluginFolder, "--log-level", "warning",
        ] + (registryLocation.map { ["--registry", $0.url, "--registry-poll-ms", "200"] } ?? []) + arguments
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: root + "/churnd-\(index).log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: root + "/churnd-\(index).log")
        try process.run()
        return process
    }

    /// Starts the real `churnd` (``launchProcess(index:socket:arguments:)``), waits for its
    /// plugins, trains an `echo` model and promotes it; returns the process and a client.
    func launchProcessWithChampion() async throws -> (Process, ChurnClient) {
        let daemon = try launchProcess()
        try await waitUntilLive()
        try await waitUntilPluginsSettle()
        let client = try await client()
        _ = try await client.train(TrainParams(kind: "echo", data: try writeTrainingCSV()))
        _ = try await client.promote("1")
        return (daemon, client)
    }

    /// Waits until something accepts connections on the socket.
    func waitUntilLive() async throws {
        let deadline = Date().addingTimeInterval(Self.settleSeconds)
        while Date() < deadline {
            if UnixSocketFile.isLive(socketPath) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RawSocketError.timeout
    }

    /// Waits until the plugins of a daemon started as a process are ready or refused.
    func waitUntilPluginsSettle() async throws {
        let deadline = Date().addingTimeInterval(Self.settleSeconds)
        while Date() < deadline {
            if let client = try? await client() {
                let plugins = (try? await client.plugins()) ?? []
                await client.close()
                if !plugins.isEmpty, plugins.allSatisfy({ $0.state == "ready" || $0.state == "refused" }) { return }
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RawSocketError.timeout
    }

    /// The id of a customer the echo plugin answers after `milliseconds`, creating the file
    /// ``startedMarker(_:)`` names when the request reaches it.
    func slowCustomerID(_ milliseconds: Int, name: String) -> String {
        "sleep:\(milliseconds):started=\(startedMarker(name))"
    }

    func startedMarker(_ name: String) -> String { root + "/started-" + name }

    /// Waits until the plugin has the slow request `name` (its marker file exists): ordering by
    /// an observed event, not by a guessed delay.
    func waitUntilPluginHas(_ name: String, seconds: Double = 20) async throws {
        try await Self.waitUntil(seconds: seconds) { FileManager.default.fileExists(atPath: self.startedMarker(name)) }
    }

    /// Polls `condition` until it holds, failing after `seconds`.
    static func waitUntil(seconds: Double = 20, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { throw RawSocketError.timeout }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func waitForExit(_ process: Process, seconds: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    /// Writes a small labelled CSV in the telco schema and returns its path.
    func writeTrainingCSV(rows: Int = 40) throws -> String {
        var lines = [
            "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"
        ]
        for index in 0..<rows {
            let tenure = (index * 7) % 72 + 1
            let churn = index % 4 == 0 ? "Yes" : "No"
            lines.append(
                "C\(index),Female,0,Yes,No,\(tenure),Yes,No,DSL,No,Yes,No,No,No,No,Month-to-month,Yes,Electronic check,70.5,\(Double(tenure) * 70.5),\(churn)"
            )
        }
        let path = root + "/train.csv"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A complete customer record (the daemon checks every field); the test plugin scores tenure
/// and monthly charges, and reads the id for faults (`sleep:<ms>`, `crash`).
func testCustomer(_ id: String, tenure: Double = 12, charges: Double = 70) -> CustomerRecord {
    [
        "customerID": .string(id), "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes", "Dependents": "No",
        "tenure": .number(tenure), "PhoneService": "Yes", "MultipleLines": "No", "InternetService": "Fiber optic",
        "OnlineSecurity": "No", "OnlineBackup": "No", "DeviceProtection": "No", "TechSupport": "No",
        "StreamingTV": "No", "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check", "MonthlyCharges": .number(charges), "TotalCharges": .number(tenure * charges),
    ]
}

/// Runs `body`, which must fail with a daemon error of `code` (and, when given, naming `field`).
func expectDaemonError<T>(
    _ code: RPCErrorCode, field: String? = nil, messageContains: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws(ChurnClientError) -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected error \(code.rawValue), got a result", sourceLocation: sourceLocation)
    } catch {
        #expect(error.rpcError?.knownCode == code, "\(error)", sourceLocation: sourceLocation)
        if let field {
            #expect(
                error.rpcError?.data?.objectValue?["field"]?.stringValue == field, "\(error)",
                sourceLocation: sourceLocation)
        }
        if let messageContains {
            #expect(error.description.contains(messageContains), "\(error)", sourceLocation: sourceLocation)
        }
    }
}

/// The outcome of an async client call, as a value.
func outcome<T>(_ body: () async throws(ChurnClientError) -> T) async -> Result<T, ChurnClientError> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// A complete customer as JSON text, for raw-socket tests.
func customerJSON(_ id: String) -> String {
    String(decoding: JSONWriter.bytes(.object(testCustomer(id).fields.mapValues(\.jsonValue))), as: UTF8.self)
}
