import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Customers' real months: store them in the daemon's history store, and look at them.",
        discussion: """
            Models trained with a monthly panel (churn train --history panel.csv) read each customer's \
            last months: sent with the record (predict --history), else stored here. Training stores its \
            panel's months; `history import` adds new months or corrects old ones (a month sent again \
            replaces the stored one, nothing else is touched).

            Examples:
              churn history import november.csv
              churn history show 7590-VHVEG
            """,
        subcommands: [Import.self, Show.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a monthly panel file's months (checked against the model's panel schema).",
            discussion: """
                The file is read here under the panel schema of the model's champion (else of its newest \
                version that reads a panel): every bad cell is listed with its line and column, and nothing \
                is stored unless the whole file is good.
                """)

        @Argument(help: "A monthly panel CSV: one row per customer and month.")
        var file: String

        @Option(help: "The model name whose panel the months belong to.")
        var model = ModelReference.defaultName

        @Option(help: "Months per request.")
        var batchSize = 20_000

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() async throws {
            let client = try await connection.connect()
            let schema = try await ModelPanel.schema(of: model, client: client)
            let panel: MonthlyPanel
            do {
                panel = try MonthlyPanel.read(file, schema: schema)
            } catch {
                throw CleanExit.message(error.description, code: 65)
            }
            var months: [[String: FieldValue]] = []
            for id in panel.histories.keys.sorted() {
                for var month in panel.schema.records(of: panel.histories[id]!) {
                    month["customerID"] = .string(id)
                    months.append(month)
                }
            }
            var total = HistoryAppendResult(appended: 0, replaced: 0, unchanged: 0, customers: panel.histories.count)
            for start in stride(from: 0, to: months.count, by: batchSize) {
                let batch = Array(months[start..<min(start + batchSize, months.count)])
                let stored = try await reporting { () async throws(ChurnClientError) in
                    try await client.appendHistory(batch, model: model)
                }
                total.appended += stored.appended
                total.replaced += stored.replaced
                total.unchanged += stored.unchanged
            }
            if output.json { return try printJSON(total) }
            print(
                "stored \(months.count) months of \(panel.histories.count) customers for \(model): \(total.appended) new, \(total.replaced) corrected, \(total.unchanged) unchanged")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A customer's stored months, oldest first.")

        @Argument(help: "The customer's id.")
        var customer: String

        @Option(help: "The model name whose history to show.")
        var model = ModelReference.defaultName

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let result = try await reporting { () async throws(ChurnClientError) in
                try await client.history(of: customer, model: model)
            }
            if output.json { return try printJSON(result) }
            guard let first = result.months.first else {
                print("\(customer) has no stored months for \(model)")
                return
            }
            let columns = first.keys.filter { $0 != "period" }.sorted()
            printTable(
                ["PERIOD"] + columns.map { $0.uppercased() },
                result.months.map { month in
                    [month["period"]?.text ?? ""] + columns.map { month[$0]?.text ?? "" }
                })
        }
    }
}

/// The monthly panel schema of a model: its champion's, else its newest version's that reads
/// a panel (as the daemon checks stored months).
enum ModelPanel {
    static func schema(of model: String, client: ChurnClient) async throws -> PanelSchema {
        var references = ["\(model)@champion"]
        let versions = try await reporting { () async throws(ChurnClientError) in try await client.models(name: model) }
        references += versions.sorted { $0.version > $1.version }.map { $0.ref.description }
        for reference in references {
            guard let version = try? await client.model(reference), let json = version.datasetSchema,
                let schema = try? DatasetSchema.decode(json, source: reference), let panel = schema.history
            else { continue }
            return panel
        }
        throw CleanExit.message(
            "\(model) has no version that reads a monthly panel: train one first (churn train --kind lstm --data customers.csv --history panel.csv)",
            code: 1)
    }

    /// `records` with their months from the panel file at `path`, read under `schema`'s panel
    /// (records that carry months keep them). Customers the file lacks have none.
    static func attach(_ path: String, to records: [CustomerRecord], schema: DatasetSchema) throws -> [CustomerRecord] {
        guard let panelSchema = schema.history else {
            throw CleanExit.message(
                "--history: the model reads no monthly panel (its schema \(schema.name) names none), so the months would be ignored", code: 64)
        }
        let panel: MonthlyPanel
        do {
            panel = try MonthlyPanel.read(path, schema: panelSchema)
        } catch {
            throw CleanExit.message(error.description, code: 65)
        }
        let idField = schema.canonical.id?.name ?? DatasetSchema.generatedIDName
        return records.map { record in
            guard record.history == nil, let id = record[idField]?.text, let months = panel.histories[id] else { return record }
            var attached = record
            attached.history = panel.schema.records(of: months)
            return attached
        }
    }
}
