import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

/// `churn score`: scores a whole customer base, streaming.
struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a whole customer file, streaming: a file in, a scored file out, in input order.",
        discussion: """
            Reads the CSV in chunks under the model's schema (or --schema), keeps several chunks at the \
            daemon at once (sent by column, predict.batch) and writes each customer's answer in input \
            order as it arrives: memory is bounded by --chunk-rows and --in-flight, not by the file.

            Output columns: the id, churn_probability (calibrated, 6 decimals), risk_band (low, medium, \
            high by --bands), model (name@version) and arm that answered; then reasons (--reasons N) and \
            the --keep columns as the file has them.

            Bad rows go to the rejects file (line, column, value, reason) and the rest are scored; \
            --strict stops at the first. Ctrl-C or a lost daemon leaves a valid partial output and \
            OUT.progress; --resume continues after the last complete chunk, scoring nothing twice. \
            --shard I/N scores only the customers whose id hashes to part I of N (to share a base \
            between churnd hosts on one PostgreSQL registry).

            Exit status: 0 every row scored; 3 finished, some rows rejected; 65 bad file or --strict \
            stop; 130 interrupted; 69 no daemon; 1 the daemon refused.

            Examples:
              churn score customers.csv --out scores.csv
              churn score customers.csv --out scores.csv --reasons 3 --keep MonthlyCharges,Contract
              churn score customers.csv --out scores.csv --resume
              churn score customers.csv --out part-0.csv --shard 0/2
              cat customers.csv | churn score - > scores.csv
            """)

    @Argument(help: "A customer CSV file, or - for CSV on stdin.")
    var input: String

    @Option(help: "Where to write the scores (default: stdout).")
    var out: String = "-"

    @Option(help: "Where to write the rejected rows (default: OUT.rejects.csv; with stdout, listed on stderr).")
    var rejects: String?

    @OptionGroup var scoring: ScoringOptions

    @Option(help: "Customers per request (1-100000).")
    var chunkRows: Int = 10_000

    @Option(help: "Requests at the daemon at once.")
    var inFlight: Int = 4

    @Option(help: "Add each customer's top N reasons (explain; slower).")
    var reasons: Int = 0

    @Option(help: "Input columns to pass through, comma-separated, as the file names them.")
    var keep: String?

    @Option(help: "Risk band thresholds: medium from the first, high from the second.")
    var bands: String = "0.25,0.5"

    @Option(help: "Score part I of N (0-based) by a hash of the customer id, e.g. 0/2.")
    var shard: String?

    @Flag(help: "Also write each prediction to churnd's prediction log (for experiment reports and feedback; it keeps a bounded number of rows). Without it the scores file is the run's record.")
    var log = false

    @Flag(help: "Stop at the first bad row instead of listing it and going on.")
    var strict = false

    @Flag(help: "Continue an interrupted run from OUT.progress.")
    var resume = false

    @Flag(help: "No progress on stderr (the summary still prints).")
    var quiet = false

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard (1...RequestLimits.maximumCustomers).contains(chunkRows) else {
            throw ValidationError("--chunk-rows must be between 1 and \(RequestLimits.maximumCustomers), got \(chunkRows)")
        }
        guard (1...64).contains(inFlight) else { throw ValidationError("--in-flight must be between 1 and 64, got \(inFlight)") }
        guard reasons >= 0 else { throw ValidationError("--reasons must be 0 or more, got \(reasons)") }
        _ = try ScoreOptions.bands(bands)
        if let shard { _ = try ScoreOptions.shard(shard) }
        if log, reasons > 0 {
            throw ValidationError("--log with --reasons: explanations are not written to the prediction log; score with --log, explain apart")
        }
        if resume, out == "-" { throw ValidationError("--resume needs --out FILE: a run to stdout cannot be continued") }
        if resume, input == "-" { throw ValidationError("--resume needs an input file: stdin cannot be read again") }
    }

    func run() async throws {
        let client = try await connection.connect()
        let schema = try await CSVCustomers.schema(flag: scoring.schema, model: scoring.model, client: client)
        if scoring.history != nil, schema.history == nil {
            throw CleanExit.message(
                "--history: the model reads no monthly panel (its schema \(schema.name) names none), so the months would be ignored", code: 64)
        }
        let options = ScoreOptions(
            input: input, out: out, rejects: rejects ?? (out == "-" ? nil : out + ".rejects.csv"), model: scoring.model,
            chunkRows: chunkRows, inFlight: inFlight, reasons: reasons,
            keep: keep.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            bands: try ScoreOptions.bands(bands), shard: try shard.map(ScoreOptions.shard), strict: strict, resume: resume, log: log,
            history: scoring.history,
            progress: quiet ? .none : (isatty(2) == 1 ? .bar : .lines))
        let outcome = try await ScoreRun(client: client, schema: schema, options: options).run()
        throw ExitCode(outcome.exitStatus)
    }
}

/// Everything `churn score` was asked to do.
struct ScoreOptions: Sendable {
    var input: String
    var out: String
    var rejects: String?
    var model: String?
    var chunkRows: Int
    var inFlight: Int
    var reasons: Int
    var keep: [String]
    /// Probabilities from which a customer is `medium`, then `high`.
    var bands: (medium: Double, high: Double)
    var shard: (index: Int, count: Int)?
    var strict: Bool
    var resume: Bool
    /// Write each prediction to churnd's prediction log.
    var log: Bool
    /// A monthly panel file read alongside the input.
    var history: String?
    var progress: ScoreProgress.Style

    static func bands(_ text: String) throws -> (medium: Double, high: Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let medium = parts[0], let high = parts[1], 0 < medium, medium < high, high <= 1 else {
            throw ValidationError("--bands must be two probabilities, low to high, like 0.25,0.5; got \(text)")
        }
        return (medium, high)
    }

    static func shard(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, (0..<count).contains(index) else {
            throw ValidationError("--shard must be I/N with 0 <= I < N, like 0/2; got \(text)")
        }
        return (index, count)
    }

    /// The part (0..<count) a customer id falls in: its ``StableHash`` modulo `count`, the same
    /// on every host.
    static func shard(of id: String, count: Int) -> Int {
        Int(StableHash.mixed(id) % UInt64(count))
    }
}
