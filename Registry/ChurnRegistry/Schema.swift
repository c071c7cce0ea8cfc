
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
        // 9: a tuned version's leaderboard (every configuration cross-validated), and a blend's
        // member versions and weights.
        """
        ALTER TABLE versions ADD COLUMN leaderboard TEXT;
        ALTER TABLE versions ADD COLUMN members TEXT;
        """,
    ]

    /// The schema version this build writes and reads.
    static var currentVersion: Int { migrations.count }

    /// Brings `store` up to the current schema of its engine, refusing newer schemas.
    static func migrate(_ store: any SQLStore) throws(RegistryError) {
        switch store.dialect {
        case .sqlite: try migrateSQLite(store)
        case .postgres: try migratePostgres(store)
        }
    }

    private static func migrateSQLite(_ database: any SQLStore) throws(RegistryError) {
        let found: Int
        do {
            found = try database.queryOne("PRAGMA user_version")?.int("user_version") ?? 0
        } catch {
            throw RegistryError.classify(error, location: database.location)
        }
        guard found <= currentVersion else {
            throw .newerSchema(path: database.location, found: found, supported: currentVersion)
        }
        for (index, migration) in migrations.enumerated().dropFirst(found) {
            do {
                try database.transaction {
                    try database.execute(migration)
                    try database.execute("PRAGMA user_version = \(index + 1)")
                }
            } catch let error as SQLiteError {
                throw RegistryError.classify(error, location: database.location)
            } catch {
                throw .conflict("migration \(index + 1) failed: \(error)")
            }
        }
    }

    // MARK: PostgreSQL

    /// The shared registry's schema on PostgreSQL, as migrations applied in order; the version
    /// is kept in `churn_schema`. Migration 1 is the SQLite schema as of its migration 8, in
    /// PostgreSQL's types (BIGSERIAL ids, DOUBLE PRECISION, BYTEA artifacts, a trigger function
    /// keeping the audit log append-only).
    static let postgresMigrations: [String] = [
        """
        CREATE TABLE models (
            id BIGSERIAL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            next_version BIGINT NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE versions (
            id BIGSERIAL PRIMARY KEY,
            model_id BIGINT NOT NULL REFERENCES models(id),
            version BIGINT NOT NULL,
            kind TEXT NOT NULL,
            plugin_version TEXT NOT NULL,
            protocol_version BIGINT NOT NULL,
            params TEXT NOT NULL,
            metrics TEXT NOT NULL,
            loss_curve TEXT NOT NULL,
            roc_curve TEXT NOT NULL,
            importances TEXT NOT NULL,
            feature_schema TEXT,
            training_sha256 TEXT,
            training_rows BIGINT,
            training_path TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            notes TEXT,
            tags TEXT NOT NULL,
            loss_curve_unit TEXT,
            dataset_schema TEXT,
            history_source TEXT,
            calibration TEXT,
            UNIQUE (model_id, version)
        );
        CREATE TABLE artifacts (
            version_id BIGINT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            raw_size BIGINT NOT NULL,
            compressed_size BIGINT NOT NULL,
            compression TEXT NOT NULL,
            data BYTEA NOT NULL
        );
        CREATE TABLE aliases (
            model_id BIGINT NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            version_id BIGINT NOT NULL REFERENCES versions(id),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (model_id, alias)
        );
        CREATE TABLE alias_history (
            id BIGSERIAL PRIMARY KEY,
            model_id BIGINT NOT NULL REFERENCES models(id),
            alias TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('promote', 'rollback')),
            from_version BIGINT,
            to_version BIGINT,
            rolled_back BIGINT NOT NULL DEFAULT 0,
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            reason TEXT
        );
        CREATE TABLE audit_log (
            id BIGSERIAL PRIMARY KEY,
            at TEXT NOT NULL,
            "user" TEXT NOT NULL,
            action TEXT NOT NULL,
            model TEXT NOT NULL,
            from_version BIGINT,
            to_version BIGINT,
            detail TEXT
        );
        CREATE FUNCTION churn_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION churn_audit_log_append_only();
        CREATE INDEX versions_by_model ON versions(model_id, version);
        CREATE INDEX alias_history_by_alias ON alias_history(model_id, alias, id);
        CREATE TABLE experiments (
            id BIGSERIAL PRIMARY KEY,
            model TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('ab', 'shadow')),
            share DOUBLE PRECISION NOT NULL,
            champion_version BIGINT NOT NULL,
            challenger_version BIGINT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'stopped')),
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL,
            stopped_at TEXT,
            stopped_by TEXT,
            note TEXT
        );
        CREATE UNIQUE INDEX one_running_experiment_per_model ON experiments(model) WHERE status = 'running';
        CREATE TABLE prediction_log (
            id BIGSERIAL PRIMARY KEY,
            request_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            model TEXT NOT NULL,
            version BIGINT NOT NULL,
            arm TEXT NOT NULL,
            probability DOUBLE PRECISION NOT NULL,
            latency_us BIGINT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            experiment_id BIGINT,
            monthly_bill DOUBLE PRECISION
        );
        CREATE INDEX prediction_log_in_experiments ON prediction_log(experiment_id, customer_id, arm)
            WHERE experiment_id IS NOT NULL;
        CREATE INDEX prediction_log_by_customer ON prediction_log(customer_id);
        CREATE TABLE feedback (
            id BIGSERIAL PRIMARY KEY,
            customer_id TEXT NOT NULL,
            churned BIGINT NOT NULL CHECK (churned IN (0, 1)),
            observed_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL
        );
        CREATE INDEX feedback_by_customer ON feedback(customer_id);
        CREATE TABLE history_months (
            model TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            period BIGINT NOT NULL,
            "values" TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (model, customer_id, period)
        );
        CREATE TABLE campaigns (
            id BIGSERIAL PRIMARY KEY,
            model TEXT NOT NULL,
            offer TEXT NOT NULL,
            control_share DOUBLE PRECISION NOT NULL,
            monthly_cost DOUBLE PRECISION NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL,
            stopped_at TEXT,
            stopped_by TEXT,
            note TEXT
        );
        CREATE TABLE campaign_members (
            campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
            customer_id TEXT NOT NULL,
            arm TEXT NOT NULL CHECK (arm IN ('treated', 'control')),
            risk DOUBLE PRECISION,
            monthly_bill DOUBLE PRECISION,
            segment TEXT,
            PRIMARY KEY (campaign_id, customer_id)
        );
        """,
        // 2: a tuned version's leaderboard, and a blend's member versions and weights.
        """
        ALTER TABLE versions ADD COLUMN leaderboard TEXT;
        ALTER TABLE versions ADD COLUMN members TEXT;
        """,
    ]

    /// The schema version of PostgreSQL registries this build writes and reads.
    static var currentPostgresVersion: Int { postgresMigrations.count }

    /// Applies the PostgreSQL migrations not yet applied, under an advisory lock so that
    /// daemons starting together migrate once.
    private static func migratePostgres(_ store: any SQLStore) throws(RegistryError) {
        do {
            try store.transaction {
                _ = try store.queryOne("SELECT pg_advisory_xact_lock(7263010) AS locked")
                try store.execute("CREATE TABLE IF NOT EXISTS churn_schema (version BIGINT NOT NULL)")
                let found = try store.queryOne("SELECT version FROM churn_schema")?.int("version")
                if found == nil { try store.run("INSERT INTO churn_schema (version) VALUES (0)") }
                let version = found ?? 0
                guard version <= currentPostgresVersion else {
                    throw RegistryError.newerSchema(path: store.location, found: version, supported: currentPostgresVersion)
                }
                for (index, migration) in postgresMigrations.enumerated().dropFirst(version) {
                    try store.execute(migration)
                    try store.run("UPDATE churn_schema SET version = ?", [.integer(Int64(index + 1))])
                }
            }
        } catch {
            throw RegistryError.classify(error, location: store.location)
        }
    }
}
