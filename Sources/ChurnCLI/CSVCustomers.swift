import ChurnData
import ChurnProtocol
import Foundation

/// Customers from a CSV file, checked and mapped by ChurnData before they are sent.
enum CSVCustomers {
    static func records(from data: Data, source: String, mapping: String? = nil, skipBadRows: Bool = false) throws
        -> [CustomerRecord]
    {
        do {
            let chosen = try mapping.map { try ColumnMapping.named($0) }
            let (dataset, report) = try TelcoReader.read(
                bytes: Array(data), name: source, options: TelcoReadOptions(mapping: chosen, skipBadRows: skipBadRows, ignoreLabel: true))
            if report.badRows > 0 {
                FileHandle.standardError.write(Data("churn: skipped \(report.badRows) bad rows:\n\(report.issues.prefix(20).map { "  \($0)" }.joined(separator: "\n"))\n".utf8))
            }
            return dataset.customers.records
        } catch {
            throw CleanExit.message("\(error)", code: 65)
        }
    }
}
