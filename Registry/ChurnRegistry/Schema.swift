import CSQLite

/// The registry's schema, as a list of migrations applied in order. `PRAGMA user_version`
/// records how many have run; a database with a higher number was written by a newer churn
/// and is refused rather than guessed at.
enum RegistrySchema {
    static let migrations: [String] = [
        // 1: models, versions, artifacts, aliases with history, append-only audit log.
        """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            next_version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES models(id),
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            plugin_version TEXT NOT NULL,
            protocol_version INTEGER NOT NULL,
            params TEXT NOT NULL,
            metrics TEXT NOT NULL,
            loss_curve TEXT NOT NULL,
            roc_curve TEXT NOT NULL,
            importances TEXT NOT NULL,
            feature_schema TEXT,
            training_sha256 TEXT,
            training_rows INTEGER,
            training_path TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            notes TEXT,
            tags TEXT NOT NULL,
            UNIQUE (model_id, version)
        );
        CREATE TABLE artifacts (
            version_id INTEGER PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            raw_size INTEGER NOT NULL,
            compressed_size INTEGER NOT NULL,
            compression TEXT NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE aliases (
            model_id INTEGER NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            version_id INTEGER NOT NULL REFERENCES versions(id),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (model_id, alias)
        );
        CREATE TABLE alias_history (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('promote', 'rollback')),
            from_version INTEGER,
            to_version INTEGER,
            rolled_back INTEGER NOT NULL DEFAULT 0,
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            reason TEXT
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            model TEXT NOT NULL,
            from_version INTEGER,
            to_version INTEGER,
            detail TEXT
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE INDEX versions_by_model ON versions(model_id, version);
        CREATE INDEX alias_history_by_alias ON alias_history(model_id, alias, id);
        """,
        // 2: champion/challenger experiments, the prediction log, and observed outcomes.
        """
        CREATE TABLE experiments (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('ab', 'shadow')),
            share REAL NOT NULL,
            champion_version INTEGER NOT NULL,
            challenger_version INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'stopped')),
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL,
            stopped_at TEXT,
            stopped_by TEXT,
            note TEXT
        );
        CREATE UNIQUE INDEX one_running_experiment_per_model ON experiments(model) WHERE status = 'running';
        CREATE TABLE prediction_log (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            model TEXT NOT NULL,
            version INTEGER NOT NULL,
            arm TEXT NOT NULL,
            probability REAL NOT NULL,
            latency_us INTEGER NOT NULL,
            at REAL NOT NULL,
            experiment_id INTEGER
        );
        CREATE INDEX prediction_log_by_experiment ON prediction_log(experiment_id, customer_id);
        CREATE INDEX prediction_log_by_time ON prediction_log(at);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL,
            churned INTEGER NOT NULL CHECK (churned IN (0, 1)),
            observed_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL
        );
        CREATE INDEX feedback_by_customer ON feedback(customer_id);
        """,
        // 3: prediction log indexes that fit its load: the log takes every prediction, so a
        // prediction outside any experiment is a plain append that touches no index. The
        // experiment index is partial; feedback finds scored customers in one pass per call;
        // pruning by age walks ids (rows are appended in time order).
        """
        DROP INDEX prediction_log_by_experiment;
        DROP INDEX prediction_log_by_time;
        CREATE INDEX prediction_log_in_experiments ON prediction_log(experiment_id, customer_id, arm)
            WHERE experiment_id IS NOT NULL;
        """,
        // 4: the dataset schema each version reads (its fields, types and values: what predict
        // checks records against), and what its training curve counts along (epochs or trees).
        // Null for versions registered before: those read the built-in Kaggle telco schema.
        """
        ALTER TABLE versions ADD COLUMN dataset_schema TEXT;
        ALTER TABLE versions ADD COLUMN loss_curve_unit TEXT;
        """,
        // 5: the history each version reads (panel, derived or none), and the history store:
        // customers' real months per model name, one row per customer and period (a correction
        // replaces the month), clustered by customer so one customer's months are one range.
        """
        ALTER TABLE versions ADD COLUMN history_source TEXT;
        CREATE TABLE history_months (
            model TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            period INTEGER NOT NULL,
            "values" TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (model, customer_id, period)
        ) WITHOUT ROWID;
        """,
        // 6: each version's probability calibration (the calibrator it serves with, and how
        // well calibrated its held-back probabilities are).
        """
        ALTER TABLE versions ADD COLUMN calibration TEXT;
        """,
        // 7: retention campaigns: an offer, its cohort, and which customers were treated or held
        // back as the control group (outcomes come from feedback).
        """
        CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            offer TEXT NOT NULL,
            control_share REAL NOT NULL,
            monthly_cost REAL NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL,
            stopped_at TEXT,
            stopped_by TEXT,
            note TEXT
        );
        CREATE TABLE campaign_members (
            campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
            customer_id TEXT NOT NULL,
            arm TEXT NOT NULL CHECK (arm IN ('treated', 'control')),
            risk REAL,
            monthly_bill REAL,
            segment TEXT,
            PRIMARY KEY (campaign_id, customer_id)
        ) WITHOUT ROWID;
        """,
        // 8: each logged prediction's monthly bill (the schema's revenue field; null without
        // one), so champion/challenger reports weigh what each arm's contact list is worth.
        """
        ALTER TABLE prediction_log ADD COLUMN monthly_bill REAL;
        """,
    ]

    /// The schema version this build writes and reads.
    static var currentVersion: Int { migrations.count }

    /// Brings `database` up to ``currentVersion``, refusing newer schemas.
    static func migrate(_ database: SQLiteDatabase) throws(RegistryError) {
        let found: Int
        do {
            found = try database.queryOne("PRAGMA user_version")?.int("user_version") ?? 0
        } catch {
            throw error.isCorruption
                ? .corrupt(path: database.path, detail: error.message) : .storage(error)
        }
        guard found <= currentVersion else {
            throw .newerSchema(path: database.path, found: found, supported: currentVersion)
        }
        for (index, migration) in migrations.enumerated().dropFirst(found) {
            do {
                try database.transaction {
                    try database.execute(migration)
                    try database.execute("PRAGMA user_version = \(index + 1)")
                }
            } catch let error as SQLiteError {
                throw error.isCorruption ? .corrupt(path: database.path, detail: error.message) : .storage(error)
            } catch {
                throw .conflict("migration \(index + 1) failed: \(error)")
            }
        }
    }
}
