import ArgumentParser
import ChurnData
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write synthetic customers: a telco population with monthly histories, or an operator file of another shape.",
        discussion: """
            The data is SYNTHETIC, from a documented latent process (see SyntheticTelco in ChurnData): \
            satisfaction drifts, usage, support calls and late payments respond to it, prices change, and \
            the churn label is drawn last from a hazard on that latent state. No feature is drawn from the \
            label. The same seed writes the same files.

            --shape operator writes operator.csv instead: a mobile operator's file shaped like the public \
            Orange/BigML churn data (no id column, plans, minutes, charges, service calls, Churn True/False; see \
            SyntheticOperator), to try churn on a schema that is not telco's.

            Examples:
              churn generate --customers 5000 --out data/synthetic
              churn generate --customers 1000000 --months 12 --seed 7 --out /tmp/big
              churn generate --shape operator --customers 5000 --out data/operator
            """)

    /// What to generate.
    enum Shape: String, ExpressibleByArgument, CaseIterable {
        case telco, `operator`
    }

    @Option(help: "telco (customers.csv and history.csv) or operator (operator.csv).")
    var shape = Shape.telco

    @Option(help: "Customers to generate.")
    var customers = 5000

    @Option(help: "Months of history per customer (at most their tenure).")
    var months = 24

    @Option(help: "Seed: the same seed writes the same files.")
    var seed: UInt64 = 0

    @Option(help: "Folder to write the files into (telco: customers.csv and history.csv; operator: operator.csv).")
    var out: String

    func validate() throws {
        guard customers > 0 else { throw ValidationError("--customers must be at least 1") }
        guard (1...120).contains(months) else { throw ValidationError("--months must be between 1 and 120") }
    }

    func run() throws {
        if shape == .`operator` {
            let dataset = SyntheticOperator.generate(customers: customers, seed: seed)
            let path = (out as NSString).appendingPathComponent("operator.csv")
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try SyntheticOperator.write(dataset, to: path)
            } catch {
                throw CleanExit.message("\(error)", code: 73)
            }
            let churned = dataset.churned?.filter { $0 }.count ?? 0
            print("wrote SYNTHETIC operator data (seed \(seed)): \(customers) customers, churn rate \(String(format: "%.1f%%", 100 * Double(churned) / Double(customers)))")
            print("  \(path)")
            return
        }
        let output = SyntheticTelco.generate(customers: customers, months: months, seed: seed)
        let paths: (customers: String, history: String)
        do {
            paths = try SyntheticTelco.write(output, to: out)
        } catch {
            throw CleanExit.message(error.description, code: 73)
        }
        let churned = output.dataset.churned?.filter { $0 }.count ?? 0
        print("wrote SYNTHETIC data (seed \(seed)): \(customers) customers, churn rate \(String(format: "%.1f%%", 100 * Double(churned) / Double(customers)))")
        print("  \(paths.customers)")
        print("  \(paths.history)")
    }
}
