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
