import Foundation
import Testing

@testable import ChurnRegistry

/// How the PostgreSQL store turns the registry's SQL into statements postgres-nio sends, and how
/// it reads a registry URL (no server needed).
@Suite("PostgreSQL statements and URLs")
struct PostgresSQLTests {
    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(
            PostgresStore.numbered(#"SELECT "a?" FROM t WHERE x = ? AND y = '?' AND z IN (?, ?)"#)
                == #"SELECT "a?" FROM t WHERE x = $1 AND y = '?' AND z IN ($2, $3)"#)
    }

    @Test func scriptsSplitAtSemicolonsOutsideQuotesAndDollarBodies() {
        let script = """
            CREATE TABLE a (x TEXT DEFAULT ';');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'no; never'; END $$;
            CREATE INDEX i ON a(x)
            """
        let statements = PostgresStore.statements(script)
        #expect(statements.count == 3)
        #expect(statements[1].hasPrefix("CREATE FUNCTION") && statements[1].hasSuffix("END $$"))
        #expect(statements[2] == "CREATE INDEX i ON a(x)")
    }

    @Test func theValuesTupleIsFoundPastAColumnNamedValues() throws {
        let sql = #"INSERT INTO h (m, "values") VALUES (?, ?) ON CONFLICT (m) DO UPDATE SET "values" = excluded."values""#
        let tuple = try #require(PostgresStore.valuesTuple(in: sql))
        #expect(sql[tuple] == "(?, ?)")
        #expect(PostgresStore.valuesTuple(in: "INSERT INTO a (x) VALUES (?, 'zlib', ?)").map { sql in "INSERT INTO a (x) VALUES (?, 'zlib', ?)"[sql] } == "(?, 'zlib', ?)")
        #expect(PostgresStore.valuesTuple(in: "UPDATE a SET x = ?") == nil)
    }

    @Test func registryURLsAreReadOrRefusedWithTheReason() throws {
        let address = try PostgresAddress(url: "postgres://churn:s3cret@db.example:6543/registry?host=/run/postgresql&max_artifact_mb=64")
        #expect(address.user == "churn" && address.password == "s3cret" && address.port == 6543 && address.database == "registry")
        #expect(address.socketPath == "/run/postgresql/.s.PGSQL.6543" && address.maximumArtifactBytes == 64 << 20)
        #expect(!address.description.contains("s3cret"), "messages never show the password")
        #expect(try RegistryLocation(parsing: RegistryLocation.postgres(address).url) == .postgres(address), "url round-trips")
        #expect(try PostgresAddress(url: "postgres://churn@db.example/churn?sslmode=require").requiresTLS)
        let patient = try PostgresAddress(url: "postgres://churn@db.example/churn?timeout_s=5")
        #expect(patient.answerTimeout == .seconds(5) && patient.connectTimeout == .seconds(5) && address.answerTimeout == .seconds(30))
        #expect(try RegistryLocation(parsing: RegistryLocation.postgres(patient).url) == .postgres(patient), "timeout_s round-trips")
        #expect(try PostgresAddress(url: "postgres://churn@db.example/churn?timeout_s=60").connectTimeout == .seconds(10))
        #expect(try RegistryLocation(parsing: "sqlite:/var/r.sqlite") == .sqlite(path: "/var/r.sqlite"))
        #expect(try RegistryLocation(parsing: "var/r.sqlite") == .sqlite(path: "var/r.sqlite"))
        for (text, reason) in [
            ("postgres://db.example/churn", "names no user"), ("postgres://churn@db.example", "names no database"),
            ("postgres://churn@db/churn?host=relative", "folder of the server's Unix socket"),
            ("postgres://churn@db/churn?max_artifact_mb=5000", "max_artifact_mb"), ("postgres://churn@db/churn?sslmode=allow", "sslmode must be"), ("postgres://churn@db/churn?timezone=utc", "unknown setting"),
            ("postgres://churn@db/churn?timeout_s=0", "timeout_s must be"), ("postgres://churn@db/churn?timeout_s=soon", "timeout_s must be"),
            ("mysql://churn@db/churn", "neither a postgres:// URL"),
        ] {
            #expect {
                _ = try RegistryLocation(parsing: text)
            } throws: { error in
                "\(error)".contains(reason)
            }
        }
    }
}
