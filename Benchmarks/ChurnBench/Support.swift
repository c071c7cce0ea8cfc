#if canImport(Glibc)
import Glibc
#endif
import ChurnProtocol
import Foundation
import Histogram

/// Nanoseconds on the monotonic clock.
@inline(__always) func nowNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Latency percentiles of a histogram of nanoseconds, in microseconds.
struct LatencySummary: CustomStringConvertible {
    let p50: Double
    let p99: Double
    let mean: Double
    let count: UInt64

    init(_ histogram: Histogram<UInt64>) {
        p50 = Double(histogram.valueAtPercentile(50)) / 1000
        p99 = Double(histogram.valueAtPercentile(99)) / 1000
        mean = histogram.mean / 1000
        count = histogram.totalCount
    }

    var description: String {
        String(format: "p50 %8.1f µs   p99 %8.1f µs   mean %8.1f µs   (n=%d)", p50, p99, mean, count)
    }
}

/// The folder holding this executable (and, in a build folder, churnd and the plugins).
var productsDirectory: String {
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (path as NSString).deletingLastPathComponent
}

/// A scratch folder under /tmp (short paths for sockets).
func makeScratchFolder(_ prefix: String) -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template))
}

/// Peak resident set size (VmHWM) of this process, or of process `pid`, so far, in bytes.
func peakResidentBytes(pid: Int32? = nil) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let number = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return number * 1024
    }
    return 0
}

func printHeader(_ title: String) {
    print("\n== \(title) " + String(repeating: "=", count: max(0, 70 - title.count)))
}

/// The first customer of the Kaggle telco file, as a client sends it.
let sampleCustomer: CustomerRecord = [
    "customerID": "7590-VHVEG", "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes", "Dependents": "No",
    "tenure": 1, "PhoneService": "No", "MultipleLines": "No phone service", "InternetService": "DSL",
    "OnlineSecurity": "No", "OnlineBackup": "Yes", "DeviceProtection": "No", "TechSupport": "No",
    "StreamingTV": "No", "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
    "PaymentMethod": "Electronic check", "MonthlyCharges": 29.85, "TotalCharges": 29.85,
]

/// CPU seconds (user + system) a process has used so far, from /proc; 0 when it is gone.
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let end = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Runs a peer script's `command` with OMP_NUM_THREADS=2 (the peers crawl without it): its
/// stdout captured, its stderr passed through (or, `quiet`, discarded).
func runPeerProcess(_ command: [String], quiet: Bool) throws -> (status: Int32, stdout: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    var environment = ProcessInfo.processInfo.environment
    environment["OMP_NUM_THREADS"] = "2"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    if quiet { process.standardError = FileHandle.nullDevice }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}
