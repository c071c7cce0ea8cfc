import ArgumentParser
import ChurnClient
import ChurnProtocol
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model version, with its metrics and schema, to a file another registry can import.",
        discussion: """
            churn receives the bytes from churnd and writes the file itself; with --on-server churnd \
            writes it, under one of its --export-root folders.

            Examples:
              churn export champion champion.churnmodel
              churn export churn@3 /backups/churn-3.churnmodel --overwrite
            """)

    @Argument(help: "The version: 3, churn@3, or an alias.")
    var model: String

    @Argument(help: "The file to write.")
    var file: String

    @Flag(help: "Replace the file when it exists.")
    var overwrite = false

    @Flag(help: "churnd writes the file itself (under one of its --export-root folders).")
    var onServer = false

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let path = ChurnPath.absolute(file)
        let result = try await reporting { () async throws(ChurnClientError) in
            try await client.export(model, to: path, overwrite: overwrite, fileOnServer: onServer)
        }
        if output.json { return try printJSON(result) }
        print("exported \(result.model) to \(result.file ?? path) (\(result.bytes) bytes, sha256 \(result.sha256 ?? "-"))")
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register the version an export file holds (its checksum is verified first).",
        discussion: """
            Examples:
              churn import champion.churnmodel
              churn import churn-3.churnmodel --name churn-staging
            """)

    @Argument(help: "An export file (churn reads it and sends it to churnd).")
    var file: String

    @Flag(help: "churnd reads the file itself (it must be under one of its --data-root folders).")
    var onServer = false

    @Option(help: "Register under this model name instead of the file's.")
    var name: String?

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let version = try await reporting { () async throws(ChurnClientError) in
            try await client.importModel(file: ChurnPath.absolute(file), name: name, fileOnServer: onServer)
        }
        if output.json { return try printJSON(version) }
        print("registered \(version.ref) (\(version.kind)) from \(file)")
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a model version and its artifact (refused while an alias names it).",
        discussion: """
            Examples:
              churn delete churn@2
            """)

    @Argument(help: "The version by number: 2 or churn@2.")
    var model: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let deleted = try await reporting { () async throws(ChurnClientError) in try await client.delete(model) }
        if output.json { return try printJSON(deleted) }
        print("deleted \(deleted)")
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the registry: the database's integrity (SQLite's check), every artifact's size and sha256, every alias.",
        discussion: """
            Exit status 0 when healthy, 2 when something is wrong.

            Examples:
              churn verify
              churn verify --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let report = try await reporting { () async throws(ChurnClientError) in try await client.verify() }
        if output.json {
            try printJSON(report)
        } else {
            print("database: \(report.databaseIntegrity.joined(separator: "; "))")
            print("artifacts: \(report.artifactsChecked) checked, \(report.artifactProblems.count) with problems")
            for problem in report.artifactProblems + report.aliasProblems { print("  \(problem)") }
            print(report.healthy ? "healthy" : "NOT healthy")
        }
        if !report.healthy { throw ExitCode(2) }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the registry's audit log: who registered, imported, promoted, rolled back or deleted what, started or stopped which campaign, and who was refused a change, and when.",
        discussion: """
            Examples:
              churn audit
              churn audit --limit 500 --json
            """)

    @Option(help: "Entries to show, newest first.")
    var limit = 50

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let client = try await connection.connect()
        let entries = try await reporting { () async throws(ChurnClientError) in try await client.audit(limit: limit) }
        if output.json { return try printJSON(entries) }
        printTable(
            ["WHEN", "USER", "ACTION", "MODEL", "FROM", "TO", "DETAIL"],
            entries.map {
                [
                    String($0.at.prefix(19)), $0.user, $0.action.rawValue, $0.model, $0.fromVersion.map(String.init) ?? "-",
                    $0.toVersion.map(String.init) ?? "-", $0.detail ?? "",
                ]
            })
    }
}

/// Paths given to commands whose files the daemon reads or writes are made absolute here.
enum ChurnPath {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
