import ArgumentParser
import ChurnML
import Foundation

/// ChurnML's matrix multiply: GFLOP/s on the shapes the LSTM uses and on square ones, against
/// the machine's peak.
struct GEMMBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "ChurnML's matrix multiply: GFLOP/s by shape, against the machine's peak.")

    func run() async throws {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let megahertz = info.split(separator: "\n").first { $0.hasPrefix("cpu MHz") }
            .flatMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) } ?? 0
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Two vector pipes per core; FMA counts 2 flops per lane.
        let widest = flags.contains("avx512f") ? 16.0 : flags.contains("avx2") ? 8.0 : 4.0
        let machinePeak = megahertz / 1000 * Double(cores) * 2 * widest * (flags.contains("fma") ? 2 : 1)
        printHeader("peak")
        print(String(format: "machine: %d cores at %.0f MHz with %@; upper bound %.0f GFLOP/s (two full-width FMAs per cycle per core)", cores, megahertz,
            flags.contains("avx512f") ? "AVX-512 + FMA" : flags.contains("avx2") ? "AVX2 + FMA" : "SSE", machinePeak))
        print("this build targets baseline x86-64: 128-bit SSE, multiply and add not fused, so it can use a fraction of that bound")
        printHeader("C = A·B (GFLOP/s, median of repeats)")
        for (m, n, k, label) in [
            (64, 128, 36, "LSTM step (batch 64, hidden 32)"), (768, 128, 4, "LSTM input projection, 12 steps"),
            (32, 128, 704, "recurrent weight gradient"), (256, 256, 256, "square 256"), (1024, 1024, 1024, "square 1024"),
        ] {
            var random = ChurnRandom(seed: 1)
            let a = Matrix(rows: m, columns: k, values: (0..<(m * k)).map { _ in Float(random.unit()) })
            let b = Matrix(rows: k, columns: n, values: (0..<(k * n)).map { _ in Float(random.unit()) })
            let flops = 2.0 * Double(m * n * k)
            let repeats = max(3, Int(2e9 / flops))
            var times: [Double] = []
            for _ in 0..<min(repeats, 2000) {
                let start = nowNanoseconds()
                _ = GEMM.multiply(a, b)
                times.append(Double(nowNanoseconds() - start) / 1e9)
            }
            times.sort()
            let rate = flops / times[times.count / 2] / 1e9
            print(String(format: "%5d x %4d x %4d  %7.1f GFLOP/s  %4.1f%% of the bound   ", m, n, k, rate, 100 * rate / machinePeak) + label)
        }
    }
}
