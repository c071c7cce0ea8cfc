import ArgumentParser
import ChurnData
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Look at a customer file before training on it.",
        subcommands: [Inspect.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Infer a dataset schema from a CSV file, report what it found, and write the schema to edit.",
            discussion: """
                Reports each column's inferred type and values, blanks, id and label candidates, the label's \
                balance, and suspicious columns: constant ones, all-unique ones, ones with too many values, and \
                any column that alone predicts the label almost perfectly (ROC-AUC >= 0.9: the outcome leaking in \
                under another name, declared never an input). Runs here, without a daemon.

                With --panel the file is a monthly panel (one row per customer and month): the report names \
                its customer and period columns and each value column's type, and --write writes the panel \
                schema (the "history" member of a dataset schema).

                Examples:
                  churn data inspect operator.csv --label Churn
                  churn data inspect months.csv --panel --customer subscriber_id --write panel.json
                  churn data inspect ../shared/data/telco/ibm_telco_extended_train.csv --label "Churn Label" --write ibm.json
                  churn train --kind random_forest --data operator.csv --schema ibm.json
                """)

        @Argument(help: "A CSV file with a header.")
        var file: String

        @Option(help: "The label column (default: the most churn-like two-valued column).")
        var label: String?

        @Option(help: "Write the inferred schema to this JSON file, to edit and pass to `churn train --schema`.")
        var write: String?

        @Flag(help: "The file is a monthly panel (one row per customer and month).")
        var panel = false

        @Option(help: "With --panel: the column naming the customer (default customer_id, else the first column).")
        var customer: String?

        func validate() throws {
            if panel, label != nil { throw ValidationError("--label goes with a customer file, not a --panel") }
            if customer != nil, !panel { throw ValidationError("--customer goes with --panel") }
        }

        func run() throws {
            if panel { return try inspectPanel() }
            let report: SchemaInference.Report
            do {
                report = try SchemaInference.inspect(file, label: label)
            } catch {
                throw CleanExit.message(error.description, code: 65)
            }
            print(SchemaReportPrinter.text(report))
            if let write {
                do {
                    try (report.schema.prettyJSON() + "\n").write(toFile: write, atomically: true, encoding: .utf8)
                } catch {
                    throw CleanExit.message("cannot write \(write): \(error.localizedDescription)", code: 73)
                }
                print("wrote the schema to \(write): edit it, then `churn train --data \(file) --schema \(write)`")
            }
        }

        private func inspectPanel() throws {
            let schema: PanelSchema
            let panel: MonthlyPanel
            do {
                schema = try SchemaInference.inspectPanel(file, customerColumn: customer)
                panel = try MonthlyPanel.read(file, schema: schema)
            } catch {
                throw CleanExit.message(error.description, code: 65)
            }
            let months = panel.histories.values.reduce(0) { $0 + $1.count }
            let periods = panel.histories.values.flatMap { [$0.first?.period, $0.last?.period] }.compactMap { $0 }
            let lengths = panel.histories.values.map(\.count).sorted()
            print("\(file): monthly panel, \(months) months of \(panel.histories.count) customers, \(MonthlyPanel.periodText(periods.min() ?? 0)) to \(MonthlyPanel.periodText(periods.max() ?? 0))")
            print("customer: \(schema.customer)   period: \(schema.period)   months per customer: \(lengths.first ?? 0) to \(lengths.last ?? 0) (median \(lengths.isEmpty ? 0 : lengths[lengths.count / 2])); models read the last \(schema.window)")
            print("columns:")
            for column in schema.columns {
                var detail = column.type.rawValue
                if let values = column.values { detail += ": " + values.prefix(8).joined(separator: ", ") + (values.count > 8 ? ", ..." : "") }
                if column.type == .ignored { detail += " (not read: text with too many values, or dates)" }
                print("  " + column.name.padding(toLength: 24, withPad: " ", startingAt: 0) + "  " + detail)
            }
            if let write {
                do {
                    try (schema.prettyJSON() + "\n").write(toFile: write, atomically: true, encoding: .utf8)
                } catch {
                    throw CleanExit.message("cannot write \(write): \(error.localizedDescription)", code: 73)
                }
                print("wrote the panel schema to \(write): put it as \"history\" in a dataset schema, or train with --history \(file) to infer it")
            }
        }
    }
}

/// An inference report as lines for a person.
enum SchemaReportPrinter {
    static func text(_ report: SchemaInference.Report) -> String {
        var lines = ["\(report.file): \(report.rows) rows, \(report.columns.count) columns"]
        let schema = report.schema
        lines.append("id:     " + (schema.id.map { "\($0.column) (every value unique)" } ?? "none: rows will be named row-<n>"))
        let total = max(1, report.labelBalance.reduce(0) { $0 + $1.count })
        let balance = report.labelBalance.map {
            "\($0.value) \($0.churned ? "(churned)" : "(stayed)") \($0.count) = \(String(format: "%.1f%%", 100 * Double($0.count) / Double(total)))"
        }
        lines.append("label:  \(schema.label.column): " + balance.joined(separator: ", "))
        if let reason = schema.reason { lines.append("reason: \(reason.column) (evidence for the retention page, never an input)") }
        if report.labelCandidates.count > 1 {
            lines.append("        other two-valued columns: \(report.labelCandidates.filter { $0 != schema.label.column }.joined(separator: ", "))")
        }
        lines.append("columns:")
        let width = min(28, report.columns.map(\.name.count).max() ?? 10)
        for column in report.columns {
            let role: String
            switch column.role {
            case .id: role = "id"
            case .label: role = "label"
            case .reason: role = "reason"
            case .ignored: role = "ignored"
            case .neverInput: role = "never input"
            case .input(let type): role = type.rawValue
            }
            var detail: String
            if column.manyValues {
                detail = "over 1000 values"
            } else if let minimum = column.minimum, let maximum = column.maximum, column.distinct > 2 {
                detail = "\(Dataset.format(minimum)) to \(Dataset.format(maximum)), \(column.distinct) values"
            } else {
                detail = "\(column.distinct) values: " + column.topValues.prefix(5).map(\.value).joined(separator: ", ")
                    + (column.distinct > 5 ? ", ..." : "")
            }
            if column.blanks > 0 { detail += "; \(column.blanks) blank" }
            if let auc = column.singleColumnAUC { detail += String(format: "; alone ROC-AUC %.3f", auc) }
            lines.append("  " + column.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + role.padding(toLength: 12, withPad: " ", startingAt: 0) + detail)
        }
        let flagged = report.columns.filter { !$0.notes.isEmpty }
        if !flagged.isEmpty {
            lines.append("suspicious or set aside:")
            for column in flagged { lines.append("  \(column.name): " + column.notes.joined(separator: "; ")) }
        }
        for assumption in report.assumptions { lines.append("note: \(assumption)") }
        return lines.joined(separator: "\n")
    }
}
