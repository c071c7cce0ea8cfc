import ChurnProtocol
import Foundation

/// Copies a whole registry to another engine (SQLite to a shared PostgreSQL database, or back):
/// every table, ids kept, in one transaction on the target, with every artifact checked
/// (inflated to its recorded size and sha256) as it is read from the source and again as it is
/// read back from the target. The target must be empty; a failure leaves it empty.
public enum RegistryMigration {
    /// What a migration copied.
    public struct Report: Sendable, Hashable {
        /// Rows copied, by table.
        public var rows: [String: Int]
        /// Artifacts whose size and sha256 were checked on both sides.
        public var artifactsVerified: Int
    }

    /// The tables, parents first, with the column that orders their rows.
    static let tables: [(name: String, order: String)] = [
        ("models", "id"), ("versions", "id"), ("artifacts", "version_id"), ("aliases", "model_id, alias"),
        ("alias_history", "id"), ("audit_log", "id"), ("experiments", "id"), ("prediction_log", "id"), ("feedback", "id"),
        ("history_months", "model, customer_id, period"), ("campaigns", "id"), ("campaign_members", "campaign_id, customer_id"),
    ]

    /// Rows read and written per statement.
    static let chunk = 2_000

    /// Copies the registry at `source` into the empty registry at `target`; `progress` hears
    /// each table as it is done.
    public static func copy(
        from source: RegistryLocation, to target: RegistryLocation, user: String, progress: (String) -> Void = { _ in }
    ) throws(RegistryError) -> Report {
        guard source != target else { throw .invalid(field: "to", reason: "the source and the target are the same registry") }
        let from = try source.openStore()
        let to = try target.openStore()
        do {
            if let versions = try to.queryOne("SELECT COUNT(*) AS n FROM versions")?.int("n"), versions > 0 {
                throw RegistryError.conflict(
                    "the target \(target) already holds \(versions) model versions: migrate into an empty registry (a new database)")
            }
            if let models = try to.queryOne("SELECT COUNT(*) AS n FROM models")?.int("n"), models > 0 {
                throw RegistryError.conflict("the target \(target) already holds \(models) models: migrate into an empty registry")
            }
            var report = Report(rows: [:], artifactsVerified: 0)
            try to.transaction {
                for table in tables {
                    var offset = 0
                    var lastID: Int64 = -1
                    var copied = 0
                    while true {
                        // Tables keyed by id are read by key (the prediction log may hold millions of rows).
                        let rows =
                            table.order == "id"
                            ? try from.query(
                                "SELECT * FROM \(table.name) WHERE id > ? ORDER BY id LIMIT ?", [.integer(lastID), .integer(Int64(chunk))])
                            : try from.query(
                                "SELECT * FROM \(table.name) ORDER BY \(table.order) LIMIT ? OFFSET ?",
                                [.integer(Int64(chunk)), .integer(Int64(offset))])
                        guard let first = rows.first else { break }
                        lastID = rows.last?.int64("id") ?? lastID
                        if table.name == "artifacts" {
                            for row in rows { try verify(row, side: "source \(source)") }
                        }
                        let columns = first.values.keys.sorted()
                        let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                        try to.runMany(
                            "INSERT INTO \(table.name) (\(names)) VALUES (\(marks))", rows.map { row in columns.map { row[$0] } })
                        copied += rows.count
                        offset += rows.count
                    }
                    report.rows[table.name] = copied
                    progress("\(table.name): \(copied) rows")
                }
                // Every artifact again, as the target stores it.
                for row in try to.query("SELECT version_id, sha256, raw_size, data FROM artifacts ORDER BY version_id") {
                    try verify(row, side: "target \(target)")
                    report.artifactsVerified += 1
                }
                progress("artifacts: \(report.artifactsVerified) checked in the source and again in the target")
                if to.dialect == .postgres {
                    // New rows continue after the copied ids.
                    for table in tables where table.order == "id" {
                        _ = try to.queryOne(
                            "SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), COALESCE((SELECT MAX(id) FROM \(table.name)), 0) + 1, false) AS next")
                    }
                }
                try to.run(
                    #"INSERT INTO audit_log (at, "user", action, model, from_version, to_version, detail) VALUES (?, ?, ?, '', NULL, NULL, ?)"#,
                    [
                        .text(ModelRegistry.timestamp()), .text(user), .text(AuditAction.migrate.rawValue),
                        .text("copied from \(source): \(report.rows["versions"] ?? 0) versions, \(report.artifactsVerified) artifacts verified"),
                    ])
            }
            return report
        } catch {
            throw RegistryError.classify(error, location: target.description)
        }
    }

    /// Inflates an artifact row to its recorded size and checks its sha256.
    private static func verify(_ row: SQLRow, side: String) throws {
        guard let data = row.blob("data"), let sha256 = row.text("sha256"), let size = row.int("raw_size") else {
            throw RegistryError.integrity(version: "version row \(row.int("version_id") ?? 0)", detail: "incomplete artifact row in the \(side)")
        }
        do {
            try Zlib.inflate(data, expectedSize: size, sha256: sha256) { _ in }
        } catch {
            throw RegistryError.integrity(version: "version row \(row.int("version_id") ?? 0)", detail: "in the \(side): \(error)")
        }
    }
}
