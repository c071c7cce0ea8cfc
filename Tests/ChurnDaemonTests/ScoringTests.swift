#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// `churn score` (the real executable) against a real daemon: a file in, a scored file out, in
/// input order, bad rows listed, interruption resumable byte for byte, memory bounded by the
/// chunk size and not the file.
@Suite("Scoring a whole base", .serialized)
struct ScoringTests {
    static let header =
        "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"

    /// A Kaggle-shaped customer row the echo model scores by tenure and charges.
    static func row(_ id: String, _ index: Int) -> String {
        let tenure = index % 72 + 1
        let charges = 20 + Double(index % 97)
        let contract = ["Month-to-month", "One year", "Two year"][index % 3]
        return "\(id),Female,0,Yes,No,\(tenure),Yes,No,DSL,No,Yes,No,No,No,No,\(contract),Yes,Electronic check,\(charges),\(Double(tenure) * charges),No"
    }

    /// Writes `rows` customers (ids `C<n>`); `replace` swaps whole lines by data row index.
    static func writeCustomers(_ path: String, rows: Int, replace: [Int: String] = [:]) throws {
        var text = header + "\n"
        text.reserveCapacity(rows * 140)
        for index in 0..<rows { text += (replace[index] ?? Self.row("C\(index)", index)) + "\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: Running the executable

    struct Run {
        var status: Int32
        var stderr: String
        /// The process's peak resident memory, KiB (its own, from wait4).
        var peakKiB: Int
    }

    static var churnExecutable: String { DaemonHarness.productsDirectory + "/churn" }

    /// Starts `churn` with `arguments`; stderr goes to `stderrPath`.
    static func spawn(_ arguments: [String], stderrPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([churnExecutable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, churnExecutable, &actions, nil, argv, environ)
        guard result == 0 else { throw RawSocketError.system("posix_spawn", result) }
        return pid
    }

    /// Waits for `pid` (off the cooperative pool) and reads what it wrote to stderr.
    static func wait(_ pid: pid_t, stderrPath: String) async -> Run {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                var usage = rusage()
                _ = wait4(pid, &status, 0, &usage)
                let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                continuation.resume(returning: Run(status: exitStatus, stderr: stderr, peakKiB: usage.ru_maxrss))
            }
        }
    }

    static func churn(_ arguments: [String], in folder: String) async throws -> Run {
        let stderrPath = folder + "/stderr-\(UUID().uuidString).txt"
        let pid = try spawn(arguments, stderrPath: stderrPath)
        return await wait(pid, stderrPath: stderrPath)
    }

    /// Runs `churn score` and sends it Ctrl-C once the plugin holds the slow customer `marker`.
    static func interrupted(_ arguments: [String], at marker: String, harness: DaemonHarness) async throws -> Run {
        let stderrPath = harness.root + "/interrupted-\(marker).txt"
        let pid = try spawn(arguments, stderrPath: stderrPath)
        try await harness.waitUntilPluginHas(marker)
        kill(pid, SIGINT)
        return await wait(pid, stderrPath: stderrPath)
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    // MARK: Tests

    @Test func everyGoodRowIsScoredInInputOrderAndBadRowsAreListedWithLineColumnAndReason() async throws {
        let harness = try DaemonHarness()
        try await harness.startWithChampion()
        let input = harness.root + "/customers.csv"
        let bad = [
            4: Self.row("C4", 4).replacingOccurrences(of: "C4,Female,0,Yes,No,5,", with: "C4,Female,0,Yes,No,abc,"),
            1200: Self.row("C1200", 1200).replacingOccurrences(of: ",Month-to-month,", with: ",Weekly,"),
            2500: "C2500,Female,0",
        ]
        try Self.writeCustomers(input, rows: 3000, replace: bad)
        let out = harness.root + "/scores.csv"
        let run = try await Self.churn(
            ["score", input, "--out", out, "--chunk-rows", "100", "--in-flight", "3", "--socket", harness.socketPath, "--keep", "Contract"],
            in: harness.root)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("scored 2997 rows, rejected 3"), "\(run.stderr)")
        let scored = Self.lines(out)
        #expect(scored.first == "customerID,churn_probability,risk_band,model,arm,Contract")
        let expectedIDs = (0..<3000).filter { bad[$0] == nil }.map { "C\($0)" }
        #expect(scored.dropFirst().map { String($0.split(separator: ",")[0]) } == expectedIDs)

        // The same answers as the record form (`predict`), to the six decimals written.
        let client = try await harness.client()
        let (dataset, _) = try DatasetReader.read(input, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(readLabel: false, skipBadRows: true))
        let predictions = try await client.predict(Array(dataset.records.prefix(500)))
        for (line, prediction) in zip(scored.dropFirst(), predictions) {
            let fields = line.split(separator: ",").map(String.init)
            #expect(fields[0] == prediction.customerID)
            #expect(abs(Double(fields[1])! - prediction.churnProbability) < 1e-6)
            #expect(fields[3] == "churn@1" && fields[4] == "champion")
            #expect(fields[2] == (prediction.churnProbability >= 0.5 ? "high" : prediction.churnProbability >= 0.25 ? "medium" : "low"))
        }
        await client.close()

        let rejects = Self.lines(out + ".rejects.csv")
        #expect(rejects.first == "line,column,value,reason")
        #expect(rejects.count == 4, "\(rejects)")
        #expect(rejects.count == 4 && rejects[1].hasPrefix("6,tenure,abc,not a number"), "\(rejects)")
        #expect(rejects.count == 4 && rejects[2].hasPrefix("1202,Contract,Weekly,"), "\(rejects)")
        #expect(rejects.count == 4 && rejects[3].hasPrefix("2502,"), "\(rejects)")
        #expect(!FileManager.default.fileExists(atPath: out + ".progress"), "a finished run removes its checkpoint")

        // --strict stops at the first bad row, naming it.
        let strict = try await Self.churn(
            ["score", input, "--out", harness.root + "/strict.csv", "--strict", "--socket", harness.socketPath], in: harness.root)
        #expect(strict.status == 65)
        #expect(strict.stderr.contains("customers.csv:6: column tenure: \"abc\": not a number"), "\(strict.stderr)")

        // Two shards score every good customer once between them.
        var sharded: [String] = []
        for part in 0..<2 {
            let path = harness.root + "/part-\(part).csv"
            let run = try await Self.churn(["score", input, "--out", path, "--shard", "\(part)/2", "--socket", harness.socketPath], in: harness.root)
            #expect(run.status == 3 || run.status == 0, "\(run.stderr)")
            let ids = Self.lines(path).dropFirst().map { String($0.split(separator: ",")[0]) }
            #expect(ids.count > 1000 && ids.count < 2000, "a shard holds about half: \(ids.count)")
            sharded += ids
        }
        #expect(Set(sharded).count == sharded.count && Set(sharded) == Set(expectedIDs))
        try await harness.stop()
    }

    @Test func anInterruptedRunResumedWritesTheSameBytesAsAnUninterruptedOne() async throws {
        let harness = try DaemonHarness()
        try await harness.startWithChampion()
        let input = harness.root + "/customers.csv"
        // A bad row before the interruption and one after it; the plugin holds row 1500's chunk
        // for a while, and says when it has it.
        try Self.writeCustomers(
            input, rows: 3000,
            replace: [
                700: "C700,Female,0", 2200: Self.row("C2200", 2200).replacingOccurrences(of: "Electronic check", with: "Cheque"),
                1500: Self.row(harness.slowCustomerID(1500, name: "mid"), 1500),
            ])
        let arguments = ["--chunk-rows", "100", "--in-flight", "2", "--socket", harness.socketPath, "--reasons", "2"]

        let reference = harness.root + "/reference.csv"
        let whole = try await Self.churn(["score", input, "--out", reference] + arguments, in: harness.root)
        #expect(whole.status == 3, "\(whole.stderr)")
        try FileManager.default.removeItem(atPath: harness.startedMarker("mid"))

        let out = harness.root + "/scores.csv"
        let interrupted = try await Self.interrupted(["score", input, "--out", out] + arguments, at: "mid", harness: harness)
        #expect(interrupted.status == 130, "\(interrupted.stderr)")
        #expect(interrupted.stderr.contains("--resume"), "\(interrupted.stderr)")
        let partial = Self.lines(out)
        #expect(partial.count > 1 && partial.count < 2999, "a partial output: \(partial.count) lines")
        #expect(partial.allSatisfy { $0.split(separator: ",").count >= 5 }, "every line whole")
        #expect(FileManager.default.fileExists(atPath: out + ".progress"))

        // Without --resume, the checkpoint is not overwritten.
        let fresh = try await Self.churn(["score", input, "--out", out] + arguments, in: harness.root)
        #expect(fresh.status == 64 && fresh.stderr.contains("--resume"), "\(fresh.stderr)")

        let resumed = try await Self.churn(["score", input, "--out", out, "--resume"] + arguments, in: harness.root)
        #expect(resumed.status == 3, "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: reference)))
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: out + ".rejects.csv"))
                == Data(contentsOf: URL(fileURLWithPath: reference + ".rejects.csv")))
        #expect(!FileManager.default.fileExists(atPath: out + ".progress"))

        // Resuming a finished run, or with other settings, is refused with the reason.
        let again = try await Self.churn(["score", input, "--out", out, "--resume"] + arguments, in: harness.root)
        #expect(again.status == 66 && again.stderr.contains("nothing to resume"), "\(again.stderr)")
        try await harness.stop()
    }

    @Test func aRunStoppedInItsFirstChunkResumesWithItsHeader() async throws {
        let harness = try DaemonHarness()
        try await harness.startWithChampion()
        let input = harness.root + "/customers.csv"
        try Self.writeCustomers(input, rows: 400, replace: [3: Self.row(harness.slowCustomerID(1500, name: "first"), 3)])
        let arguments = ["--chunk-rows", "100", "--in-flight", "2", "--socket", harness.socketPath]
        let reference = harness.root + "/reference.csv"
        let whole = try await Self.churn(["score", input, "--out", reference] + arguments, in: harness.root)
        #expect(whole.status == 0, "\(whole.stderr)")
        try FileManager.default.removeItem(atPath: harness.startedMarker("first"))

        let out = harness.root + "/scores.csv"
        let stopped = try await Self.interrupted(["score", input, "--out", out] + arguments, at: "first", harness: harness)
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(Self.lines(out) == ["customerID,churn_probability,risk_band,model,arm"], "stopped before its first chunk was written")
        let resumed = try await Self.churn(["score", input, "--out", out, "--resume"] + arguments, in: harness.root)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: reference)))

        // A run that cannot start (a column to keep that the file lacks) leaves no checkpoint to
        // trip over: the corrected command runs afresh.
        let failed = try await Self.churn(["score", input, "--out", harness.root + "/again.csv", "--keep", "Region"] + arguments, in: harness.root)
        #expect(failed.status == 65 && failed.stderr.contains("Region"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: harness.root + "/again.csv.progress"))
        try await harness.stop()
    }

    @Test func memoryIsBoundedByTheChunkAndNotByTheFile() async throws {
        let harness = try DaemonHarness()
        try await harness.startWithChampion()
        let small = harness.root + "/small.csv"
        let large = harness.root + "/large.csv"
        try Self.writeCustomers(small, rows: 2_000)
        try Self.writeCustomers(large, rows: 120_000)
        let largeBytes = try FileManager.default.attributesOfItem(atPath: large)[.size] as! Int
        let arguments = ["--chunk-rows", "500", "--in-flight", "2", "--quiet", "--socket", harness.socketPath]
        let smallRun = try await Self.churn(["score", small, "--out", harness.root + "/small-scores.csv"] + arguments, in: harness.root)
        let largeRun = try await Self.churn(["score", large, "--out", harness.root + "/large-scores.csv"] + arguments, in: harness.root)
        #expect(smallRun.status == 0 && largeRun.status == 0, "\(smallRun.stderr) \(largeRun.stderr)")
        #expect(Self.lines(harness.root + "/large-scores.csv").count == 120_001)
        // The large file is 60 times the small one; holding it would add at least its size.
        let grown = (largeRun.peakKiB - smallRun.peakKiB) * 1024
        #expect(grown < largeBytes / 2, "peak grew by \(grown / 1024) KiB scoring a \(largeBytes / 1024) KiB file (small run peak \(smallRun.peakKiB) KiB)")
        try await harness.stop()
    }

    @Test func monthsReadAlongsideTheFileAreSentWithEachCustomer() async throws {
        let fixture = try PanelFixture(customers: 300, seed: 45)
        defer { fixture.remove() }
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        try await harness.start()
        let client = try await harness.client()
        let version = try await client.train(
            TrainParams(kind: "random_forest", data: fixture.customersPath, history: fixture.fullHistoryPath, params: ["n_trees": 20], seed: 1))
        _ = try await client.promote(version.ref.description)

        // Months that differ from those the daemon stored at training: more calls, more data.
        let panel = try MonthlyPanel.read(fixture.fullHistoryPath, schema: SyntheticTelco.panelSchema)
        var shifted = panel
        let calls = try #require(panel.columns.firstIndex(of: "support_calls"))
        let dropped = try #require(panel.columns.firstIndex(of: "dropped_calls"))
        for (id, months) in panel.histories {
            shifted.histories[id] = months.map { month in
                var values = month.values
                for column in [calls, dropped] { if case .number(let value) = values[column] { values[column] = .number(value + 6) } }
                return PanelMonth(period: month.period, values: values)
            }
        }
        let shiftedPath = harness.root + "/shifted-history.csv"
        try shifted.writeCSV(to: shiftedPath, ids: fixture.generated.dataset.customers.ids)
        let reread = try MonthlyPanel.read(shiftedPath, schema: SyntheticTelco.panelSchema)

        let dataset = fixture.generated.dataset
        let inline = (0..<dataset.customers.count).map { row in
            var record = dataset.record(at: row)
            if let months = reread.histories[dataset.customers.ids[row]] { record.history = reread.schema.records(of: months) }
            return record
        }
        let expected = try await client.predict(inline, log: false)
        let stored = try await client.predict((0..<dataset.customers.count).map { dataset.record(at: $0) }, log: false)
        #expect(zip(expected, stored).contains { $0.churnProbability != $1.churnProbability }, "the shifted months change some answers")

        let out = harness.root + "/scores.csv"
        let run = try await Self.churn(
            ["score", fixture.customersPath, "--history", shiftedPath, "--out", out, "--chunk-rows", "64", "--socket", harness.socketPath],
            in: harness.root)
        #expect(run.status == 0, "\(run.stderr)")
        let scored = Self.lines(out).dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(scored.count == expected.count)
        for (fields, prediction) in zip(scored, expected) {
            #expect(fields[0] == prediction.customerID && abs(Double(fields[1])! - prediction.churnProbability) < 1e-6, "\(fields)")
        }

        // A history file out of customer order is refused, naming where.
        let lines = Self.lines(shiftedPath)
        let reversed = harness.root + "/reversed-history.csv"
        try ([lines[0]] + lines.dropFirst().reversed()).joined(separator: "\n").appending("\n").write(toFile: reversed, atomically: true, encoding: .utf8)
        let unsorted = try await Self.churn(
            ["score", fixture.customersPath, "--history", reversed, "--out", harness.root + "/unsorted.csv", "--socket", harness.socketPath],
            in: harness.root)
        #expect(unsorted.status == 65 && unsorted.stderr.contains("not sorted by customer id"), "\(unsorted.stderr)")
        // A model without a panel refuses the option.
        _ = try await client.train(TrainParams(kind: "random_forest", data: fixture.customersPath, params: ["n_trees": 5], seed: 2))
        let refused = try await Self.churn(
            ["score", fixture.customersPath, "--history", shiftedPath, "--model", "churn@2", "--out", harness.root + "/no.csv",
             "--socket", harness.socketPath], in: harness.root)
        #expect(refused.status == 64 && refused.stderr.contains("reads no monthly panel"), "\(refused.stderr)")
        await client.close()
        try await harness.stop()
    }

    @Test func aBatchDuringAnABExperimentIsAnsweredByTheSameArmsAsRecords() async throws {
        let harness = try DaemonHarness()
        try await harness.startWithChampion()
        let client = try await harness.client()
        _ = try await client.train(TrainParams(kind: "echo", data: try harness.writeTrainingCSV(rows: 60)))
        _ = try await client.startExperiment(challenger: "churn@2", mode: .ab, share: 0.5)
        let records = (0..<400).map { testCustomer("E\($0)", tenure: Double($0 % 70), charges: 30 + Double($0 % 50)) }
        let predictions = try await client.predict(records)
        let batch = CustomerBatch(records: records)
        let answered = try await client.predictBatch(batch)
        #expect(answered.probabilities.count == 400 && answered.models.count == 2 && answered.answeredBy != nil)
        for (row, prediction) in predictions.enumerated() {
            let answerer = answered.answerer(of: row)
            #expect(answerer.model == prediction.model && answerer.arm == prediction.arm)
            #expect(abs(answered.probabilities[row] - prediction.churnProbability) < 1e-12)
        }
        // A bad value is named by its row in the batch and its field.
        var broken = records
        broken[17]["tenure"] = .string("soon")
        do {
            _ = try await client.predictBatch(CustomerBatch(records: broken))
            Issue.record("a bad value was accepted")
        } catch {
            #expect(error.rpcError?.data?.objectValue?["field"]?.stringValue == "batch[17].tenure", "\(error)")
        }
        await client.close()
        try await harness.stop()
    }
}
