import ArgumentParser
import ChurnRegistry
import Foundation

struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Move a registry between engines (SQLite on one host, PostgreSQL shared by several).",
        subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole registry into an empty one, every artifact's checksum verified on both sides.",
            discussion: """
                Copies models, versions and their artifacts, aliases with their history, the audit log, \
                experiments, the prediction log, feedback, stored months and campaigns, ids kept, in one \
                transaction on the target: a failure leaves it empty. Stop the churnd that uses the source \
                first, then start every host with --registry TARGET.

                Examples:
                  churn registry migrate --from sqlite:var/registry.sqlite --to postgres://churn@db.example/churn
                  churn registry migrate --from postgres://churn@db.example/churn --to sqlite:backup.sqlite
                """)

        @Option(help: "The registry to copy: sqlite:PATH (or a path) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
        var from: String

        @Option(help: "The empty registry to copy into (same forms).")
        var to: String

        func run() async throws {
            let source: RegistryLocation
            let target: RegistryLocation
            do {
                source = try RegistryLocation(parsing: from)
                target = try RegistryLocation(parsing: to)
            } catch {
                throw ValidationError("\(error)")
            }
            if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
                throw ValidationError("--from: \(path) does not exist")
            }
            let user = ProcessInfo.processInfo.environment["USER"] ?? "churn"
            do {
                let report = try RegistryMigration.copy(from: source, to: target, user: user) { line in
                    FileHandle.standardError.write(Data(("  " + line + "\n").utf8))
                }
                print("copied \(source) to \(target): \(report.rows["versions"] ?? 0) versions, \(report.artifactsVerified) artifacts verified, \(report.rows["prediction_log"] ?? 0) logged predictions")
            } catch {
                throw CleanExit.message("registry migrate: \(error)", code: 1)
            }
        }
    }
}
