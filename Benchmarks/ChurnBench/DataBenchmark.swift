import ArgumentParser
import CSV
import ChurnData
import Foundation

/// Data issue benchmark: parse, check and encode N generated telco rows; rows per second and
/// peak memory, next to pandas (read_csv + get_dummies) and the CSV.swift package on the same
/// file in the same run. Each contender runs in its own process so peak memory is its own.
struct DataBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Parse and encode generated telco rows: ours vs pandas vs CSV.swift (rows/s, peak memory).",
        discussion: """
            Goal: faster than pandas, peak memory under twice the file size.
            Needs python3 with pandas and numpy (pip install pandas) for the pandas peer.
            """)

    @Option(help: "Rows to generate.")
    var rows = 1_000_000

    @Option(help: "Use this CSV instead of generating one.")
    var file: String?

    @Option(help: "Internal: run one contender on --file and print JSON (ours or csvswift).")
    var child: String?

    func run() async throws {
        if let child, let file {
            try runChild(child, file: file)
            return
        }
        let path = try file ?? generate()
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        printHeader("parse + encode \(path) (\(size / 1_000_000) MB)")
        let ours = try measure([productsDirectory + "/churn-bench", "data", "--child", "ours", "--file", path])
        let csvSwift = try measure([productsDirectory + "/churn-bench", "data", "--child", "csvswift", "--file", path])
        let pandas = try? measure(["/usr/bin/env", "python3", peerScript("data_pandas.py"), path])
        func line(_ name: String, _ result: [String: Double]?) {
            guard let result else { return print(String(format: "%-34@ unavailable (pip install pandas numpy)", name as NSString)) }
            print(
                String(
                    format: "%-34@ %9.0f rows/s  %6.2f s  peak %5.0f MB (%.2fx file)", name as NSString,
                    result["rows_per_second"] ?? 0, result["seconds"] ?? 0, (result["peak_rss_bytes"] ?? 0) / 1e6,
                    (result["peak_rss_bytes"] ?? 0) / Double(max(size, 1))))
        }
        line("churn (read, check, fit, encode)", ours)
        line("CSV.swift (read fields only)", csvSwift)
        line("pandas (read_csv + get_dummies)", pandas)
        printHeader("summary")
        if let pandas {
            print(String(format: "rows/s, churn / pandas        = %.2f   (goal > 1)", (ours["rows_per_second"] ?? 0) / (pandas["rows_per_second"] ?? 1)))
        }
        print(String(format: "rows/s, churn / CSV.swift     = %.2f", (ours["rows_per_second"] ?? 0) / (csvSwift["rows_per_second"] ?? 1)))
        print(String(format: "peak memory / file size       = %.2f   (goal < 2)", (ours["peak_rss_bytes"] ?? 0) / Double(max(size, 1))))
    }

    private func generate() throws -> String {
        let folder = NSTemporaryDirectory() + "churn-bench-data-\(rows)"
        let path = folder + "/customers.csv"
        if FileManager.default.fileExists(atPath: path) { return path }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        print("generating \(rows) synthetic rows into \(path)")
        try SyntheticTelco.generate(customers: rows, months: 1, seed: 1).dataset.writeCSV(to: path)
        return path
    }

    private func runChild(_ child: String, file: String) throws {
        let start = nowNanoseconds()
        var count = 0
        var columns = 0
        switch child {
        case "ours":
            let (dataset, _) = try DatasetReader.read(file, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
            let phases = ProcessInfo.processInfo.environment["CHURN_BENCH_PHASES"] != nil
            if phases {
                FileHandle.standardError.write(
                    Data("after read: \(Double(nowNanoseconds() - start) / 1e9) s, peak \(peakResidentBytes() / 1_000_000) MB\n".utf8))
            }
            let fitted = nowNanoseconds()
            let schema = FeatureSchema.fit(dataset.customers)
            let matrix = schema.encode(dataset.customers)
            if phases { FileHandle.standardError.write(Data("fit + encode: \(Double(nowNanoseconds() - fitted) / 1e9) s\n".utf8)) }
            count = matrix.rows
            columns = matrix.width
        case "csvswift":
            guard let stream = InputStream(fileAtPath: file) else { throw ValidationError("cannot open \(file)") }
            let reader = try CSV(stream: stream, hasHeaderRow: true)  // CSV.swift's reader (its `CSV` alias)
            while let row = reader.next() {
                count += 1
                columns = row.count
            }
        default:
            throw ValidationError("unknown child \(child)")
        }
        let seconds = Double(nowNanoseconds() - start) / 1e9
        print(
            #"{"rows": \#(count), "columns": \#(columns), "seconds": \#(seconds), "rows_per_second": \#(Double(count) / seconds), "peak_rss_bytes": \#(peakResidentBytes())}"#)
    }

    private func measure(_ command: [String]) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw ValidationError("\(command.joined(separator: " ")) failed") }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}

/// A peer script shipped in Benchmarks/peers.
func peerScript(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("peers/\(name)").path
}
