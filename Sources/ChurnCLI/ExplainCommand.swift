import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain churn predictions: the probability and the drivers behind it, per customer.",
        discussion: """
            Input as for `churn predict`: a JSON object of customer fields, a JSON array of them, or a \
            CSV file with a header. Each customer gets its churn probability, the version and arm that \
            answered, and its top reasons in words (`Contract: Month-to-month +18 pts`: what each field, \
            or month of history, adds to the churn probability in points; positive raises the risk). \
            Below them: each field's contribution (tree models: exact SHAP values; the LSTMs: the change \
            when the field is replaced by the average training customer's) and, for the LSTMs, each \
            month of history with its weight (attention, or for the plain LSTM what the month adds to \
            the probability: with it minus without it) and its values of the most influential panel \
            columns.

            Examples:
              churn explain --customer '{"customerID":"7590-VHVEG","tenure":1,"Contract":"Month-to-month", ...}'
              churn explain customers.csv --top 3
              churn explain customers.csv --history months.csv
              churn explain customers.json --model churn@3 --json
            """)

    @OptionGroup var customers: CustomerInputOptions
    @OptionGroup var scoring: ScoringOptions

    /// The file given (nil with `--customer`).
    var input: String? { customers.input }
    /// The monthly panel file given.
    var history: String? { scoring.history }

    @Option(help: "Drivers to show per customer.")
    var top = 5

    @Option(help: "Customers per request when explaining a large file.")
    var batchSize = 500

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if top < 0 { throw ValidationError("--top must be 0 or more") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let client = try await connection.connect()
        let customers = try await self.customers.read(scoring, client: client)
        var explanations: [CustomerExplanation] = []
        for start in stride(from: 0, to: customers.count, by: batchSize) {
            let batch = Array(customers[start..<min(start + batchSize, customers.count)])
            explanations += try await reporting { () async throws(ChurnClientError) in
                try await client.explain(batch, model: scoring.model, top: top)
            }
        }
        if output.json { return try printJSON(ExplainResult(explanations: explanations)) }
        // Reasons name fields as the answering model's schema does (by name alone without it).
        let wording = RiskReasons(schema: try? await CSVCustomers.schema(flag: scoring.schema, model: scoring.model, client: client))
        for explained in explanations { print(Self.text(explained, wording: wording, top: top)) }
    }

    /// One customer's explanation as lines for a person: the reasons in words first (fields and
    /// months together, the same reasons the web pages show), then the measurements behind them.
    static func text(_ explained: CustomerExplanation, wording: RiskReasons = RiskReasons(schema: nil), top: Int = 5) -> String {
        let explanation = explained.explanation
        var lines = [
            String(
                format: "%@: churn probability %.3f (%@, %@)", explained.customerID, explanation.churnProbability,
                explained.model.description, explained.arm.rawValue)
        ]
        let reasons = wording.line(explanation, top: top)
        if !reasons.isEmpty { lines.append("  reasons: " + reasons) }
        if let bias = explanation.bias { lines.append(String(format: "  baseline %.3f", bias)) }
        for contribution in explanation.contributions {
            let value = contribution.value.text ?? "blank"
            lines.append(String(format: "  %+.3f  %@ = %@", contribution.contribution, contribution.feature, value))
        }
        if let months = explanation.months, !months.isEmpty {
            let method = explanation.monthMethod == "occlusion" ? "what the month adds to the probability (with it minus without it)" : "attention"
            let source = explained.history.map { " (\($0.rawValue))" } ?? ""
            lines.append("  months: \(explanation.history ?? "history")\(source), weighed by \(method)")
            for month in months {
                let values = month.values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.text ?? "blank")" }
                let weight = String(format: explanation.monthMethod == "occlusion" ? "%+.3f" : "%.3f", month.weight)
                lines.append("    \(month.period)  \(weight)" + (values.isEmpty ? "" : "  " + values.joined(separator: ", ")))
            }
        } else if explained.history == .noMonths {
            lines.append("  months: none (no months sent or stored for this customer; scored on its fields alone)")
        }
        if explanation.contributions.isEmpty, explanation.months?.isEmpty ?? true {
            lines.append("  (this model gives no per-field reasons)")
        }
        return lines.joined(separator: "\n")
    }
}
