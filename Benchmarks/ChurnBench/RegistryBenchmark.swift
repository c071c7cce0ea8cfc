import ArgumentParser
import ChurnData
import ChurnProtocol
import ChurnRegistry
import Foundation

/// Registry issue benchmark: register and load artifacts of 1, 10 and 100 MB: time, compression
/// ratio and peak memory (each size in its own process). Goal: loading 10 MB under 50 ms.
struct RegistryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Register and load 1, 10 and 100 MB artifacts: time, compression ratio, peak memory.",
        discussion: """
            Artifacts are model-like: Float32 weights drawn from a normal distribution and rounded to \
            1/1024, which compresses about as well as trained weights do. A load reads the blob from \
            SQLite, inflates it within the recorded size and checks its sha256.
            """)

    @Option(help: "Sizes in MB.")
    var sizes: [Int] = [1, 10, 100]

    @Option(help: "Internal: run one size in this process and print JSON.")
    var child: Int?

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
    }

    private func runChild(megabytes: Int) async throws {
        let folder = makeScratchFolder("churn-bench-registry")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = try ModelRegistry(path: folder + "/registry.sqlite")
        var random = SeededRandom(seed: 7)
        let count = megabytes * 1_000_000 / 4
        var weights = [Float](repeating: 0, count: count)
        for index in 0..<count { weights[index] = Float((random.normal() * 1024).rounded() / 1024) }
        let artifact = weights.withUnsafeBytes { Data($0) }
        weights = []
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
