import ArgumentParser
import ChurnData
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic telco population (customers.csv) and its monthly histories (history.csv).",
        discussion: """
            The data is SYNTHETIC, from a documented latent process (see SyntheticTelco in ChurnData): \
            satisfaction drifts, usage, support calls and late payments respond to it, prices change, and \
            the churn label is drawn last from a hazard on that latent state. No feature is drawn from the \
            label. The same seed writes the same files.

            Examples:
              churn generate --customers 5000 --out data/synthetic
              churn generate --customers 1000000 --months 12 --seed 7 --out /tmp/big
            """)

    @Option(help: "Customers to generate.")
    var customers = 5000

    @Option(help: "Months of history per customer (at most their tenure).")
    var months = 24

    @Option(help: "Seed: the same seed writes the same files.")
    var seed: UInt64 = 0

    @Option(help: "Folder to write customers.csv and history.csv into.")
    var out: String

    func validate() throws {
        guard customers > 0 else { throw ValidationError("--customers must be at least 1") }
        guard (1...120).contains(months) else { throw ValidationError("--months must be between 1 and 120") }
    }

    func run() throws {
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
