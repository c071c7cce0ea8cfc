#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRegistry
import ChurnRPC
import Foundation
import Histogram
import Synchronization

/// Routing issue benchmark: many clients sending one-customer predicts at once, through churnd to
/// the random forest, with dynamic batching on and off and under a shadow experiment, next to the
/// raw Unix-socket floor for the same number of connections and message sizes.
struct RoutingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Throughput and latency of single-row predicts from many clients, batching on and off.",
        discussion: """
            Starts churnd from this build with the random forest trained on --data (the real telco \
            file; synthetic data when it is missing), then runs --clients connections sending \
            one-customer predicts (real customers, in turn) for --seconds each: batching on, \
            batching off, and batching on under a shadow experiment. The floor is a raw blocking \
            echo of the same request and response sizes over the same number of connections. \
            Goals (serving core): >= 40,000 predictions/s with zero errors and churnd CPU <= 12 µs             per prediction. After each run the daemon's batch histograms (metrics) are summarised.
            """)

    @Option(help: "Concurrent client connections.")
    var clients = 32

    @Option(help: "Seconds per run.")
    var seconds = 20.0

    @Option(help: "Labelled telco CSV to train the forest on and draw customers from.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    @Option(help: "Runs, comma-separated: on (batching on), off (batching off), shadow (batching on, shadow experiment), nolog (batching on, prediction log off), postgres and postgres-shadow (batching on, the registry and prediction log on a shared PostgreSQL database).")
    var runs = "on,off,shadow"

    @Option(help: "A PostgreSQL server for the postgres runs (a fresh database is created there); default CHURN_TEST_POSTGRES_URL, which scripts/with-postgres sets.")
    var postgresURL: String?

    func validate() throws {
        let known: Set = ["on", "off", "shadow", "nolog", "postgres", "postgres-shadow"]
        let asked = runs.split(separator: ",").map(String.init)
        guard !asked.isEmpty, asked.allSatisfy(known.contains) else {
            throw ValidationError("--runs takes on, off, shadow, nolog, postgres and postgres-shadow, got \(runs)")
        }
        if asked.contains(where: { $0.hasPrefix("postgres") }), postgresServer == nil {
            throw ValidationError("the postgres runs need a server: --postgres-url URL, or run under scripts/with-postgres")
        }
    }

    private var postgresServer: String? { postgresURL ?? ProcessInfo.processInfo.environment["CHURN_TEST_POSTGRES_URL"] }

    /// A fresh database on the PostgreSQL server, as `--registry` takes it.
    private func freshPostgresRegistry() throws -> String {
        let server = try PostgresAddress(url: postgresServer!)
        let created = try server.creatingDatabase(named: "churn_bench_\(getpid())_\(UInt32.random(in: 0...UInt32.max))")
        return RegistryLocation.postgres(created).url
    }

    func run() async throws {
        let asked = runs.split(separator: ",").map(String.init)
        let (path, customers) = try loadCustomers()
        let requestBytes = try JSONEncoder().encode(
            RPCRequest(id: .number(1), method: "predict", params: PredictParams(customers: [customers[0]]))
        ).count
        let responseBytes = try JSONEncoder().encode(
            RPCSuccessResponse(
                id: .number(1),
                result: PredictResult(predictions: [
                    Prediction(
                        customerID: "7590-VHVEG", churnProbability: 0.6234567, churn: true,
                        model: ModelRef(name: "churn", version: 1), arm: "champion")
                ]))
        ).count

        printHeader("raw Unix-socket echo, \(clients) connections, \(Int(seconds)) s (the floor)")
        let floor = RawEchoLoad.run(connections: clients, seconds: seconds, requestBytes: requestBytes, responseBytes: responseBytes)
        print(floor.line)

        // The nolog run's daemon configuration: everything default but the prediction log.
        let noLogConfig = FileManager.default.temporaryDirectory.appendingPathComponent("churn-bench-nolog-\(getpid()).json").path
        try Data(#"{"log_predictions": false}"#.utf8).write(to: URL(fileURLWithPath: noLogConfig))
        defer { try? FileManager.default.removeItem(atPath: noLogConfig) }

        var results: [(String, LoadResult)] = []
        let postgresRuns: [(String, String, [String], Bool)] =
            postgresServer == nil
            ? []
            : [
                ("postgres", "batching on, PostgreSQL registry", ["--registry", try freshPostgresRegistry()], false),
                ("postgres-shadow", "shadow experiment, PostgreSQL", ["--registry", try freshPostgresRegistry()], true),
            ]
        for (key, name, arguments, experiment) in [
            ("on", "batching on", [String](), false), ("off", "batching off", ["--no-batching"], false),
            ("shadow", "batching on, shadow experiment", [], true),
            ("nolog", "batching on, no prediction log", ["--config", noLogConfig], false),
        ] + postgresRuns where asked.contains(key) {
            let daemon = try await DaemonProcess.start(kind: "random_forest", data: path, arguments: arguments, versions: experiment ? 2 : 1)
            defer { daemon.stop() }
            if experiment {
                let admin = try await ChurnClient.connect(socketPath: daemon.socketPath)
                _ = try await admin.startExperiment(challenger: "2", mode: "shadow")
                await admin.close()
            }
            printHeader("churnd → random forest, \(name), \(clients) clients, \(Int(seconds)) s")
            let probe = try await ChurnClient.connect(socketPath: daemon.socketPath)
            let pluginPIDs = try await probe.plugins().compactMap(\.pid).map { Int32($0) }
            await probe.close()
            let cpuBefore = (cpuSeconds(pid: daemon.pid), pluginPIDs.map { cpuSeconds(pid: $0) }.reduce(0, +), cpuSeconds(pid: getpid()))
            var result = try await load(socketPath: daemon.socketPath, customers: customers)
            let cpuAfter = (cpuSeconds(pid: daemon.pid), pluginPIDs.map { cpuSeconds(pid: $0) }.reduce(0, +), cpuSeconds(pid: getpid()))
            let answered = result.perSecond * (seconds + 1)  // the warm-up second is counted in CPU too
            result.daemonMicroseconds = (cpuAfter.0 - cpuBefore.0) / answered * 1e6
            result.pluginMicroseconds = (cpuAfter.1 - cpuBefore.1) / answered * 1e6
            result.clientMicroseconds = (cpuAfter.2 - cpuBefore.2) / answered * 1e6
            print(result.line)
            if !arguments.contains("--no-batching") {
                let scrape = try await ChurnClient.connect(socketPath: daemon.socketPath)
                print(BatchHistogramSummary(prometheus: try await scrape.metrics()).line)
                await scrape.close()
            }
            results.append((name, result))
        }

        printHeader("summary")
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        func row(_ name: String, _ result: LoadResult, _ ratio: Double) -> String {
            cell(name, 32) + String(format: "%13.0f %9.1f %9.1f %7d %9.2f", result.perSecond, result.p50, result.p99, result.errors, ratio)
                + (result.daemonMicroseconds.map { String(format: " %10.1f %10.1f", $0, result.pluginMicroseconds ?? 0) } ?? "")
        }
        print(cell("run", 32) + "predictions/s    p50 µs    p99 µs  errors  vs floor  churnd µs  plugin µs")
        print(row("raw echo floor", floor, 1))
        for (name, result) in results { print(row(name, result, result.perSecond / floor.perSecond)) }
        for (sqlite, postgres) in [("batching on", "batching on, PostgreSQL registry"), ("batching on, shadow experiment", "shadow experiment, PostgreSQL")] {
            guard let a = results.first(where: { $0.0 == sqlite })?.1, let b = results.first(where: { $0.0 == postgres })?.1 else { continue }
            print(
                String(
                    format: "%@: PostgreSQL / SQLite registry: throughput %.2fx, p99 %.2fx (the predict path never waits on the database)",
                    sqlite, b.perSecond / a.perSecond, b.p99 / a.p99))
        }
        if let on = results.first(where: { $0.0 == "batching on" })?.1 {
            if let off = results.first(where: { $0.0 == "batching off" })?.1 {
                print(String(format: "batching on / off throughput = %.2f", on.perSecond / off.perSecond))
            }
            let met = on.perSecond >= 40_000 && on.errors == 0
            print(
                String(format: "goal: >= 40000 predictions/s with zero errors (batching on): %.0f, %d errors: ", on.perSecond, on.errors)
                    + (met ? "met" : "NOT met"))
            if let cpu = on.daemonMicroseconds {
                print(String(format: "goal: churnd CPU <= 12 µs per prediction (batching on): %.1f µs: ", cpu) + (cpu <= 12 ? "met" : "NOT met"))
            }
        }
    }

    /// The training file and its customers as clients would send them.
    private func loadCustomers() throws -> (String, [CustomerRecord]) {
        var path = data
        if !FileManager.default.fileExists(atPath: path) {
            print("note: \(path) is missing; using 7,000 SYNTHETIC customers instead")
            let folder = makeScratchFolder("churn-routing-data")
            path = try SyntheticTelco.write(SyntheticTelco.generate(customers: 7000, seed: 3), to: folder).customers
        }
        let schema = BuiltInSchemas.detect(header: CSVReader.header(of: path)) ?? BuiltInSchemas.kaggle
        let (dataset, _) = try DatasetReader.read(path, schema: schema)
        return (path, dataset.records)
    }

    /// `clients` connections, each sending one customer at a time until the deadline.
    private func load(socketPath: String, customers: [CustomerRecord]) async throws -> LoadResult {
        let clients = self.clients
        let warmUp = nowNanoseconds() + 1_000_000_000
        let deadline = warmUp + UInt64(seconds * 1e9)
        let perClient = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
            for clientIndex in 0..<clients {
                group.addTask {
                    let client = try await ChurnClient.connect(socketPath: socketPath)
                    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
                    var errors = 0
                    var next = clientIndex
                    while true {
                        let start = nowNanoseconds()
                        guard start < deadline else { break }
                        do {
                            _ = try await client.predict([customers[next % customers.count]])
                            if start >= warmUp { _ = latencies.record(nowNanoseconds() - start) }
                        } catch {
                            if start >= warmUp { errors += 1 }
                        }
                        next += clients
                    }
                    await client.close()
                    return (latencies, errors)
                }
            }
            var all: [(Histogram<UInt64>, Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        for (histogram, _) in perClient { merged.add(histogram) }
        let errors = perClient.reduce(0) { $0 + $1.1 }
        return LoadResult(
            perSecond: Double(merged.totalCount) / seconds, p50: Double(merged.valueAtPercentile(50)) / 1000,
            p99: Double(merged.valueAtPercentile(99)) / 1000, errors: errors)
    }
}

/// Answers per second and latency of a load run.
struct LoadResult {
    let perSecond: Double
    let p50: Double
    let p99: Double
    let errors: Int
    /// CPU time churnd and the plugins spent per prediction, when measured.
    var daemonMicroseconds: Double?
    var pluginMicroseconds: Double?
    var clientMicroseconds: Double?

    var line: String {
        var text = String(format: "%.0f predictions/s   p50 %.1f µs   p99 %.1f µs   errors %d", perSecond, p50, p99, errors)
        if let daemonMicroseconds, let pluginMicroseconds, let clientMicroseconds {
            text += String(
                format: "\nCPU per prediction: churnd %.1f µs, plugins %.1f µs, clients (this process) %.1f µs",
                daemonMicroseconds, pluginMicroseconds, clientMicroseconds)
        }
        return text
    }
}

/// A blocking echo server with a thread per connection and blocking clients on threads: the most
/// request/response pairs per second the machine's Unix sockets give at this concurrency.
enum RawEchoLoad {
    static func run(connections: Int, seconds: Double, requestBytes: Int, responseBytes: Int) -> LoadResult {
        let folder = makeScratchFolder("churn-echo-load")
        let path = folder + "/echo.sock"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = UnixSocketFile.socketAddress(path)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        listen(listener, Int32(connections))
        let accepter = Thread {
            for _ in 0..<connections {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                Thread {
                    var request = [UInt8](repeating: 0, count: 4 + requestBytes)
                    let response = [UInt8](repeating: 0x20, count: 4 + responseBytes)
                    while RawEcho.readFully(connection, &request) {
                        _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                    close(connection)
                }.start()
            }
        }
        accepter.start()
        let warmUp = nowNanoseconds() + 1_000_000_000
        let deadline = warmUp + UInt64(seconds * 1e9)
        let results = Mutex<[Histogram<UInt64>]>([])
        let finished = DispatchGroup()
        for _ in 0..<connections {
            finished.enter()
            Thread {
                defer { finished.leave() }
                guard let client = UnixSocketFile.connectBlocking(path) else { return }
                var request = [UInt8](repeating: 0x20, count: 4 + requestBytes)
                request[2] = UInt8(requestBytes >> 8)
                request[3] = UInt8(requestBytes & 0xff)
                var response = [UInt8](repeating: 0, count: 4 + responseBytes)
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
                while true {
                    let start = nowNanoseconds()
                    guard start < deadline else { break }
                    _ = request.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard RawEcho.readFully(client, &response) else { break }
                    if start >= warmUp { _ = histogram.record(nowNanoseconds() - start) }
                }
                close(client)
                results.withLock { $0.append(histogram) }
            }.start()
        }
        finished.wait()
        close(listener)
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        for histogram in results.withLock({ $0 }) { merged.add(histogram) }
        return LoadResult(
            perSecond: Double(merged.totalCount) / seconds, p50: Double(merged.valueAtPercentile(50)) / 1000,
            p99: Double(merged.valueAtPercentile(99)) / 1000, errors: 0)
    }
}

/// The batch histograms of a `metrics` scrape (Prometheus text): mean rows per plugin call and
/// the queue wait (mean, and the share of requests that waited at most 1 ms).
struct BatchHistogramSummary {
    var calls = 0.0
    var rows = 0.0
    var waits = 0.0
    var waitSeconds = 0.0
    var waitsWithin1ms = 0.0

    init(prometheus text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = parts[0]
            if name.hasPrefix("churn_batch_rows_count") { calls += value }
            if name.hasPrefix("churn_batch_rows_sum") { rows += value }
            if name.hasPrefix("churn_batch_queue_wait_seconds_count") { waits += value }
            if name.hasPrefix("churn_batch_queue_wait_seconds_sum") { waitSeconds += value }
            if name.hasPrefix("churn_batch_queue_wait_seconds_bucket"), name.contains("le=\"0.001\"") { waitsWithin1ms += value }
        }
    }

    var line: String {
        guard calls > 0, waits > 0 else { return "batches: none recorded" }
        return String(
            format: "batches: %.0f plugin calls, %.2f rows per call; queue wait mean %.1f µs, %.1f%% of requests waited <= 1 ms",
            calls, rows / calls, waitSeconds / waits * 1e6, waitsWithin1ms / waits * 100)
    }
}
