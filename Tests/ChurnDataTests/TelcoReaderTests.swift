import ChurnData
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@Suite("Telco ingestion")
struct TelcoReaderTests {
    private func read(_ text: String, options: TelcoReadOptions = TelcoReadOptions()) throws(DataError) -> (TelcoDataset, TelcoReadReport) {
        try TelcoReader.read(bytes: csvBytes(text), name: "test.csv", options: options)
    }

    private func badRows(_ text: String) -> [DataIssue] {
        do {
            _ = try read(text)
            Issue.record("expected the file to be rejected")
            return []
        } catch {
            guard case .badRows(let issues, _, _) = error else {
                Issue.record("expected bad rows, got \(error)")
                return []
            }
            return issues
        }
    }

    @Test func readsTheRealTrainFile() throws {
        guard let path = RealData.require(RealData.trainPath) else { return }
        let (dataset, report) = try TelcoReader.read(path, options: TelcoReadOptions(requireLabel: true))
        #expect(report.mapping == "kaggle")
        #expect(dataset.customers.count == 5634 && report.badRows == 0)
        #expect(dataset.churned?.filter { $0 }.count == 1495)
        let blank = (0..<dataset.customers.count).filter { dataset.customers.number(.totalCharges, $0).isNaN }
        #expect(blank.count == 8)
        #expect(blank.allSatisfy { dataset.customers.number(.tenure, $0) == 0 }, "blank TotalCharges only at tenure 0")
        let first = dataset.customers.customer(at: 0)
        #expect(first.id == "7590-VHVEG" && first[.contract] == "Month-to-month" && first[.monthlyCharges] == 29.85)
    }

    @Test func readsIBMsExtendedFileThroughItsMapping() throws {
        guard let ibmPath = RealData.require(RealData.ibmPath), let kagglePath = RealData.require(RealData.trainPath) else { return }
        let (ibm, report) = try TelcoReader.read(ibmPath, options: TelcoReadOptions(requireLabel: true))
        #expect(report.mapping == "ibm", "detected from the header")
        let (kaggle, _) = try TelcoReader.read(kagglePath)
        #expect(ibm.customers.count == 5634)
        #expect(ibm.churnReasons?.compactMap { $0 }.count == 1495, "reasons kept as evidence for churners")
        let kaggleRow = Dictionary(uniqueKeysWithValues: kaggle.customers.ids.enumerated().map { ($1, $0) })
        var compared = 0
        for row in 0..<ibm.customers.count {
            guard let other = kaggleRow[ibm.customers.ids[row]] else { continue }
            #expect(ibm.customers.number(.tenure, row) == kaggle.customers.number(.tenure, other))
            #expect(ibm.customers.code(.contract, row) == kaggle.customers.code(.contract, other))
            #expect(ibm.customers.code(.seniorCitizen, row) == kaggle.customers.code(.seniorCitizen, other), "Senior Citizen Yes/No maps to 1/0")
            #expect(ibm.churned?[row] == kaggle.churned?[other])
            compared += 1
        }
        #expect(compared == 5634)
    }

    @Test func aUserMappingFileMapsOtherNames() throws {
        let folder = NSTemporaryDirectory() + "mapping-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mappingPath = folder + "/crm.json"
        try #"{"name": "crm", "columns": {"customerID": "Customer ID", "tenure": "Months"}, "label": {"column": "Left", "churned": ["1"], "stayed": ["0"]}}"#
            .write(toFile: mappingPath, atomically: true, encoding: .utf8)
        let mapping = try ColumnMapping.named(mappingPath)
        let text = Rows.header.replacingOccurrences(of: "customerID", with: "Customer ID")
            .replacingOccurrences(of: ",tenure,", with: ",Months,").replacingOccurrences(of: ",Churn", with: ",Left")
            + "\n" + Rows.row(churn: "1") + "\n" + Rows.row(id: "0002-B", churn: "0")
        let (dataset, _) = try read(text, options: TelcoReadOptions(mapping: mapping, requireLabel: true))
        #expect(dataset.churned == [true, false])
        #expect(dataset.customers.ids == ["0001-A", "0002-B"])
    }

    @Test func aBrokenMappingFileSaysWhatIsWrong() throws {
        let path = NSTemporaryDirectory() + "bad-mapping-\(UUID().uuidString).json"
        try #"{"columns": {"tenur": "Months"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: DataError.invalidMapping(file: path, reason: "columns: \"tenur\" is not a schema field")) {
            _ = try ColumnMapping.named(path)
        }
    }

    @Test func emptyAndHeaderOnlyFiles() {
        #expect(throws: DataError.empty(file: "test.csv")) { _ = try read("") }
        #expect(throws: DataError.headerOnly(file: "test.csv")) { _ = try read(Rows.header + "\n") }
    }

    @Test func missingColumnsAreListed() {
        #expect(throws: DataError.missingColumns(file: "test.csv", columns: ["Contract", "Churn"], mapping: "kaggle")) {
            _ = try read(
                Rows.header.replacingOccurrences(of: ",Contract", with: ",Plan").replacingOccurrences(of: ",Churn", with: ",Left")
                    + "\n" + Rows.row(),
                options: TelcoReadOptions(requireLabel: true))
        }
    }

    @Test func everyBadCellIsNamedByLineColumnAndValue() {
        let issues = badRows(
            [
                Rows.header, Rows.row(), Rows.row(id: "0002", contract: "Three year"), Rows.row(id: "0003", tenure: "twelve"),
                Rows.row(id: "0001-A"), Rows.row(id: "0004", churn: "Maybe"), Rows.row(id: "0005", total: " "),
                Rows.row(id: "0006", tenure: "-3"), Rows.row(id: "0007", tenure: "1.5"), Rows.row(id: ""),
                Rows.row(id: "0008", monthly: "nan"),
            ].joined(separator: "\n"))
        let found = issues.map { "\($0.line) \($0.column ?? "-") \($0.value ?? "-")" }
        #expect(
            found == [
                "3 Contract Three year", "4 tenure twelve", "5 customerID 0001-A", "6 Churn Maybe", "7 TotalCharges  ",
                "8 tenure -3", "9 tenure 1.5", "10 customerID ", "11 MonthlyCharges nan",
            ], "\(issues.map(\.description).joined(separator: "\n"))")
        #expect(issues[2].problem.contains("line 2"), "a duplicate names the first occurrence")
        #expect(issues[4].problem.contains("tenure 0"), "a blank TotalCharges says when it is allowed")
    }

    @Test func skipPolicyDropsBadRowsAndReportsThem() throws {
        let text = [Rows.header, Rows.row(), Rows.row(id: "0002", contract: "Three year"), Rows.row(id: "0003")].joined(separator: "\n")
        let (dataset, report) = try read(text, options: TelcoReadOptions(skipBadRows: true))
        #expect(dataset.customers.ids == ["0001-A", "0003"])
        #expect(report.rows == 3 && report.kept == 2 && report.badRows == 1)
        #expect(report.issues.first?.line == 3)
    }

    @Test func blankTotalChargesAtTenureZeroIsMissingNotZero() throws {
        let (dataset, _) = try read([Rows.header, Rows.row(tenure: "0", total: " ")].joined(separator: "\n"))
        #expect(dataset.customers.number(.totalCharges, 0).isNaN)
        #expect(dataset.customers.customer(at: 0).record["TotalCharges"] == .null)
    }

    @Test func nonUTF8BytesAreNamed() {
        let bytes = csvBytes(Rows.header + "\n") + [0x30, 0xff, 0xfe] + csvBytes(String(Rows.row().dropFirst(6)) + "\n")
        do {
            _ = try TelcoReader.read(bytes: bytes, name: "bytes.csv")
            Issue.record("non-UTF-8 bytes must be reported")
        } catch {
            #expect(error.issues.map { "\($0.line) \($0.column ?? "-") \($0.problem)" } == ["2 customerID not valid UTF-8"])
        }
    }

    @Test func aThousandRandomMutationsOfTheRealFileNeverCrashAndAlwaysNameLineAndColumn() throws {
        guard let path = RealData.require(RealData.trainPath) else { return }
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var random = SeededGenerator(seed: 42)
        var rejected = 0
        for round in 0..<1000 {
            var bytes = original
            let position = Int.random(in: 40..<bytes.count, using: &random)
            switch round % 8 {
            case 0: bytes.removeSubrange(position..<min(position + Int.random(in: 1...40, using: &random), bytes.count))
            case 1: bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
            case 2: bytes[position] = UInt8(ascii: "\"")
            case 3: bytes[position] = UInt8(ascii: ",")
            case 4: bytes[position] = UInt8(ascii: "\n")
            case 5: bytes = Array(bytes[0..<position])
            case 6: bytes[position] = UInt8.random(in: 0x80...0xff, using: &random)
            default:
                let lineStart = bytes[..<position].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                let lineEnd = bytes[position...].firstIndex(of: 0x0A) ?? bytes.count
                bytes.insert(contentsOf: bytes[lineStart..<lineEnd] + [0x0A], at: lineStart)
            }
            do {
                _ = try TelcoReader.read(bytes: bytes, name: "mutation-\(round).csv")
            } catch {
                rejected += 1
                #expect(!error.issues.isEmpty, "round \(round): \(error)")
                for issue in error.issues {
                    #expect(issue.line > 0 && issue.column != nil, "round \(round): \(issue)")
                }
            }
        }
        #expect(rejected > 500, "most mutations break something; \(rejected) were rejected")
    }

    @Test func recordsFollowTheSameRulesAndNameTheirFieldPath() throws {
        let good = TelcoDataset.sampleRecord
        let customer = try TelcoRecords.customer(good, path: "customers[0]")
        #expect(customer.record["SeniorCitizen"] == .number(0))
        var missing = good
        missing.fields.removeValue(forKey: "Contract")
        #expect(throws: TelcoRecords.FieldProblem(field: "customers[3].Contract", reason: "required field is missing")) {
            _ = try TelcoRecords.table([good, good, good, missing])
        }
        var wrongType = good
        wrongType["tenure"] = "a year"
        #expect(throws: TelcoRecords.FieldProblem.self) { _ = try TelcoRecords.customer(wrongType) }
        var blankTotal = good
        blankTotal["TotalCharges"] = .null
        #expect(throws: TelcoRecords.FieldProblem.self) { _ = try TelcoRecords.customer(blankTotal) }
        blankTotal["tenure"] = 0
        #expect(try TelcoRecords.customer(blankTotal)[.totalCharges] == nil)
        var labelled = good
        labelled["Churn"] = "Yes"
        #expect(try TelcoRecords.customer(labelled) == customer, "label fields are never read")
    }
}

extension TelcoDataset {
    static let sampleRecord: CustomerRecord = [
        "customerID": "7590-VHVEG", "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes", "Dependents": "No",
        "tenure": 1, "PhoneService": "No", "MultipleLines": "No phone service", "InternetService": "DSL",
        "OnlineSecurity": "No", "OnlineBackup": "Yes", "DeviceProtection": "No", "TechSupport": "No",
        "StreamingTV": "No", "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check", "MonthlyCharges": 29.85, "TotalCharges": 29.85,
    ]
}
