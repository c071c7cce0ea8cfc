#if canImport(Glibc)
import Glibc
#endif
import ChurnRegistry
import Foundation

/// The registry engines a test runs against: SQLite always; PostgreSQL when
/// `CHURN_TEST_POSTGRES_URL` names a server (`scripts/test` starts a throwaway one with
/// `scripts/with-postgres`; a developer can run `scripts/with-postgres swift test ...`).
public enum TestRegistry: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    /// The test server's URL, when there is one.
    public static let postgresURL = ProcessInfo.processInfo.environment["CHURN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The engines available here.
    public static var available: [TestRegistry] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Why the PostgreSQL runs are missing, for a disabled test's comment.
    public static let postgresMissing =
        "PostgreSQL is missing: CHURN_TEST_POSTGRES_URL is not set, so the shared-registry tests ran on SQLite only (scripts/test starts a throwaway server; or run scripts/with-postgres swift test)"

    public var description: String { rawValue }

    /// A new, empty registry of this engine: a file in a fresh folder, or a fresh database on
    /// the test server.
    public func freshLocation() throws -> RegistryLocation {
        switch self {
        case .sqlite:
            let folder = NSTemporaryDirectory() + "registry-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return .sqlite(path: folder + "/registry.sqlite")
        case .postgres:
            guard let url = Self.postgresURL else { throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: Self.postgresMissing]) }
            let server = try PostgresAddress(url: url)
            let name = "churn_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
            return .postgres(try server.creatingDatabase(named: name))
        }
    }
}

/// The throwaway PostgreSQL server `scripts/with-postgres` started, for tests of an outage:
/// stopped and started again, or frozen and thawed, with `scripts/postgres-test-server pause|resume|freeze|thaw DIR`.
public enum PostgresTestServer {
    /// The server's folder (the parent of its socket folder).
    public static var folder: String? {
        guard let url = TestRegistry.postgresURL, let address = try? PostgresAddress(url: url), let socket = address.socketDirectory
        else { return nil }
        return (socket as NSString).deletingLastPathComponent
    }

    /// Stops the server, keeping its data: connections are refused.
    public static func pause() throws { try run("pause") }
    /// Starts a paused server again.
    public static func resume() throws { try run("resume") }
    /// Stops the server's processes without closing anything: connections stay open and nothing
    /// answers, as when the network to a shared registry's host drops.
    public static func freeze() throws { try run("freeze") }
    /// Lets a frozen server run again.
    public static func thaw() throws { try run("thaw") }

    /// Runs the script with posix_spawn and waitpid (Foundation's `Process.waitUntilExit` was
    /// seen to miss the exit of a script whose child, the server, lives on).
    private static func run(_ command: String) throws {
        guard let folder else { throw CocoaError(.featureUnsupported) }
        let script = repositoryRoot + "/scripts/postgres-test-server"
        var pid: pid_t = 0
        let arguments = [script, command, folder]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, script, &actions, nil, &argv, environ) == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "cannot run \(script)"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "postgres-test-server \(command) failed (\(status))"])
        }
    }
}
