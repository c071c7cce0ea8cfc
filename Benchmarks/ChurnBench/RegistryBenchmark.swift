import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRegistry
import Foundation
import Histogram
import Synchronization

/// Registry benchmark: register and load artifacts of 1, 10 and 100 MB: time, compression ratio
/// and peak memory (each size in its own process), then predict latency while churnd registers a
/// 100 MB version and while it verifies the registry. Goals: loading 10 MB under 50 ms; predict
/// p99 during the registry work at most 2x its idle p99.
struct RegistryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Register and load 1, 10 and 100 MB artifacts; predict p99 while churnd registers and verifies.",
        discussion: """
            Artifacts are model-like: Float32 weights drawn from a normal distribution and rounded to \
            1/1024, which compresses about as well as trained weights do. A load reads the blob from \
            SQLite, inflates it within the recorded size and checks its sha256.
            """)

    @Option(help: "Sizes in MB.")
    var sizes: [Int] = [1, 10, 100]

    @Option(help: "Internal: run one size in this process and print JSON.")
    var child: Int?

    @Option(help: "Size in MB of the version registered under load (0: skip the under-load part).")
    var underLoad = 100

    @Option(help: "Concurrent predict clients during the under-load part.")
    var clients = 4

    func run() async throws {
        if let child {
            try await runChild(megabytes: child)
            return
        }
        printHeader("register and load model-like artifacts (SQLite WAL, zlib level 6, sha256)")
        print("   size   compressed  ratio   register      load p50   load max   peak RSS")
        for size in sizes {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: productsDirectory + "/churn-bench")
            process.arguments = ["registry", "--child", String(size)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            print(String(decoding: data, as: UTF8.self), terminator: "")
        }
        print("goal: load of 10 MB under 50 ms")
        if underLoad > 0 { try await predictWhileRegistryWorks(megabytes: underLoad) }
    }

    /// Predict latency (`clients` sequential clients, echo plugin) idle, while churnd registers a
    /// `megabytes` MB export file, and while it verifies every artifact of its registry.
    private func predictWhileRegistryWorks(megabytes: Int) async throws {
        printHeader("predict latency while churnd registers a \(megabytes) MB version and verifies (\(clients) clients)")
        let folder = makeScratchFolder("churn-bench-load")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let exportPath = folder + "/big.churnmodel"
        do {
            let registry = try ModelRegistry(path: folder + "/source.sqlite")
            let version = try await registry.register(
                ModelRegistration(name: "big", kind: "echo", pluginVersion: "1"), artifact: Self.modelLike(megabytes: megabytes),
                user: "bench")
            try await registry.export(version.ref).write(to: URL(fileURLWithPath: exportPath))
        }
        let daemon = try await DaemonProcess.start(kind: "echo", data: nil)
        defer { daemon.stop() }
        let socket = daemon.socketPath
        let customer = sampleCustomer
        /// Predicts from `clients` connections until `work` finishes (or for `seconds` without work).
        let clients = self.clients
        func measure(seconds: Double, _ work: (@Sendable () async throws -> Void)?) async throws -> (LatencySummary, Double) {
            let started = nowNanoseconds()
            let stop = StopFlag()
            let histogram = try await withThrowingTaskGroup(of: Histogram<UInt64>?.self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        let client = try await ChurnClient.connect(socketPath: socket)
                        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                        while !stop.value.load(ordering: .relaxed) {
                            let start = nowNanoseconds()
                            _ = try await client.predict([customer])
                            _ = latencies.record(nowNanoseconds() - start)
                        }
                        await client.close()
                        return latencies
                    }
                }
                group.addTask {
                    if let work { try await work() } else { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
                    stop.value.store(true, ordering: .relaxed)
                    return nil
                }
                var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                for try await partial in group { if let partial { merged.add(partial) } }
                return merged
            }
            return (LatencySummary(histogram), Double(nowNanoseconds() - started) / 1e9)
        }
        let admin = try await ChurnClient.connect(socketPath: socket)
        for _ in 0..<500 { _ = try await admin.predict([customer]) }
        let (idle, _) = try await measure(seconds: 5, nil)
        print("idle:                 \(idle)")
        let (registering, registerSeconds) = try await measure(seconds: 0) {
            _ = try await admin.importModel(file: exportPath, name: "big")
        }
        print("during register:      \(registering)   (register took \(String(format: "%.2f", registerSeconds)) s)")
        let (verifying, verifySeconds) = try await measure(seconds: 0) {
            let result = try await admin.verify()
            guard result.healthy else { throw ValidationError("verify found problems: \(result.artifactProblems)") }
        }
        print("during verify:        \(verifying)   (verify took \(String(format: "%.2f", verifySeconds)) s)")
        await admin.close()
        for (name, summary) in [("register", registering), ("verify", verifying)] {
            let ratio = summary.p99 / idle.p99
            print("predict p99 during \(name) / idle p99 = " + String(format: "%.2f   goal <= 2.00: ", ratio) + (ratio <= 2 ? "met" : "NOT met"))
        }
    }

    /// Float32 weights drawn from a normal distribution and rounded to 1/1024: compresses about
    /// as well as trained weights do.
    static func modelLike(megabytes: Int) -> Data {
        var random = SeededRandom(seed: 7)
        let count = megabytes * 1_000_000 / 4
        var weights = [Float](repeating: 0, count: count)
        for index in 0..<count { weights[index] = Float((random.normal() * 1024).rounded() / 1024) }
        return weights.withUnsafeBytes { Data($0) }
    }

    private func runChild(megabytes: Int) async throws {
        let folder = makeScratchFolder("churn-bench-registry")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = try ModelRegistry(path: folder + "/registry.sqlite")
        let artifact = Self.modelLike(megabytes: megabytes)
        let registerStart = nowNanoseconds()
        let version = try await registry.register(
            ModelRegistration(name: "bench", kind: "bench", pluginVersion: "1"), artifact: artifact, user: "bench")
        let registerSeconds = Double(nowNanoseconds() - registerStart) / 1e9
        var loads: [Double] = []
        for _ in 0..<7 {
            let start = nowNanoseconds()
            let loaded = try await registry.artifact(of: version.ref)
            loads.append(Double(nowNanoseconds() - start) / 1e6)
            precondition(loaded.count == artifact.count)
        }
        loads.sort()
        print(
            String(
                format: "%4d MB   %7.1f MB   %4.2f   %7.0f ms   %7.1f ms   %6.1f ms   %5.0f MB", megabytes,
                Double(version.artifact.compressedBytes) / 1e6,
                Double(version.artifact.rawBytes) / Double(version.artifact.compressedBytes), registerSeconds * 1000,
                loads[loads.count / 2], loads.last!, Double(peakResidentBytes()) / 1e6))
    }
}

/// Tells load clients to stop.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
