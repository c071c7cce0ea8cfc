// A test-support plugin for the daemon's integration tests. It is never shipped: no product
// lists it, and the daemon only finds it when a test links it into a plugin folder under a
// `churn-plugin-<kind>` name. Its behaviour follows that kind:
//
// - `echo` (or anything else): a real, tiny model. `train` counts churners in the training CSV
//   and writes {"base_rate": r}; `predict` returns a logistic score of tenure and monthly charges
//   around that rate, from records or by column (it has the `columnar` capability, as the
//   shipped plugins do). Customer ids drive faults: `sleep:<ms>` answers late (`sleep:<ms>:started=<path>`
//   also creates <path> when the request arrives), `crash` kills the
//   process mid-request. A training row with such a `sleep:` id makes `train` late the same way.
// - `exit_at_start`: exits with status 3 before listening.
// - `old_protocol`: answers `describe` with protocol version 999.
// - `stderr_noise`: writes lines to stdout and stderr, to prove they never reach the protocol stream.
import ChurnPluginKit
import ChurnProtocol
import Foundation

let executable = (CommandLine.arguments[0] as NSString).lastPathComponent
let kind =
    executable.hasPrefix("churn-plugin-")
    ? String(executable.dropFirst("churn-plugin-".count)).replacingOccurrences(of: "-", with: "_") : "echo"

if kind == "exit_at_start" {
    FileHandle.standardError.write(Data("exit_at_start: failing on purpose\n".utf8))
    exit(3)
}
if kind == "stderr_noise" {
    print("stdout noise that must not reach any socket")
    FileHandle.standardError.write(Data("stderr noise\n".utf8))
}

/// `sleep:<ms>` or `sleep:<ms>:started=<path>`: waits <ms>; the file at <path> appears when the
/// plugin has the request, so a test waits for that, not for a guessed time.
func sleepIfAsked(_ id: some StringProtocol) {
    guard id.hasPrefix("sleep:") else { return }
    let parts = id.dropFirst(6).split(separator: ":", maxSplits: 1)
    if parts.count == 2, parts[1].hasPrefix("started=") {
        FileManager.default.createFile(atPath: String(parts[1].dropFirst(8)), contents: nil)
    }
    if let milliseconds = parts.first.flatMap({ UInt32($0) }) { usleep(milliseconds * 1000) }
}

struct TestModel: LoadedChurnModel {
    let baseRate: Double
    var features: [String] { ["tenure", "MonthlyCharges"] }

    func predict(_ customers: [CustomerRecord]) throws -> [Double] {
        customers.map { customer in
            if let id = customer["customerID"]?.text { actOnFaults(id) }
            return score(tenure: customer["tenure"] ?? .null, charges: customer["MonthlyCharges"] ?? .null)
        }
    }

    /// By column, as the shipped plugins take batches: the same score, read from the columns.
    func predict(batch: CustomerBatch) throws -> [Double] {
        let ids = batch.column("customerID")
        let tenure = batch.column("tenure")
        let charges = batch.column("MonthlyCharges")
        return (0..<batch.rows).map { row in
            if let id = ids?[row].text { actOnFaults(id) }
            return score(tenure: tenure?[row] ?? .null, charges: charges?[row] ?? .null)
        }
    }

    /// The faults a customer id asks for: `crash` exits, `sleep:...` answers late.
    private func actOnFaults(_ id: String) {
        if id == "crash" { exit(9) }
        sleepIfAsked(id)
    }

    private func score(tenure: FieldValue, charges: FieldValue) -> Double {
        // A customer of a schema without tenure scores the base rate.
        guard case .number(let tenure) = tenure else { return baseRate }
        let charges: Double = if case .number(let value) = charges { value } else { 65 }
        let logit = log(baseRate / (1 - baseRate)) - 0.04 * (tenure - 32) + 0.02 * (charges - 65)
        return 1 / (1 + exp(-logit))
    }

    func explain(_ customers: [CustomerRecord], top: Int?) throws -> [ModelExplanation] {
        try predict(customers).map { ModelExplanation(churnProbability: $0, bias: baseRate) }
    }
}

struct TestPlugin: ChurnModelPlugin {
    var description: PluginDescription {
        PluginDescription(
            kind: kind, pluginVersion: "0.0.1",
            protocolVersion: kind == "old_protocol" ? 999 : ChurnProtocolVersion.current,
            capabilities: ["train", "predict", "explain", "columnar"], summary: "test-support plugin (never shipped)",
            parameters: [ParameterSpec(name: "smoothing", type: "number", defaultValue: 1, help: "Laplace smoothing")])
    }

    func train(_ request: PluginTrainParams, progress: ProgressReporter) throws -> PluginTrainResult {
        for name in request.params.keys where name != "smoothing" {
            throw RPCError.invalidParams(field: "params.\(name)", "unknown parameter")
        }
        let smoothing = request.params["smoothing"]?.numberValue ?? 1
        let text = try String(contentsOfFile: request.trainPath, encoding: .utf8)
        let rows = text.split(whereSeparator: \.isNewline).dropFirst()
        let churners = rows.filter { $0.hasSuffix(",Yes") }.count
        for row in rows where row.hasPrefix("sleep:") { sleepIfAsked(row.prefix { $0 != "," }) }
        for step in 1...3 {
            progress.report(stage: "epoch", step: step, total: 3, message: "epoch \(step)/3", metrics: ["loss": 1 / Double(step)])
        }
        let rate = (Double(churners) + smoothing) / (Double(rows.count) + 2 * smoothing)
        let artifact = try JSONEncoder().encode(["base_rate": rate])
        try artifact.write(to: URL(fileURLWithPath: request.artifactPath))
        return PluginTrainResult(
            metrics: ["base_rate": rate], lossCurve: (1...3).map { EpochRecord(epoch: $0, values: ["loss": 1 / Double($0)]) },
            params: ["smoothing": .number(smoothing)], artifactBytes: artifact.count)
    }

    func load(artifact: Data) throws -> any LoadedChurnModel {
        let values = try JSONDecoder().decode([String: Double].self, from: artifact)
        return TestModel(baseRate: values["base_rate"] ?? 0.25)
    }
}

await PluginRuntime.serve(TestPlugin())
