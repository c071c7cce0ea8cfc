import ChurnProtocol
import Crypto
import Foundation

/// The model registry: versioned, zlib-compressed, sha256-checked artifacts in SQLite, with
/// their metrics, aliases (`champion`, `challenger`, any name) and an append-only audit log.
///
/// One actor per open database; several processes may share the file (WAL, busy timeout):
/// version numbers are allocated inside `BEGIN IMMEDIATE` transactions, so concurrent
/// registrations get distinct numbers and a registration killed half-way leaves nothing.
public actor ModelRegistry {
    /// The file (or `:memory:`), or the shared database's URL without its password.
    public nonisolated let path: String
    /// Where the registry lives.
    public nonisolated let location: RegistryLocation
    let database: any SQLStore

    /// Registry work runs on the registry's own thread, never on an event loop serving clients
    /// (see ``StorageThread``).
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        StorageThread.loop.executor.asUnownedSerialExecutor()
    }

    /// Opens or creates the SQLite registry at `path`, migrating it to the current schema.
    public init(path: String, busyTimeout: Duration = .seconds(10)) throws(RegistryError) {
        try self.init(location: .sqlite(path: path), busyTimeout: busyTimeout)
    }

    /// Opens the registry at `location` (an SQLite file, or a shared PostgreSQL database),
    /// creating and migrating its schema as needed.
    public init(location: RegistryLocation, busyTimeout: Duration = .seconds(10)) throws(RegistryError) {
        self.location = location
        self.path = location.description
        database = try location.openStore()
        guard case .sqlite(let file) = location else { return }
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        do {
            try database.execute("PRAGMA busy_timeout = \(milliseconds)")
            if file != ":memory:" {
                _ = try database.queryOne("PRAGMA journal_mode = WAL")
            }
            try database.execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
        } catch {
            throw RegistryError.classify(error, location: file)
        }
    }

    /// The schema version this build reads and writes.
    public static var schemaVersion: Int { RegistrySchema.currentVersion }

    // MARK: Register

    /// Compresses and stores `artifact` as the next version of `registration.name`.
    public nonisolated func register(
        _ registration: ModelRegistration, artifact: Data, user: String
    ) async throws(RegistryError) -> ModelVersionInfo {
        guard ModelReference.isValidName(registration.name) else {
            throw .invalid(field: "name", reason: "\"\(registration.name)\" is not a model name")
        }
        guard !artifact.isEmpty else { throw .invalid(field: "artifact", reason: "the artifact is empty") }
        // Compression and hashing run on the blocking pool; only the insert runs on the
        // registry's thread.
        let stored = try await StorageThread.offload {
            do {
                return StoredArtifact(sha256: artifact.sha256Hex, rawSize: artifact.count, compressed: try Zlib.compress(artifact))
            } catch {
                throw RegistryError.conflict("cannot compress the artifact: \(error)")
            }
        }
        return try await insert(registration, artifact: stored, user: user, action: .register)
    }

    /// Stores an artifact already compressed and hashed (``prepareArtifact(file:)``) as the next
    /// version of `registration.name`.
    public func register(_ registration: ModelRegistration, stored: StoredArtifact, user: String) throws(RegistryError)
        -> ModelVersionInfo
    {
        guard ModelReference.isValidName(registration.name) else {
            throw .invalid(field: "name", reason: "\"\(registration.name)\" is not a model name")
        }
        guard stored.rawSize > 0 else { throw .invalid(field: "artifact", reason: "the artifact is empty") }
        return try insert(registration, artifact: stored, user: user, action: .register)
    }

    /// The artifact file at `path` compressed and hashed (on the blocking pool), ready to store.
    public static func prepareArtifact(file path: String) async throws(RegistryError) -> StoredArtifact {
        try await StorageThread.offload {
            let (compressed, sha256, rawSize) = try Zlib.deflate(file: path)
            return StoredArtifact(sha256: sha256, rawSize: rawSize, compressed: compressed)
        }
    }

    /// An artifact as the registry stores it: compressed, with the raw size and sha256.
    public struct StoredArtifact: Sendable {
        public let sha256: String
        public let rawSize: Int
        let compressed: Data
    }

    /// Test hook: called between the version row and the artifact row of a registration, so a
    /// fault test can kill the process mid-write. Not for production use.
    @_spi(Testing) nonisolated(unsafe) public static var afterVersionRowForTesting: (@Sendable () -> Void)?

    func insert(
        _ registration: ModelRegistration, artifact: StoredArtifact, user: String, action: AuditAction
    ) throws(RegistryError) -> ModelVersionInfo {
        try checkSize(artifact)
        let now = Self.timestamp()
        let number: Int = try storage {
            try database.transaction { try insertRow(registration, artifact: artifact, user: user, action: action, at: now) }
        }
        return try resolve(ModelReference(name: registration.name, selector: .version(number)))
    }

    /// Registers a blend's members and then the blend, which names them by the version numbers
    /// they get (`blend` builds its registration from them), in one transaction: all of them or
    /// none. Every member and the blend are versions of `blend`'s model name.
    public func registerBlend(
        members: [(registration: ModelRegistration, artifact: StoredArtifact)],
        blend: @Sendable ([Int]) -> ModelRegistration, artifact: StoredArtifact, user: String, action: AuditAction = .register
    ) throws(RegistryError) -> (members: [ModelVersionInfo], blend: ModelVersionInfo) {
        for member in members {
            guard ModelReference.isValidName(member.registration.name) else {
                throw .invalid(field: "name", reason: "\"\(member.registration.name)\" is not a model name")
            }
            guard member.artifact.rawSize > 0 else { throw .invalid(field: "artifact", reason: "a member's artifact is empty") }
            try checkSize(member.artifact)
        }
        try checkSize(artifact)
        let now = Self.timestamp()
        let (numbers, blendNumber, name): ([Int], Int, String) = try storage {
            try database.transaction {
                let numbers = try members.map { try insertRow($0.registration, artifact: $0.artifact, user: user, action: action, at: now) }
                let registration = blend(numbers)
                guard ModelReference.isValidName(registration.name) else {
                    throw RegistryError.invalid(field: "name", reason: "\"\(registration.name)\" is not a model name")
                }
                return (numbers, try insertRow(registration, artifact: artifact, user: user, action: action, at: now), registration.name)
            }
        }
        let memberInfos = try zip(members, numbers).map { (member, number) throws(RegistryError) in
            try resolve(ModelReference(name: member.registration.name, selector: .version(number)))
        }
        return (memberInfos, try resolve(ModelReference(name: name, selector: .version(blendNumber))))
    }

    /// Refuses an artifact over a shared registry's size limit.
    private func checkSize(_ artifact: StoredArtifact) throws(RegistryError) {
        if case .postgres(let address) = location, artifact.compressed.count > address.maximumArtifactBytes {
            throw .invalid(
                field: "artifact",
                reason: "the compressed artifact is \(artifact.compressed.count >> 20) MB, over this shared registry's limit of \(address.maximumArtifactBytes >> 20) MB: raise max_artifact_mb in the registry URL (PostgreSQL stores at most 1 GB in one value), or make the model smaller")
        }
    }

    /// Inserts one version row, its artifact and the audit record, inside the caller's
    /// transaction; the version number it was given.
    private func insertRow(
        _ registration: ModelRegistration, artifact: StoredArtifact, user: String, action: AuditAction, at now: String
    ) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json<T: Encodable>(_ value: T) -> String {
            String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
        }
        let modelID = try self.modelID(named: registration.name, creating: true, at: now)!
        // Allocated by one UPDATE, so concurrent registrations (from any host) get distinct numbers.
        let number = try database.queryOne(
            "UPDATE models SET next_version = next_version + 1 WHERE id = ? RETURNING next_version - 1 AS number",
            [.integer(modelID)])!.int("number")!
        let versionID = try database.insertReturningID(
            """
            INSERT INTO versions (model_id, version, kind, plugin_version, protocol_version, params, metrics,
                loss_curve, roc_curve, importances, feature_schema, training_sha256, training_rows,
                training_path, created_at, created_by, notes, tags, loss_curve_unit, dataset_schema, history_source, calibration,
                leaderboard, members)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(modelID), .integer(Int64(number)), .text(registration.kind),
                .text(registration.pluginVersion), .integer(Int64(registration.protocolVersion)),
                .text(json(registration.params)), .text(json(registration.metrics)),
                .text(json(registration.lossCurve)), .text(json(registration.rocCurve)),
                .text(json(registration.importances)),
                registration.featureSchema.map { .text(json($0)) } ?? .null,
                .optional(registration.trainingData?.sha256), .optional(registration.trainingData?.rows),
                .optional(registration.trainingData?.path), .text(now), .text(user),
                .optional(registration.notes), .text(json(registration.tags)),
                .optional(registration.lossCurveUnit),
                registration.datasetSchema.map { .text(json($0)) } ?? .null,
                .optional(registration.historySource),
                registration.calibration.map { .text(json($0)) } ?? .null,
                registration.leaderboard.map { .text(json($0)) } ?? .null,
                registration.members.map { .text(json($0)) } ?? .null,
            ])
        Self.afterVersionRowForTesting?()
        try database.run(
            """
            INSERT INTO artifacts (version_id, sha256, raw_size, compressed_size, compression, data)
            VALUES (?, ?, ?, ?, 'zlib', ?)
            """,
            [
                .integer(versionID), .text(artifact.sha256), .integer(Int64(artifact.rawSize)),
                .integer(Int64(artifact.compressed.count)), .blob(artifact.compressed),
            ])
        try self.audit(
            at: now, user: user, action: action, model: registration.name, from: nil, to: number,
            detail: "\(registration.kind) \(artifact.rawSize) bytes sha256 \(artifact.sha256)")
        try self.notifyChange()
        return number
    }

    // MARK: Read

    /// The version `reference` names, with every detail (curves, importances, schema).
    public func resolve(_ reference: ModelReference) throws(RegistryError) -> ModelVersionInfo {
        let row = try versionRow(reference)
        return try versionInfo(row, detailed: true)
    }

    /// Versions, newest first (without curves and schema), optionally of one model.
    public func list(name: String? = nil) throws(RegistryError) -> [ModelVersionInfo] {
        let rows = try storage {
            try database.query(
                versionSelect + (name == nil ? "" : " WHERE m.name = ?") + " ORDER BY m.name, v.version DESC",
                name.map { [.text($0)] } ?? [])
        }
        var result: [ModelVersionInfo] = []
        for row in rows { result.append(try versionInfo(row, detailed: false)) }
        return result
    }

    /// The artifact bytes of `version`, inflated within the recorded size and sha256-checked.
    public func artifact(of version: ModelRef) throws(RegistryError) -> Data {
        var bytes = Data()
        try streamArtifact(of: version) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Writes the artifact of `version` to `path` as it inflates (the raw bytes are never held
    /// whole), checked against its recorded size and sha256; the file appears only when it is
    /// complete and correct (written beside it, then renamed).
    public func writeArtifact(of version: ModelRef, to path: String) throws(RegistryError) {
        let partial = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw .file(path: partial, reason: "cannot create it")
        }
        do throws(RegistryError) {
            defer { try? handle.close() }
            try streamArtifact(of: version) { (piece) throws(RegistryError) in
                do {
                    try handle.write(contentsOf: piece)
                } catch {
                    throw RegistryError.file(path: partial, reason: error.localizedDescription)
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        if rename(partial, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw .file(path: path, reason: reason)
        }
    }

    /// Inflates the artifact of `version` piece by piece into `sink`, checking its size and sha256.
    /// `stored` is the artifact when the caller already read it.
    func streamArtifact(
        of version: ModelRef, stored: StoredArtifact? = nil, into sink: (UnsafeRawBufferPointer) throws(RegistryError) -> Void
    ) throws(RegistryError) {
        let artifact: StoredArtifact
        if let stored { artifact = stored } else { artifact = try storedArtifact(of: version) }
        let stored = artifact
        do throws(any Error) {
            try Zlib.inflate(stored.compressed, expectedSize: stored.rawSize, sha256: stored.sha256) { piece in
                try sink(piece)
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw .integrity(version: version.description, detail: "\(error)")
        }
    }

    /// The stored (compressed) artifact of `version`, as it is in the database.
    func storedArtifact(of version: ModelRef) throws(RegistryError) -> StoredArtifact {
        let row = try versionRow(ModelReference(name: version.name, selector: .version(version.version)))
        guard
            let stored = try storage({
                try database.queryOne(
                    "SELECT sha256, raw_size, data FROM artifacts WHERE version_id = ?", [.integer(Int64(row.int("id")!))])
            })
        else {
            throw .integrity(version: version.description, detail: "the artifact row is missing")
        }
        return StoredArtifact(sha256: stored.text("sha256") ?? "", rawSize: stored.int("raw_size") ?? -1, compressed: stored.blob("data") ?? Data())
    }

    /// The audit log, newest first.
    public func auditLog(limit: Int = 100) throws(RegistryError) -> [AuditRecord] {
        let rows = try storage {
            try database.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [.integer(Int64(limit))])
        }
        return rows.map {
            AuditRecord(
                at: $0.text("at") ?? "", user: $0.text("user") ?? "", action: AuditAction(rawValue: $0.text("action") ?? ""),
                model: $0.text("model") ?? "", fromVersion: $0.int("from_version"), toVersion: $0.int("to_version"),
                detail: $0.text("detail"))
        }
    }

    // MARK: Aliases

    /// The aliases set on model `name` (empty when the model does not exist).
    public func aliases(of name: String) throws(RegistryError) -> [String] {
        try storage {
            try database.query(
                "SELECT a.alias AS alias FROM aliases a JOIN models m ON m.id = a.model_id WHERE m.name = ? ORDER BY a.alias",
                [.text(name)]
            ).compactMap { $0.text("alias") }
        }
    }

    /// Points `alias` of `name` at `version`, recording who and why.
    public func setAlias(
        _ alias: String, of name: String, to version: Int, user: String, reason: String? = nil
    ) throws(RegistryError) -> AliasChange {
        guard ModelReference.isValidName(alias) else {
            throw .invalid(field: "alias", reason: "\"\(alias)\" is not an alias name")
        }
        let target = try versionRow(ModelReference(name: name, selector: .version(version)))
        let now = Self.timestamp()
        return try storage {
            try database.transaction {
                let modelID = Int64(target.int("model_id")!)
                let previous = try self.aliasTarget(modelID: modelID, alias: alias)
                try database.run(
                    """
                    INSERT INTO aliases (model_id, alias, version_id, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """,
                    [.integer(modelID), .text(alias), .integer(Int64(target.int("id")!)), .text(now), .text(user)])
                try database.run(
                    """
                    INSERT INTO alias_history (model_id, alias, action, from_version, to_version, changed_at, changed_by, reason)
                    VALUES (?, ?, 'promote', ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(modelID), .text(alias), .optional(previous), .integer(Int64(version)), .text(now),
                        .text(user), .optional(reason),
                    ])
                try self.audit(
                    at: now, user: user, action: .promote, model: name, from: previous, to: version,
                    detail: reason.map { "\(alias): \($0)" } ?? alias)
                // The challenger made champion is no longer a challenger: a version is never both.
                var cleared: [String]?
                if alias == ModelReference.champion,
                    try self.aliasTarget(modelID: modelID, alias: ModelReference.challenger) == version
                {
                    try database.run(
                        "DELETE FROM aliases WHERE model_id = ? AND alias = ?",
                        [.integer(modelID), .text(ModelReference.challenger)])
                    try self.audit(
                        at: now, user: user, action: .promote, model: name, from: version, to: nil,
                        detail: "challenger cleared: version \(version) became the champion")
                    cleared = [ModelReference.challenger]
                }
                try self.notifyChange()
                return AliasChange(name: name, alias: alias, from: previous, to: version, cleared: cleared)
            }
        }
    }

    /// Points `alias` back at the version it named before its latest promotion that has not
    /// been rolled back; repeated rollbacks walk further back.
    /// The version `rollbackAlias` would move `alias` back to, without moving it (so the daemon
    /// can warm that version first).
    public func rollbackTarget(_ alias: String, of name: String) throws(RegistryError) -> Int {
        guard let modelID = try storage({ try self.modelID(named: name, creating: false, at: "") }) else {
            throw .versionNotFound(reference: "\(name)@\(alias)")
        }
        return try storage { try self.rollbackStep(modelID: modelID, alias: alias, name: name).previous }
    }

    /// Where a rollback of `alias` goes: the alias's current version, the promotion being undone,
    /// and the earlier version's row.
    private func rollbackStep(modelID: Int64, alias: String, name: String) throws
        -> (current: Int, historyID: SQLValue, previous: Int, previousRowID: SQLValue)
    {
        guard let current = try self.aliasTarget(modelID: modelID, alias: alias) else {
            throw RegistryError.aliasNotSet(name: name, alias: alias)
        }
        guard
            let entry = try database.queryOne(
                """
                SELECT id, from_version FROM alias_history
                WHERE model_id = ? AND alias = ? AND action = 'promote' AND rolled_back = 0 AND to_version = ?
                ORDER BY id DESC LIMIT 1
                """, [.integer(modelID), .text(alias), .integer(Int64(current))]),
            let previous = entry.int("from_version")
        else {
            throw RegistryError.conflict(
                "\(name)@\(alias) has no earlier version to roll back to (it names version \(current))")
        }
        guard
            let previousRow = try database.queryOne(
                "SELECT id FROM versions WHERE model_id = ? AND version = ?",
                [.integer(modelID), .integer(Int64(previous))])
        else {
            throw RegistryError.conflict(
                "\(name)@\(alias) would roll back to version \(previous), which was deleted: promote a version instead")
        }
        return (current, entry["id"], previous, previousRow["id"])
    }

    public func rollbackAlias(_ alias: String, of name: String, user: String, reason: String? = nil)
        throws(RegistryError) -> AliasChange
    {
        guard let modelID = try storage({ try self.modelID(named: name, creating: false, at: "") }) else {
            throw .versionNotFound(reference: "\(name)@\(alias)")
        }
        let now = Self.timestamp()
        return try storage {
            try database.transaction {
                let (current, historyID, previous, previousRowID) = try self.rollbackStep(modelID: modelID, alias: alias, name: name)
                try database.run("UPDATE alias_history SET rolled_back = 1 WHERE id = ?", [historyID])
                try database.run(
                    "UPDATE aliases SET version_id = ?, updated_at = ?, updated_by = ? WHERE model_id = ? AND alias = ?",
                    [previousRowID, .text(now), .text(user), .integer(modelID), .text(alias)])
                try database.run(
                    """
                    INSERT INTO alias_history (model_id, alias, action, from_version, to_version, changed_at, changed_by, reason)
                    VALUES (?, ?, 'rollback', ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(modelID), .text(alias), .integer(Int64(current)), .integer(Int64(previous)),
                        .text(now), .text(user), .optional(reason),
                    ])
                try self.audit(
                    at: now, user: user, action: .rollback, model: name, from: current, to: previous,
                    detail: reason.map { "\(alias): \($0)" } ?? alias)
                try self.notifyChange()
                return AliasChange(name: name, alias: alias, from: current, to: previous)
            }
        }
    }

    /// Deletes a version and its artifact; refused while any alias names it.
    public func delete(_ version: ModelRef, user: String) throws(RegistryError) {
        let row = try versionRow(ModelReference(name: version.name, selector: .version(version.version)))
        let now = Self.timestamp()
        try storage {
            try database.transaction {
                let aliases = try database.query(
                    "SELECT alias FROM aliases WHERE version_id = ?", [row["id"]]
                ).compactMap { $0.text("alias") }
                guard aliases.isEmpty else {
                    throw RegistryError.conflict(
                        "\(version) is \(aliases.joined(separator: " and ")): promote or roll back another version before deleting it")
                }
                try database.run("DELETE FROM versions WHERE id = ?", [row["id"]])
                try self.audit(
                    at: now, user: user, action: .delete, model: version.name, from: version.version, to: nil,
                    detail: nil)
            }
        }
    }

    // MARK: Verify

    /// Runs SQLite's integrity check (PostgreSQL checks its own pages) and re-checks every
    /// artifact's size and sha256.
    public func verify() throws(RegistryError) -> VerifyResult {
        let integrity = try storage {
            database.dialect == .sqlite
                ? try database.query("PRAGMA integrity_check").compactMap { $0.text("integrity_check") } : ["ok"]
        }
        let versions = try storage {
            try database.query(
                "SELECT m.name AS name, v.version AS version FROM versions v JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version"
            )
        }
        var problems: [String] = []
        for row in versions {
            let ref = ModelRef(name: row.text("name") ?? "", version: row.int("version") ?? 0)
            do {
                try streamArtifact(of: ref) { _ in }
            } catch {
                problems.append("\(ref): \(error)")
            }
        }
        let dangling = try storage {
            try database.query(
                """
                SELECT m.name AS name, a.alias AS alias FROM aliases a JOIN models m ON m.id = a.model_id
                WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = a.version_id)
                """)
        }
        let aliasProblems = dangling.map { "\($0.text("name") ?? "")@\($0.text("alias") ?? "") names a missing version" }
        return VerifyResult(
            healthy: integrity == ["ok"] && problems.isEmpty && aliasProblems.isEmpty, databaseIntegrity: integrity,
            artifactsChecked: versions.count, artifactProblems: problems, aliasProblems: aliasProblems)
    }

    // MARK: Changes made elsewhere

    /// A value that changes whenever an alias moves, a version is registered, or an experiment
    /// starts or stops, by this host or another sharing the registry.
    public func changeToken() throws(RegistryError) -> String {
        let row = try storage {
            try database.queryOne(
                """
                SELECT (SELECT MAX(id) FROM alias_history) AS aliases, (SELECT MAX(id) FROM versions) AS versions,
                    (SELECT MAX(id) FROM experiments) AS experiments,
                    (SELECT COUNT(*) FROM experiments WHERE status = 'running') AS running
                """)
        }
        return ["aliases", "versions", "experiments", "running"].map { "\(row?.int($0) ?? 0)" }.joined(separator: ":")
    }

    /// Tells other hosts sharing a PostgreSQL registry that something changed (delivered when
    /// the current transaction commits); nothing for SQLite.
    func notifyChange() throws {
        if database.dialect == .postgres { try database.execute("NOTIFY \(RegistryNotifications.channel)") }
    }

    // MARK: Helpers

    private var versionSelect: String { Self.versionSelect(aliasList: database.dialect.joined("alias")) }

    private static func versionSelect(aliasList: String) -> String {
        """
        SELECT v.*, m.name AS name, a.sha256 AS sha256, a.raw_size AS raw_size, a.compressed_size AS compressed_size,
            (SELECT \(aliasList) FROM aliases WHERE version_id = v.id) AS alias_names
        FROM versions v JOIN models m ON m.id = v.model_id LEFT JOIN artifacts a ON a.version_id = v.id
        """
    }

    private func versionRow(_ reference: ModelReference) throws(RegistryError) -> SQLRow {
        switch reference.selector {
        case .version(let number):
            let row = try storage {
                try database.queryOne(
                    versionSelect + " WHERE m.name = ? AND v.version = ?",
                    [.text(reference.name), .integer(Int64(number))])
            }
            guard let row else { throw .versionNotFound(reference: reference.description) }
            return row
        case .alias(let alias):
            let target = try storage {
                try database.queryOne(
                    """
                    SELECT a.version_id AS version_id, v.version AS version FROM aliases a JOIN models m ON m.id = a.model_id
                    LEFT JOIN versions v ON v.id = a.version_id WHERE m.name = ? AND a.alias = ?
                    """, [.text(reference.name), .text(alias)])
            }
            guard let target else {
                // A named model that does not exist is "not found" (-32010); the default model, or a
                // known one, without the alias has none set (-32011 for the champion: train and promote).
                var exists = reference.name == ModelReference.defaultName
                if !exists { exists = try storage({ try self.modelID(named: reference.name, creating: false, at: "") }) != nil }
                guard exists else {
                    throw .versionNotFound(reference: reference.description)
                }
                throw .aliasNotSet(name: reference.name, alias: alias)
            }
            guard let number = target.int("version") else {
                throw .danglingAlias(name: reference.name, alias: alias, version: target.int("version_id") ?? 0)
            }
            return try versionRow(ModelReference(name: reference.name, selector: .version(number)))
        }
    }

    private func versionInfo(_ row: SQLRow, detailed: Bool) throws(RegistryError) -> ModelVersionInfo {
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ column: String) -> T? {
            row.text(column).flatMap { try? decoder.decode(T.self, from: Data($0.utf8)) }
        }
        let training: TrainingDataInfo? = row.text("training_sha256").map {
            TrainingDataInfo(sha256: $0, rows: row.int("training_rows") ?? 0, path: row.text("training_path"))
        }
        return ModelVersionInfo(
            name: row.text("name") ?? "", version: row.int("version") ?? 0, kind: row.text("kind") ?? "",
            pluginVersion: row.text("plugin_version") ?? "", protocolVersion: row.int("protocol_version") ?? 0,
            createdAt: row.text("created_at") ?? "", createdBy: row.text("created_by") ?? "",
            params: decode([String: JSONValue].self, "params") ?? [:],
            metrics: decode([String: Double].self, "metrics") ?? [:],
            aliases: (row.text("alias_names") ?? "").split(separator: ",").map(String.init).sorted(),
            artifact: ArtifactInfo(
                sha256: row.text("sha256") ?? "", rawBytes: row.int("raw_size") ?? 0,
                compressedBytes: row.int("compressed_size") ?? 0),
            trainingData: training, notes: row.text("notes"), tags: decode([String].self, "tags") ?? [],
            lossCurve: detailed ? decode([EpochRecord].self, "loss_curve") : nil,
            lossCurveUnit: row.text("loss_curve_unit"),
            rocCurve: detailed ? decode([ROCPoint].self, "roc_curve") : nil,
            importances: detailed ? decode([FeatureImportance].self, "importances") : nil,
            featureSchema: detailed ? decode(JSONValue.self, "feature_schema") : nil,
            datasetSchema: detailed ? decode(JSONValue.self, "dataset_schema") : nil,
            historySource: row.text("history_source"), calibration: detailed ? decode(JSONValue.self, "calibration") : nil,
            leaderboard: detailed ? decode(Leaderboard.self, "leaderboard") : nil, members: decode([BlendMember].self, "members"))
    }

    private func modelID(named name: String, creating: Bool, at now: String) throws -> Int64? {
        if let row = try database.queryOne("SELECT id FROM models WHERE name = ?", [.text(name)]) {
            return Int64(row.int("id")!)
        }
        guard creating else { return nil }
        return try database.insertReturningID("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text(name), .text(now)])
    }

    private func aliasTarget(modelID: Int64, alias: String) throws -> Int? {
        try database.queryOne(
            """
            SELECT v.version AS version FROM aliases a JOIN versions v ON v.id = a.version_id
            WHERE a.model_id = ? AND a.alias = ?
            """, [.integer(modelID), .text(alias)]
        )?.int("version")
    }

    func audit(
        at: String, user: String, action: AuditAction, model: String, from: Int?, to: Int?, detail: String?
    ) throws {
        try database.run(
            #"INSERT INTO audit_log (at, "user", action, model, from_version, to_version, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"#,
            [.text(at), .text(user), .text(action.rawValue), .text(model), .optional(from), .optional(to), .optional(detail)])
    }

    /// Records a call refused for want of a role: who (user and uid) called what.
    public func auditRefusal(user: String, uid: UInt32, method: String) throws(RegistryError) {
        let now = Self.timestamp()
        try storage {
            try audit(at: now, user: user, action: .refused, model: "", from: nil, to: nil, detail: "uid \(uid) called \(method) without the admin role")
        }
    }

    /// Records, in one row, `count` more calls of `method` by `uid` refused for want of a role
    /// between `first` and `last`: churnd writes the first refusal of a uid and method at once
    /// and sums up those of the minute after it this way, so that a flood of refused calls
    /// cannot grow the append-only log without bound (PROTOCOL.md, Roles).
    public func auditRepeatedRefusals(
        user: String, uid: UInt32, method: String, count: Int, first: Date, last: Date
    ) throws(RegistryError) {
        let now = Self.timestamp()
        let detail =
            "uid \(uid) called \(method) without the admin role \(count) more \(count == 1 ? "time" : "times") from \(Self.timestamp(first)) to \(Self.timestamp(last))"
        try storage {
            try audit(at: now, user: user, action: .refused, model: "", from: nil, to: nil, detail: detail)
        }
    }

    /// Runs database work, classifying storage failures.
    private func storage<T>(_ body: () throws -> T) throws(RegistryError) -> T {
        do {
            return try body()
        } catch {
            throw RegistryError.classify(error, location: path)
        }
    }

    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

extension Data {
    /// Lower-case hex sha256.
    public var sha256Hex: String {
        SHA256.hash(data: self).hex
    }
}

extension SHA256.Digest {
    /// Lower-case hex, as the registry records sha256s.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension ModelRegistry {
    /// Runs raw SQL: for tests that damage a registry on purpose.
    func rawExecute(_ sql: String) throws {
        try database.execute(sql)
    }
}
