import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// Customers by column: checked by the same rules as records and files, and files read in
/// chunks that add up to the whole.
@Suite("Batches by column and files in chunks")
struct BatchTableTests {
    @Test func aBatchChecksToTheSameTableAsItsRecordsOnTheRealFile() throws {
        guard let path = RealData.require(RealData.trainPath) else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(readLabel: false))
        let validator = RecordValidator(schema: BuiltInSchemas.kaggle)
        let records = dataset.records
        let fromRecords = try validator.table(records)
        // Canonical form (dictionary columns), and the plain form a foreign client sends.
        let canonical = try validator.table(dataset.customers.batch(idField: dataset.idField))
        let plain = try validator.table(CustomerBatch(records: records))
        #expect(canonical.ids == fromRecords.ids && plain.ids == fromRecords.ids)
        for table in [canonical, plain] {
            for field in table.layout.fields {
                for row in stride(from: 0, to: table.count, by: 7) {
                    #expect(table.value(of: field.name, at: row) == fromRecords.value(of: field.name, at: row), "\(field.name) row \(row)")
                }
            }
        }
        // Blank TotalCharges at tenure 0: the schema's conditional blank rule, by column too.
        let tenure = try #require(canonical.numberColumn("tenure"))
        let total = try #require(canonical.numberColumn("TotalCharges"))
        #expect((0..<canonical.count).filter { tenure[$0] == 0 }.allSatisfy { total[$0] == 0 })
    }

    @Test func theFirstBadRowAndFieldAreNamed() throws {
        let validator = RecordValidator(schema: BuiltInSchemas.kaggle)
        let (dataset, _) = try DatasetReader.read(
            bytes: csvBytes([Rows.header, Rows.row(id: "a"), Rows.row(id: "b"), Rows.row(id: "c")].joined(separator: "\n")),
            name: "t.csv", schema: BuiltInSchemas.kaggle)
        var records = dataset.records
        records[2]["tenure"] = .string("soon")
        records[1]["Contract"] = .string("Weekly")
        #expect(throws: FieldProblem(field: "batch[1].Contract", reason: "unknown value for Contract: expected one of Month-to-month, One year, Two year")) {
            try validator.table(CustomerBatch(records: records))
        }
        #expect(throws: FieldProblem(field: "batch[12].Contract", reason: "unknown value for Contract: expected one of Month-to-month, One year, Two year")) {
            try validator.table(CustomerBatch(records: records), positions: [10, 12, 14])
        }
        records[1]["Contract"] = .string("One year")
        #expect(throws: FieldProblem(field: "batch[2].tenure", reason: "expected a number, got \"soon\"")) {
            try validator.table(CustomerBatch(records: records))
        }
        let noTenure = CustomerBatch(records: dataset.records.map { record in
            var record = record
            record["tenure"] = nil
            return record
        })
        #expect(throws: FieldProblem(field: "batch.fields", reason: "required field tenure is missing (the batch has no column for it)")) {
            try validator.table(noTenure)
        }
        // A dictionary value no row uses is never judged.
        let canonical = dataset.customers.batch(idField: "customerID")
        let contract = try #require(canonical.fields.firstIndex(of: "Contract"))
        let unused = try CustomerBatch(
            rows: 3, fields: canonical.fields,
            columns: canonical.columns.enumerated().map { index, column in
                guard index == contract, case .dictionary(_, let codes) = column else { return column }
                #expect(codes == [0, 0, 0])
                return .dictionary(values: ["Month-to-month", "Fortnightly"], codes: codes)
            })
        #expect(try validator.table(unused).count == 3)
    }

    @Test func chunksAddUpToTheWholeFileWithBadRowsInTheChunkTheyFallIn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("churn-chunks-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var lines = [Rows.header]
        for index in 0..<1000 {
            switch index {
            case 5: lines.append(Rows.row(id: "r\(index)", tenure: "x"))
            case 333: lines.append("r333,Female")
            default: lines.append(Rows.row(id: "r\(index)", tenure: String(index % 70), total: String(index % 70 * 70)))
            }
        }
        let path = folder + "/customers.csv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (whole, _) = try DatasetReader.read(
            path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(readLabel: false, skipBadRows: true))

        var chunks: [DatasetChunk] = []
        let summary = try DatasetReader.stream(
            path, schema: BuiltInSchemas.kaggle, options: DatasetStreamOptions(chunkRows: 64, keepColumns: ["Contract", "Churn"])
        ) { chunks.append($0) }
        #expect(summary.rows == 1000 && summary.badRows == 2)
        #expect(chunks.map(\.index) == Array(0..<chunks.count))
        #expect(chunks.dropLast().allSatisfy { $0.customers.count == 64 })
        #expect(chunks.flatMap(\.customers.ids) == whole.customers.ids)
        #expect(chunks.flatMap(\.lines) == whole.lines)
        #expect(chunks.last?.rowsThrough == 1000)
        #expect(chunks.flatMap(\.rejected).map(\.line) == [7, 335])
        #expect(chunks.first?.rejected.first?.issues.first?.column == "tenure")
        #expect(chunks.flatMap { $0.kept[1] }.allSatisfy { $0 == "No" } && chunks[0].kept[0][0] == "Month-to-month")
        let tenure = chunks.flatMap { $0.customers.numberColumn("tenure")! }
        #expect(tenure == whole.customers.numberColumn("tenure")!)

        // Passing over the first rows, and reading only some customers.
        var resumed: [String] = []
        _ = try DatasetReader.stream(path, schema: BuiltInSchemas.kaggle, options: DatasetStreamOptions(chunkRows: 100, skipRows: 500)) {
            resumed += $0.customers.ids
        }
        #expect(resumed == Array(whole.customers.ids.filter { Int($0.dropFirst())! >= 500 }))
        var even: [String] = []
        _ = try DatasetReader.stream(
            path, schema: BuiltInSchemas.kaggle,
            options: DatasetStreamOptions(chunkRows: 100, include: { Int($0.dropFirst())! % 2 == 0 })
        ) { even += $0.customers.ids }
        #expect(even == whole.customers.ids.filter { Int($0.dropFirst())! % 2 == 0 })

        // A column to keep that the file lacks is named.
        #expect(throws: DataError.self) {
            _ = try DatasetReader.stream(path, schema: BuiltInSchemas.kaggle, options: DatasetStreamOptions(chunkRows: 10, keepColumns: ["Region"])) { _ in }
        }
    }

    @Test func aWriterContinuesAFileCutBackToWhereItStood() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("churn-writer-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var writer = try CSVWriter(path: path)
        try writer.write(["id", "p"])
        try writer.write(["a", "0.5"])
        let checkpoint = writer.offset
        try writer.write(["b, with a comma", "0.25"])
        try writer.close()
        var continued = try CSVWriter(path: path, truncatingTo: checkpoint)
        try continued.write(["c", "0.75"])
        try continued.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "id,p\na,0.5\nc,0.75\n")
        #expect(throws: DataError.self) { _ = try CSVWriter(path: path, truncatingTo: 1000) }
    }
}
