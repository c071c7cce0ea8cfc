#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRPC
import Foundation

/// Scoring a whole base: `churn score` through churnd on generated files of 1M (and 10M)
/// customers, next to the pandas scripts an analyst would write (scikit-learn's forest and
/// LightGBM), on the same files, in one run.
struct ScoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Rows/s and peak memory of churn score on a whole generated base, beside pandas + scikit-learn and pandas + LightGBM.",
        discussion: """
            Generates --customers customers (and each of --large) with `churn generate --months 1 \
            --seed 7`, trains each --kinds model (defaults) and both peers on the first --train-rows \
            customers, then for each file and kind: restarts churnd (so that peak memory is the \
            scoring's), runs `churn score FILE --out scores.csv` and reads the wall time, the client's \
            peak memory (wait4) and churnd's and the plugin's (VmHWM), and CPU seconds of each. The \
            peers (Benchmarks/peers/score_peers.py) read, encode, predict_proba and write the same \
            file in a process of their own. Goals (forest champion): >= 250,000 rows/s end to end, \
            >= 2.5x the pandas + LightGBM script, and all churn processes together <= 300 MB, the \
            same for every file size.
            """)

    @Option(help: "Customers in the main file.")
    var customers = 1_000_000

    @Option(help: "Larger files to score as well (comma-separated counts, e.g. 10000000), to show memory does not grow.")
    var large: String = ""

    @Option(help: "Customers (the file's first) the models are trained on.")
    var trainRows = 20_000

    @Option(help: "churn model kinds to score with, comma-separated (random_forest, gradient_boosting, lstm, lstm_attention).")
    var kinds = "random_forest"

    @Option(help: "churn score --chunk-rows.")
    var chunkRows = 10_000

    @Option(help: "churn score --in-flight.")
    var inFlight = 4

    @Option(help: "Peers: sklearn, lgbm (comma-separated; empty for none).")
    var peers = "sklearn,lgbm"

    @Flag(help: "Also score with each prediction written to churnd's prediction log (churn score --log).")
    var withLog = false

    @Option(help: "Scratch folder (default: a new one under /tmp, removed at the end).")
    var folder: String?

    func run() async throws {
        let scratch = folder ?? makeScratchFolder("churn-bench-score")
        let keep = folder != nil
        defer { if !keep { try? FileManager.default.removeItem(atPath: scratch) } }
        let sizes = [customers] + large.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        printHeader("scoring a whole base: generated telco customers, forest defaults")
        var files: [Int: String] = [:]
        for size in sizes {
            let out = scratch + "/data-\(size)"
            let started = nowNanoseconds()
            let (status, _) = try runPeerProcess(
                [productsDirectory + "/churn", "generate", "--customers", String(size), "--months", "1", "--seed", "7", "--out", out], quiet: true)
            guard status == 0 else { throw ValidationError("churn generate failed for \(size) customers") }
            files[size] = out + "/customers.csv"
            let bytes = (try? FileManager.default.attributesOfItem(atPath: out + "/customers.csv")[.size] as? Int) ?? 0
            print(String(format: "generated %d customers (%.0f MB) in %.1f s", size, Double(bytes) / 1e6, Double(nowNanoseconds() - started) / 1e9))
            fflush(nil)
            try? FileManager.default.removeItem(atPath: out + "/history.csv")
        }
        let trainPath = scratch + "/train.csv"
        try Self.head(of: files[customers]!, lines: trainRows + 1, to: trainPath)

        // churn: train each kind once, then score each file with each kind.
        var results: [ScoreResult] = []
        let daemon = try BenchDaemon(folder: scratch)
        try await daemon.start()
        var versions: [String: String] = [:]
        for kind in kinds.split(separator: ",").map(String.init) {
            let client = try await ChurnClient.connect(socketPath: daemon.socketPath)
            let started = nowNanoseconds()
            let version = try await client.train(TrainParams(kind: kind, data: trainPath, seed: 1))
            print(String(format: "trained %@ on %d rows in %.1f s (held-back ROC-AUC %.3f)", version.ref.description, trainRows,
                Double(nowNanoseconds() - started) / 1e9, version.metrics["test_roc_auc"] ?? .nan))
            versions[kind] = version.ref.description
            fflush(nil)
            await client.close()
        }
        for kind in kinds.split(separator: ",").map(String.init) {
            for logging in withLog ? [false, true] : [false] {
                for size in sizes {
                    try await daemon.restart(champion: versions[kind]!)
                    let result = try await daemon.score(
                        file: files[size]!, rows: size, out: scratch + "/scores.csv", chunkRows: chunkRows, inFlight: inFlight,
                        log: logging, name: "churn score, \(kind)\(logging ? ", --log" : "")")
                    results.append(result)
                    print(String(format: "%@ on %d rows: %.0f rows/s", result.name, size, result.rate))
                    fflush(nil)
                    try? FileManager.default.removeItem(atPath: scratch + "/scores.csv")
                }
            }
        }
        daemon.stop()

        // The peers, on the same files.
        let peerList = peers.split(separator: ",").map(String.init)
        if !peerList.isEmpty {
            let script = peerScript("score_peers.py")
            let (status, output) = try runPeerProcess(
                ["/usr/bin/env", "python3", script, "train", trainPath, scratch + "/peers", "--id", "customerID", "--label", "Churn",
                 "--positive", "Yes", "--models", peerList.joined(separator: ",")], quiet: false)
            guard status == 0 else { throw ValidationError("the peers could not train (pip install pandas scikit-learn lightgbm joblib)") }
            print("peers trained: \(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
            for peer in peerList {
                for size in sizes {
                    let (status, output) = try runPeerProcess(
                        ["/usr/bin/env", "python3", script, "score", scratch + "/peers", peer, files[size]!, scratch + "/peer-scores.csv"], quiet: false)
                    guard status == 0, let json = try? JSONParser.parse(Array(output)), case .object(let fields) = json,
                        let seconds = fields["seconds"]?.numberValue, let peak = fields["peak_bytes"]?.numberValue
                    else { throw ValidationError("the \(peer) peer failed on \(size) rows") }
                    results.append(
                        ScoreResult(
                            name: peer == "lgbm" ? "pandas + LightGBM" : "pandas + scikit-learn forest", rows: size, seconds: seconds,
                            peaks: ["python": Int(peak)], cpu: [:]))
                    try? FileManager.default.removeItem(atPath: scratch + "/peer-scores.csv")
                }
            }
        }
        report(results, sizes: sizes)
    }

    private func report(_ results: [ScoreResult], sizes: [Int]) {
        printHeader("results (one run)")
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        print(cell("run", 46) + cell("rows", 12) + cell("seconds", 9) + cell("rows/s", 10) + cell("peak MB (client/churnd/plugin = all)", 38) + "CPU s (client/churnd/plugin)")
        for result in results {
            let peaks: String
            if let python = result.peaks["python"] {
                peaks = String(format: "%.0f", Double(python) / 1e6)
            } else {
                peaks = String(
                    format: "%.0f / %.0f / %.0f = %.0f", Double(result.peaks["client"] ?? 0) / 1e6, Double(result.peaks["churnd"] ?? 0) / 1e6,
                    Double(result.peaks["plugin"] ?? 0) / 1e6, Double(result.allPeak) / 1e6)
            }
            let cpu = result.cpu.isEmpty ? "" : String(format: "%.1f / %.1f / %.1f", result.cpu["client"] ?? 0, result.cpu["churnd"] ?? 0, result.cpu["plugin"] ?? 0)
            print(cell(result.name, 46) + cell(String(result.rows), 12) + cell(String(format: "%.2f", result.seconds), 9)
                + cell(String(format: "%.0f", result.rate), 10) + cell(peaks, 38) + cpu)
        }
        print("")
        for size in sizes {
            let ours = results.filter { $0.rows == size && $0.name == "churn score, random_forest" }.first
            let lightGBM = results.filter { $0.rows == size && $0.name == "pandas + LightGBM" }.first
            let forest = results.filter { $0.rows == size && $0.name == "pandas + scikit-learn forest" }.first
            guard let ours else { continue }
            print(String(format: "goal (%d rows): >= 250,000 rows/s end to end with the forest: %.0f rows/s: %@", size, ours.rate, ours.rate >= 250_000 ? "met" : "NOT met"))
            if let lightGBM {
                let ratio = ours.rate / lightGBM.rate
                print(String(format: "goal (%d rows): >= 2.5x pandas + LightGBM's rows/s: %.2fx (%.0f vs %.0f): %@", size, ratio, ours.rate, lightGBM.rate, ratio >= 2.5 ? "met" : "NOT met"))
            }
            if let forest {
                print(String(format: "(%d rows) vs pandas + scikit-learn's forest (same forest parameters): %.2fx", size, ours.rate / forest.rate))
            }
            print(String(format: "goal (%d rows): all churn processes' peak memory <= 300 MB: %.0f MB: %@", size, Double(ours.allPeak) / 1e6, ours.allPeak <= 300_000_000 ? "met" : "NOT met"))
        }
    }

    /// The first `lines` lines of a file, written to `path`.
    static func head(of file: String, lines: Int, to path: String) throws {
        guard let input = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
        defer { try? input.close() }
        var kept: [UInt8] = []
        var count = 0
        while count < lines, let data = try input.read(upToCount: 1 << 20), !data.isEmpty {
            for byte in data {
                kept.append(byte)
                if byte == UInt8(ascii: "\n") {
                    count += 1
                    if count == lines { break }
                }
            }
        }
        try Data(kept).write(to: URL(fileURLWithPath: path))
    }
}

/// One scoring run's figures.
struct ScoreResult {
    var name: String
    var rows: Int
    var seconds: Double
    /// Peak resident bytes by process (client, churnd, plugin; or python).
    var peaks: [String: Int]
    /// CPU seconds by process.
    var cpu: [String: Double]
    var rate: Double { Double(rows) / seconds }
    var allPeak: Int { peaks.values.reduce(0, +) }
}

/// churnd from this build on a home of its own, restartable (so each run's peak memory is its own).
final class BenchDaemon {
    let folder: String
    let socketPath: String
    private var process: Process?

    init(folder: String) throws {
        self.folder = folder
        socketPath = folder + "/d.sock"
    }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/churnd")
        process.arguments = ["--socket", socketPath, "--home", folder + "/home", "--log-level", "error"]
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if UnixSocketFile.isLive(socketPath), let client = try? await ChurnClient.connect(socketPath: socketPath) {
                let plugins = (try? await client.plugins()) ?? []
                await client.close()
                if !plugins.isEmpty, plugins.allSatisfy({ $0.state == "ready" || $0.state == "refused" }) { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("churnd did not start")
    }

    func restart(champion: String) async throws {
        stop()
        try await start()
        let client = try await ChurnClient.connect(socketPath: socketPath)
        _ = try await client.promote(champion)
        await client.close()
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs `churn score` on `file` and measures it and the daemon's processes.
    func score(file: String, rows: Int, out: String, chunkRows: Int, inFlight: Int, log: Bool, name: String) async throws -> ScoreResult {
        guard let daemonPID = process?.processIdentifier else { throw ValidationError("churnd is not running") }
        let client = try await ChurnClient.connect(socketPath: socketPath)
        // Load the champion before timing (the first predict loads it into its plugin).
        let version = try await client.model("champion")
        let schema = try DatasetSchema.decode(version.datasetSchema!, source: "champion")
        let (sample, _) = try DatasetReader.read(
            Self.firstLines(of: file, count: 3), schema: schema, options: DatasetReadOptions(readLabel: false))
        _ = try await client.predict(sample.records)
        let plugin = try await client.plugins().first { $0.kind == version.kind }?.pid
        await client.close()
        let cpuBefore = (cpuSeconds(pid: daemonPID), plugin.map { cpuSeconds(pid: Int32($0)) } ?? 0)

        let executable: String = productsDirectory + "/churn"
        let arguments: [String] = [
            executable, "score", file, "--out", out, "--chunk-rows", String(chunkRows), "--in-flight", String(inFlight), "--quiet",
            "--socket", socketPath,
        ] + (log ? ["--log"] : [])
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let started = nowNanoseconds()
        guard posix_spawn(&pid, argv[0]!, nil, nil, argv, environ) == 0 else { throw ValidationError("cannot start churn score") }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Double(nowNanoseconds() - started) / 1e9
        guard status == 0 else { throw ValidationError("churn score exited with status \(status >> 8)") }
        var peaks = ["client": usage.ru_maxrss * 1024, "churnd": peakResidentBytes(pid: daemonPID)]
        var cpu = [
            "client": Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
                + Double(usage.ru_stime.tv_usec) / 1e6,
            "churnd": cpuSeconds(pid: daemonPID) - cpuBefore.0,
        ]
        if let plugin {
            peaks["plugin"] = peakResidentBytes(pid: Int32(plugin))
            cpu["plugin"] = cpuSeconds(pid: Int32(plugin)) - cpuBefore.1
        }
        return ScoreResult(name: name, rows: rows, seconds: seconds, peaks: peaks, cpu: cpu)
    }

    /// A small file of the header and the first `count` rows of `file`.
    static func firstLines(of file: String, count: Int) throws -> String {
        let path = file + ".sample.csv"
        try ScoreBenchmark.head(of: file, lines: count + 1, to: path)
        return path
    }
}
