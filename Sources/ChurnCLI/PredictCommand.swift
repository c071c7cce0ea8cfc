import ArgumentParser
import ChurnClient
import ChurnProtocol
import Foundation

struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict churn for one customer (JSON) or a batch (a CSV or JSON file).",
        discussion: """
            Input is a JSON object of the model's fields (`churn models champion --json` shows its \
            dataset_schema), a JSON array of them, or a CSV file with a header, read under the model's \
            schema (or --schema). Predictions come from the champion (during an A/B experiment, the challenger answers its \
            share of customers: the ARM column says which) unless --model names a version or alias. \
            A model that reads customers' real months reads those sent with the record (a "history" array, \
            or --history FILE), else the daemon's stored months (churn history import); the HISTORY column \
            says which: inline, stored, none (scored without months), or derived (the fallback derived from \
            tenure and charges).

            Examples:
              churn predict --customer '{"customerID":"7590-VHVEG","tenure":1,"Contract":"Month-to-month", ...}'
              churn predict customers.csv
              churn predict customers.csv --history months.csv
              churn predict customers.json --model churn@3 --json
              cat customer.json | churn predict -
            """)

    @OptionGroup var customers: CustomerInputOptions
    @OptionGroup var scoring: ScoringOptions

    /// The file given (nil with `--customer`).
    var input: String? { customers.input }
    /// The monthly panel file given.
    var history: String? { scoring.history }

    @Option(help: "Customers per request when sending a large file.")
    var batchSize: Int = 1000

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let client = try await connection.connect()
        let customers = try await self.customers.read(scoring, client: client)
        var predictions: [Prediction] = []
        for start in stride(from: 0, to: customers.count, by: batchSize) {
            let batch = Array(customers[start..<min(start + batchSize, customers.count)])
            let answered = try await reporting { () async throws(ChurnClientError) in
                try await client.predict(batch, model: scoring.model)
            }
            predictions += answered
        }
        if output.json {
            try printJSON(PredictResult(predictions: predictions))
            return
        }
        // The months each answer read, when the model reads any.
        let history = predictions.contains { $0.history != nil }
        printTable(
            ["CUSTOMER", "CHURN PROBABILITY", "CHURN", "MODEL", "ARM"] + (history ? ["HISTORY"] : []),
            predictions.map {
                [
                    $0.customerID, String(format: "%.3f", $0.churnProbability), $0.churn ? "yes" : "no",
                    $0.model.description, $0.arm.rawValue,
                ] + (history ? [$0.history?.rawValue ?? "-"] : [])
            })
    }
}

/// Reads customers from the command line, a file or stdin.
enum CustomerInput {
    static func read(
        file: String?, inline: String?, schema: String?, model: String?, client: ChurnClient, skipBadRows: Bool = false,
        history: String? = nil
    ) async throws -> [CustomerRecord] {
        let customers = try await read(file: file, inline: inline, schema: schema, model: model, client: client, skipBadRows: skipBadRows)
        guard let history else { return customers }
        let modelSchema = try await CSVCustomers.schema(flag: nil, model: model, client: client)
        return try ModelPanel.attach(history, to: customers, schema: modelSchema)
    }

    private static func read(
        file: String?, inline: String?, schema: String?, model: String?, client: ChurnClient, skipBadRows: Bool
    ) async throws -> [CustomerRecord] {
        if let inline { return try decodeJSON(Data(inline.utf8), source: "--customer") }
        guard let file else { return [] }
        if file == "-" { return try decodeJSON(FileHandle.standardInput.readDataToEndOfFile(), source: "stdin") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CleanExit.message("cannot read \(file): \(error.localizedDescription)", code: 66)
        }
        if file.lowercased().hasSuffix(".csv") {
            let schema = try await CSVCustomers.schema(flag: schema, model: model, client: client)
            return try CSVCustomers.records(from: data, source: file, schema: schema, skipBadRows: skipBadRows)
        }
        return try decodeJSON(data, source: file)
    }

    static func decodeJSON(_ data: Data, source: String) throws -> [CustomerRecord] {
        let decoder = JSONDecoder()
        if let one = try? decoder.decode(CustomerRecord.self, from: data) { return [one] }
        do {
            return try decoder.decode([CustomerRecord].self, from: data)
        } catch let error as DecodingError {
            let (field, reason) = error.fieldAndReason
            throw CleanExit.message(
                "\(source): expected a JSON object of customer fields or an array of them (\(field.isEmpty ? "" : field + ": ")\(reason))",
                code: 65)
        }
    }
}
