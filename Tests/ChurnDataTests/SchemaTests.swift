import ChurnData
import ChurnProtocol
import Foundation
import ChurnTestSupport
import Testing

/// Dataset schemas as data: parsing with errors naming the member, inference on the real telco
/// files and on generated files of every column type, encoding of any schema, and the first
/// release's telco-only encodings still read.
@Suite("Dataset schemas")
struct SchemaTests {
    private func scratch(_ name: String, _ text: String) throws -> String {
        let folder = NSTemporaryDirectory() + "schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func schemaError(_ json: String) -> DataError? {
        do {
            _ = try DatasetSchema.parse(Array(json.utf8), source: "s.json")
            return nil
        } catch {
            return error
        }
    }

    // MARK: Parsing

    @Test func aSchemaFileRoundTripsThroughItsJSON() throws {
        for schema in [BuiltInSchemas.kaggle, BuiltInSchemas.ibm, SyntheticOperator.schema] {
            let parsed = try DatasetSchema.parse(Array(schema.prettyJSON().utf8), source: schema.name)
            #expect(parsed == schema, "\(schema.name)")
            #expect(try DatasetSchema.decode(schema.canonical.jsonValue, source: "") == schema.canonical)
        }
    }

    @Test(arguments: [
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": [{"name": "x", "type": "numerc"}]}"#,
         "columns[0].type", "did you mean numeric"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": [{"name": "Churn", "type": "numeric"}]}"#,
         "columns[0]", "is the label"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["Yes"]}, "columns": [{"name": "x", "type": "numeric"}]}"#,
         "label", "both a positive and a negative"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": [{"name": "plan", "type": "categorical"}]}"#,
         "columns[0].values", "needs its values"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "never_inputs": ["score"], "columns": [{"name": "score", "type": "numeric"}]}"#,
         "columns[0]", "never be an input"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": [{"name": "x", "type": "numeric", "colour": 1}]}"#,
         "columns[0].colour", "unknown member"),
        (#"{"label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": [{"name": "x", "type": "ignored"}]}"#,
         "columns", "no input columns"),
        (#"{"format": 2, "label": {"column": "Churn", "positive": ["Yes"], "negative": ["No"]}, "columns": []}"#, "format", "format 2"),
    ])
    func aBrokenSchemaNamesTheMemberAndWhy(json: String, field: String, reason: String) {
        guard case .invalidSchema(let source, let named, let why)? = schemaError(json) else {
            Issue.record("expected a schema error for \(json)")
            return
        }
        #expect(source == "s.json")
        #expect(named == field, "\(why)")
        #expect(why.contains(reason), "\(why)")
    }

    @Test func theProtocolDocumentsExampleSchemaIsAValidSchema() throws {
        let spec = try String(contentsOfFile: repositoryRoot + "/Protocol/PROTOCOL.md", encoding: .utf8)
        let section = try #require(spec.range(of: "## Dataset schemas"))
        let start = try #require(spec.range(of: "```json\n", range: section.upperBound..<spec.endIndex))
        let end = try #require(spec.range(of: "```", range: start.upperBound..<spec.endIndex))
        let schema = try DatasetSchema.parse(Array(spec[start.upperBound..<end.lowerBound].utf8), source: "PROTOCOL.md")
        #expect(schema.id == nil && schema.reason?.column == "Churn Reason" && schema.neverInputs == ["Churn Score"])
        #expect(schema.input(named: "Data GB")?.blank == .missing)
    }

    // MARK: Inference

    @Test func inferenceOnTheKaggleFileFindsItsIdLabelAndTypes() throws {
        guard let path = RealData.require(RealData.trainPath) else { return }
        let report = try SchemaInference.inspect(path)
        let schema = report.schema
        #expect(schema.id?.column == "customerID")
        #expect(schema.label.column == "Churn" && schema.label.positive == ["Yes"])
        #expect(schema.input(named: "tenure")?.type == .numeric && schema.input(named: "tenure")?.integer == true)
        #expect(schema.input(named: "Contract")?.values?.sorted() == ["Month-to-month", "One year", "Two year"])
        #expect(schema.input(named: "TotalCharges")?.blank == .missing, "the blank cells are seen")
        #expect(schema.inputs.count == 19)
        #expect(report.labelBalance.first { $0.churned }?.count == 1495)
        // It reads the whole file back under what it inferred.
        let (dataset, read) = try DatasetReader.read(path, schema: schema, options: DatasetReadOptions(requireLabel: true))
        #expect(read.badRows == 0 && dataset.customers.count == 5634)
    }

    @Test func inferenceOnIBMsFileSetsTheOutcomeColumnsAside() throws {
        guard let path = RealData.require(RealData.ibmPath) else { return }
        let report = try SchemaInference.inspect(path, label: "Churn Label")
        let schema = report.schema
        #expect(schema.id?.column == "CustomerID")
        #expect(schema.reason?.column == "Churn Reason", "reasons are evidence, found by their name and blanks")
        #expect(Set(schema.neverInputs).isSuperset(of: ["Churn Value", "Churn Score"]), "\(schema.neverInputs)")
        #expect(schema.input(named: "Count") == nil && schema.input(named: "Country") == nil, "constant columns are ignored")
        #expect(schema.input(named: "City") == nil, "a thousand-valued text column is not a category")
        let score = try #require(report.columns.first { $0.name == "Churn Score" })
        #expect((score.singleColumnAUC ?? 0) > 0.9 && score.notes.contains { $0.contains("likely leakage") })
        #expect(schema.inputs.allSatisfy { !$0.name.hasPrefix("Churn") }, "no outcome column is an input")
    }

    @Test func inferenceOnAFileOfEveryColumnType() throws {
        var lines = ["id,plan,minutes,roaming,joined,notes,constant,left"]
        for row in 0..<300 {
            let plan = ["basic", "plus", "max"][row % 3]
            let minutes = row % 11 == 0 ? "" : String(format: "%.1f", Double(row % 97) * 1.5)
            let roaming = row % 4 == 0 ? "yes" : "no"
            let joined = String(format: "2025-%02d-%02d", row % 12 + 1, row % 28 + 1)
            let left = (row % 7 == 0) != (row % 13 == 0) ? "Yes" : "No"
            lines.append("u\(row),\(plan),\(minutes),\(roaming),\(joined),note \(row),same,\(left)")
        }
        let path = try scratch("types.csv", lines.joined(separator: "\n"))
        let report = try SchemaInference.inspect(path, label: "left")
        let schema = report.schema
        #expect(schema.id?.column == "id")
        #expect(schema.input(named: "plan")?.type == .categorical && schema.input(named: "plan")?.values == ["basic", "max", "plus"])
        #expect(schema.input(named: "minutes")?.type == .numeric && schema.input(named: "minutes")?.blank == .missing)
        #expect(schema.input(named: "roaming")?.type == .boolean)
        #expect(schema.input(named: "joined")?.type == .date)
        #expect(schema.input(named: "notes") == nil, "all-unique text is not an input")
        #expect(schema.input(named: "constant") == nil)
        #expect(report.columns.first { $0.name == "constant" }?.notes.first?.contains("constant") == true)
        let (dataset, _) = try DatasetReader.read(path, schema: schema, options: DatasetReadOptions(requireLabel: true))
        #expect(dataset.customers.value(of: "joined", at: 0) == "2025-01-01")
        #expect(dataset.customers.value(of: "roaming", at: 0) == .bool(true))
        #expect(dataset.customers.value(of: "minutes", at: 0) == .null)
    }

    @Test func aLabelWithAThirdValueOrNoneIsRefusedSayingWhich() throws {
        let three = try scratch("three.csv", "id,x,Churn\na,1,Yes\nb,2,No\nc,3,Maybe\n")
        #expect {
            _ = try SchemaInference.inspect(three, label: "Churn")
        } throws: { error in
            "\(error)".contains("3 values") && "\(error)".contains("Maybe")
        }
        let missing = try scratch("missing.csv", "id,x,Churn\na,1,Yes\nb,2,No\n")
        #expect(throws: DataError.missingColumns(file: missing, columns: ["Left"], mapping: "inferred (the label column named with --label)")) {
            _ = try SchemaInference.inspect(missing, label: "Left")
        }
        let unnamed = try scratch("unnamed.csv", "id,x,y\na,1,2\nb,2,3\n")
        #expect(throws: DataError.self) { _ = try SchemaInference.inspect(unnamed) }
    }

    @Test func anIdWithDuplicatesAndTextInANumberAreNamedByLineAndColumn() throws {
        let schema = DatasetSchema(
            name: "t", id: IdentifierColumn(name: "id"), label: LabelColumn(name: "Churn", positive: ["Yes"], negative: ["No"]),
            columns: [SchemaColumn(name: "minutes", type: .numeric)])
        let text = "id,minutes,Churn\na,10,Yes\nb,lots,No\na,12,No\n"
        do {
            _ = try DatasetReader.read(bytes: Array(text.utf8), name: "f.csv", schema: schema)
            Issue.record("a bad file was accepted")
        } catch {
            #expect(error.issues.map { "\($0.file):\($0.line) \($0.column ?? "-") \($0.value ?? "-")" } == ["f.csv:3 minutes lots", "f.csv:4 id a"])
            #expect(error.issues.last?.problem.contains("first on line 2") == true)
        }
    }

    // MARK: Encoding any schema

    @Test func missingNumbersAreFilledAndMarked() throws {
        let schema = SyntheticOperator.schema
        let dataset = SyntheticOperator.generate(customers: 400, seed: 1)
        let encoding = FeatureSchema.fit(dataset.customers)
        #expect(encoding.featureNames.contains("Data GB (missing)"))
        #expect(!encoding.featureNames.contains("Monthly bill (missing)"))
        #expect(encoding.inputFields.count == schema.inputs.count)
        let names = encoding.featureNames
        let dense = encoding.encode(dataset.customers).dense()
        let data = dataset.customers.numberColumn("Data GB")!
        let missingRow = try #require(data.firstIndex { $0.isNaN })
        let presentRow = try #require(data.firstIndex { !$0.isNaN })
        let indicator = names.firstIndex(of: "Data GB (missing)")!
        #expect(dense.values[missingRow * dense.columns + indicator] == 1)
        #expect(dense.values[presentRow * dense.columns + indicator] == 0)
        #expect(dense.values[missingRow * dense.columns + names.firstIndex(of: "Data GB")!] == 0, "the mean, standardised")
        #expect(names.contains("State=AK") && names.contains("International plan"))
    }

    @Test func aFirstReleaseFeatureSchemaIsReadIntoTheTelcoFields() throws {
        let legacy = #"""
            {"version": 1, "categorical": [{"field": 0, "seen": ["Female", "Male"]}, {"field": 13, "seen": ["Month-to-month", "Two year"]}],
             "numeric": [{"field": 0, "mean": 30, "std": 10, "missing_value": 0}, {"field": 2, "mean": 2000, "std": 1000, "missing_value": 0}],
             "history": {"window": 12, "means": [1, 2, 3], "stds": [1, 1, 1]}}
            """#
        let schema = try FeatureSchema.deserialize(Array(legacy.utf8))
        #expect(schema.version == FeatureSchema.currentVersion)
        #expect(schema.categorical.map(\.field) == ["gender", "Contract"])
        #expect(schema.numeric.map(\.field) == ["tenure", "TotalCharges"])
        #expect(schema.numeric.allSatisfy { !$0.indicator && $0.fill == 0 })
        #expect(schema.history?.fields == BuiltInSchemas.kaggle.derivedHistory)
        #expect(schema.width == 3 + 3 + 2 + 3, "the same columns as the first release encoded")
    }
}
