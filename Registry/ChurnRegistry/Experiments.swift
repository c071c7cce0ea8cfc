import ChurnProtocol
import Foundation

/// One logged prediction.
public struct PredictionLogEntry: Sendable, Hashable, Codable {
    public var requestID: String
    public var customerID: String
    public var model: String
    public var version: Int
    /// `champion`, `challenger`, `shadow` or `direct`.
    public var arm: Arm
    public var probability: Double
    public var latencyMicroseconds: Int
    /// Seconds since 1970.
    public var at: Double
    public var experimentID: Int?
    /// The customer's monthly bill (the schema's revenue field), when the schema names one.
    public var monthlyBill: Double?

    public init(
        requestID: String, customerID: String, model: String, version: Int, arm: Arm, probability: Double,
        latencyMicroseconds: Int, at: Double, experimentID: Int?, monthlyBill: Double? = nil
    ) {
        self.monthlyBill = monthlyBill
        self.requestID = requestID
        self.customerID = customerID
        self.model = model
        self.version = version
        self.arm = arm
        self.probability = probability
        self.latencyMicroseconds = latencyMicroseconds
        self.at = at
        self.experimentID = experimentID
    }
}

/// The scored customers of one arm of an experiment with their observed outcomes.
public struct ArmOutcomes: Sendable, Hashable {
    public var arm: Arm
    public var version: Int
    /// Customers scored in this arm.
    public var predictions: Int
    public var customerIDs: [String]
    public var probabilities: [Double]
    public var churned: [Bool]
    /// Monthly bills of the customers with outcomes (nil where the prediction logged none).
    public var bills: [Double?] = []
}

extension ModelRegistry {
    // MARK: Experiments

    /// Starts an experiment on `model`; refused while another one runs on it.
    public func startExperiment(
        model: String, mode: ExperimentMode, share: Double, champion: Int, challenger: Int, user: String, note: String?
    ) throws(RegistryError) -> ExperimentInfo {
        if let running = try runningExperiment(model: model) {
            throw .conflict(
                "experiment \(running.id) (\(running.mode), challenger \(model)@\(running.challengerVersion)) already runs on \(model): stop it first with `churn experiment stop`")
        }
        let now = Self.timestamp()
        let id: Int64 = try storageOperation {
            try database.insertReturningID(
                """
                INSERT INTO experiments (model, mode, share, champion_version, challenger_version, status, started_at, started_by, note)
                VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """,
                [.text(model), .text(mode.rawValue), .real(share), .integer(Int64(champion)), .integer(Int64(challenger)), .text(now),
                 .text(user), .optional(note)])
        }
        try storageOperation { try notifyChange() }
        return try experiment(id: Int(id))!
    }

    /// Stops the running experiment on `model`.
    public func stopExperiment(model: String, user: String) throws(RegistryError) -> ExperimentInfo {
        guard let running = try runningExperiment(model: model) else {
            throw .conflict("no experiment runs on \(model): start one with `churn experiment start`")
        }
        try storageOperation {
            try database.run(
                "UPDATE experiments SET status = 'stopped', stopped_at = ?, stopped_by = ? WHERE id = ?",
                [.text(Self.timestamp()), .text(user), .integer(Int64(running.id))])
            try notifyChange()
        }
        return try experiment(id: running.id)!
    }

    public func runningExperiment(model: String) throws(RegistryError) -> ExperimentInfo? {
        try storageOperation {
            try database.queryOne("SELECT * FROM experiments WHERE model = ? AND status = 'running'", [.text(model)])
        }.map(Self.experimentInfo)
    }

    public func experiment(id: Int) throws(RegistryError) -> ExperimentInfo? {
        try storageOperation { try database.queryOne("SELECT * FROM experiments WHERE id = ?", [.integer(Int64(id))]) }
            .map(Self.experimentInfo)
    }

    /// Experiments, newest first.
    public func experiments(model: String? = nil) throws(RegistryError) -> [ExperimentInfo] {
        try storageOperation {
            try database.query(
                "SELECT * FROM experiments" + (model == nil ? "" : " WHERE model = ?") + " ORDER BY id DESC",
                model.map { [.text($0)] } ?? [])
        }.map(Self.experimentInfo)
    }

    private static func experimentInfo(_ row: SQLRow) -> ExperimentInfo {
        ExperimentInfo(
            id: row.int("id") ?? 0, model: row.text("model") ?? "", mode: ExperimentMode(rawValue: row.text("mode") ?? ""), share: row.double("share") ?? 0,
            championVersion: row.int("champion_version") ?? 0, challengerVersion: row.int("challenger_version") ?? 0,
            status: ExperimentStatus(rawValue: row.text("status") ?? ""), startedAt: row.text("started_at") ?? "", startedBy: row.text("started_by") ?? "",
            stoppedAt: row.text("stopped_at"), stoppedBy: row.text("stopped_by"), note: row.text("note"))
    }

    // MARK: Feedback

    /// Records observed outcomes; returns how many were recorded and which customers were never
    /// scored (recorded too, since a prediction may still come, but reported).
    public func recordFeedback(_ outcomes: [Outcome], user: String) throws(RegistryError) -> FeedbackResult {
        let now = Self.timestamp()
        return try storageOperation {
            try database.transaction {
                try database.runMany(
                    "INSERT INTO feedback (customer_id, churned, observed_on, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?)",
                    outcomes.map { outcome in
                        [
                            .text(outcome.customerID), .integer(outcome.churned ? 1 : 0), .text(outcome.date ?? String(now.prefix(10))),
                            .text(now), .text(user),
                        ]
                    })
                // One pass over the log for the whole call (the log has no customer index, so
                // that predictions stay plain appends).
                let ids = JSONWriter.bytes(.array(outcomes.map { .string($0.customerID) }))
                let scored = Set(
                    try database.query(
                        """
                        SELECT DISTINCT customer_id AS customer FROM prediction_log
                        WHERE customer_id IN (\(database.dialect.jsonStrings))
                        """, [.text(String(decoding: ids, as: UTF8.self))]
                    ).compactMap { $0.text("customer") })
                var unknown: [String] = []
                var reported: Set<String> = []
                for outcome in outcomes where !scored.contains(outcome.customerID) && reported.insert(outcome.customerID).inserted {
                    unknown.append(outcome.customerID)
                }
                return FeedbackResult(recorded: outcomes.count, unknownCustomers: unknown)
            }
        }
    }

    /// Outcomes recorded, by the month they were observed in, newest first: at most `months`
    /// months that have any.
    public func feedbackByMonth(months: Int) throws(RegistryError) -> [FeedbackMonth] {
        let rows = try storageOperation {
            try database.query(
                """
                SELECT substr(observed_on, 1, 7) AS month, COUNT(*) AS outcomes, CAST(SUM(churned) AS BIGINT) AS churned FROM feedback
                GROUP BY substr(observed_on, 1, 7) ORDER BY month DESC LIMIT ?
                """, [.integer(Int64(months))])
        }
        return rows.map { row in
            FeedbackMonth(month: row.text("month") ?? "", outcomes: row.int("outcomes") ?? 0, churned: row.int("churned") ?? 0)
        }
    }

    /// Per arm of an experiment: each customer's latest prediction in that arm joined with their
    /// latest observed outcome (customers without an outcome are counted, not scored).
    public func experimentOutcomes(_ experiment: ExperimentInfo) throws(RegistryError) -> [ArmOutcomes] {
        let rows = try storageOperation {
            try database.query(
                """
                SELECT p.arm AS arm, p.version AS version, p.customer_id AS customer, p.probability AS probability, p.monthly_bill AS bill,
                    (SELECT f.churned FROM feedback f WHERE f.customer_id = p.customer_id ORDER BY f.id DESC LIMIT 1) AS churned
                FROM prediction_log p
                WHERE p.experiment_id = ? AND p.id = (
                    SELECT MAX(q.id) FROM prediction_log q
                    WHERE q.experiment_id = p.experiment_id AND q.customer_id = p.customer_id AND q.arm = p.arm)
                ORDER BY p.customer_id
                """, [.integer(Int64(experiment.id))])
        }
        var arms: [Arm: ArmOutcomes] = [:]
        for row in rows {
            let arm = Arm(rawValue: row.text("arm") ?? "")
            var outcomes = arms[arm] ?? ArmOutcomes(arm: arm, version: row.int("version") ?? 0, predictions: 0, customerIDs: [], probabilities: [], churned: [])
            outcomes.predictions += 1
            if let churned = row.int("churned") {
                outcomes.customerIDs.append(row.text("customer") ?? "")
                outcomes.probabilities.append(row.double("probability") ?? 0)
                outcomes.churned.append(churned == 1)
                outcomes.bills.append(row.double("bill"))
            }
            arms[arm] = outcomes
        }
        return arms.values.sorted { $0.arm.rawValue < $1.arm.rawValue }
    }

    /// Runs database work, classifying storage failures.
    func storageOperation<T>(_ body: () throws -> T) throws(RegistryError) -> T {
        do {
            return try body()
        } catch {
            throw RegistryError.classify(error, location: path)
        }
    }
}

/// The prediction log's writer: its own connection (so the log never waits on the registry's),
/// batched inserts in one transaction, and pruning by age and row count.
public final class PredictionLogStore: @unchecked Sendable {
    private let database: any SQLStore
    private let lock = NSLock()
    /// Rows kept at most; older rows go first.
    public let maximumRows: Int
    /// Rows older than this many days go.
    public let maximumAgeDays: Int
    /// Where the log is written.
    public let location: RegistryLocation

    public convenience init(path: String, maximumRows: Int = 2_000_000, maximumAgeDays: Int = 90) throws(RegistryError) {
        try self.init(location: .sqlite(path: path), maximumRows: maximumRows, maximumAgeDays: maximumAgeDays)
    }

    /// Opens the log in the registry at `location` on a connection of its own.
    public init(location: RegistryLocation, maximumRows: Int = 2_000_000, maximumAgeDays: Int = 90) throws(RegistryError) {
        self.location = location
        database = try location.openStore()
        if database.dialect == .sqlite {
            do {
                try database.execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL")
            } catch {
                throw RegistryError.classify(error, location: location.description)
            }
        }
        self.maximumRows = maximumRows
        self.maximumAgeDays = maximumAgeDays
    }

    /// Appends entries in one transaction (call off the event loop); a failure names the file
    /// and its cause (a full disk, a read-only folder) or the unreachable server.
    public func append(_ entries: [PredictionLogEntry]) throws(RegistryError) {
        guard !entries.isEmpty else { return }
        do {
            try appendRows(entries)
        } catch {
            throw RegistryError.classify(error, location: location.description)
        }
    }

    private func appendRows(_ entries: [PredictionLogEntry]) throws {
        try lock.withLock {
            try database.transaction {
                try database.runMany(
                    """
                    INSERT INTO prediction_log (request_id, customer_id, model, version, arm, probability, latency_us, at, experiment_id,
                        monthly_bill)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    entries.map { entry in
                        [
                            .text(entry.requestID), .text(entry.customerID), .text(entry.model), .integer(Int64(entry.version)),
                            .text(entry.arm.rawValue), .real(entry.probability), .integer(Int64(entry.latencyMicroseconds)),
                            .real(entry.at), entry.experimentID.map { .integer(Int64($0)) } ?? .null,
                            entry.monthlyBill.map { .real($0) } ?? .null,
                        ]
                    })
            }
        }
    }

    /// Deletes rows past the age or count bound; returns how many went.
    @discardableResult
    public func prune(now: Date = Date()) throws -> Int {
        let cutoff = now.timeIntervalSince1970 - Double(maximumAgeDays) * 86_400
        return try lock.withLock {
            // Rows are appended in time order, so everything before the first recent row is old.
            let old = try database.run(
                """
                DELETE FROM prediction_log WHERE id < COALESCE(
                    (SELECT id FROM prediction_log WHERE at >= ? ORDER BY id LIMIT 1),
                    (SELECT MAX(id) + 1 FROM prediction_log))
                """, [.real(cutoff)])
            let excess = try database.run(
                "DELETE FROM prediction_log WHERE id <= (SELECT MAX(id) FROM prediction_log) - ?", [.integer(Int64(maximumRows))])
            return old + excess
        }
    }

    /// Rows in the log.
    public func count() throws -> Int {
        try lock.withLock { try database.queryOne("SELECT COUNT(*) AS n FROM prediction_log")?.int("n") ?? 0 }
    }
}
