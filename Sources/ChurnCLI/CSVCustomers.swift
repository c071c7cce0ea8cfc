import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

/// Customers from a CSV file, read under a model's dataset schema (its columns and values,
/// translated to the fields records carry) and checked before they are sent. The label column,
/// when the file has one, is never read.
enum CSVCustomers {
    static func records(from data: Data, source: String, schema: DatasetSchema, skipBadRows: Bool = false) throws
        -> [CustomerRecord]
    {
        do {
            let (dataset, report) = try DatasetReader.read(
                bytes: Array(data), name: source, schema: schema,
                options: DatasetReadOptions(readLabel: false, skipBadRows: skipBadRows))
            if report.badRows > 0 {
                FileHandle.standardError.write(Data("churn: skipped \(report.badRows) bad rows:\n\(report.issues.prefix(20).map { "  \($0)" }.joined(separator: "\n"))\n".utf8))
            }
            if report.generatedIDs {
                FileHandle.standardError.write(Data("churn: \(source) has no id column: rows are named row-<n> by their data row number\n".utf8))
            }
            return dataset.records
        } catch {
            throw CleanExit.message("\(error)", code: 65)
        }
    }

    /// The schema to read a customer file with: `--schema` (a built-in name or a schema file),
    /// else the dataset schema of the version `model` names (default: the champion).
    static func schema(flag: String?, model: String?, client: ChurnClient) async throws -> DatasetSchema {
        if let flag {
            do {
                return try BuiltInSchemas.named(flag)
            } catch {
                throw CleanExit.message(error.description, code: 65)
            }
        }
        let version = try await reporting { () async throws(ChurnClientError) in try await client.model(model ?? "champion") }
        guard let json = version.datasetSchema else { return BuiltInSchemas.kaggle }
        do {
            return try DatasetSchema.decode(json, source: version.ref.description)
        } catch {
            throw CleanExit.message("the schema of \(version.ref) is unreadable: \(error)", code: 1)
        }
    }
}
