import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import Testing

/// An operator's own file, not telco's, through the real daemon and the shipped plugins: trained
/// on an inferred schema, predicted and explained over the socket in its own fields; and every
/// kind of bad file refused with its place named and nothing registered.
@Suite("Any operator's schema through the daemon", .serialized)
struct AnySchemaTests {
    /// The synthetic operator file (no id column, Churn True/False) in the harness's folder.
    private func operatorFile(_ harness: DaemonHarness, rows: Int = 1500) throws -> (path: String, dataset: Dataset) {
        let dataset = SyntheticOperator.generate(customers: rows, seed: 11)
        let path = harness.root + "/operator.csv"
        try SyntheticOperator.write(dataset, to: path)
        return (path, dataset)
    }

    @Test func everyKindTrainsPredictsAndExplainsOnANonTelcoSchema() async throws {
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest", "lstm", "lstm-attention"])
        try await harness.start()
        let client = try await harness.client()
        let (path, dataset) = try operatorFile(harness)
        let telcoFields = Set(BuiltInSchemas.kaggle.inputs.map(\.name) + ["customerID", "Churn"])
        var versions: [ModelVersionInfo] = []
        for (kind, params) in [("random_forest", ["n_trees": 60]), ("lstm", ["epochs": 25]), ("lstm_attention", ["epochs": 25])] as [(String, [String: JSONValue])] {
            let version = try await client.train(
                TrainParams(kind: kind, data: path, params: params, seed: 3, name: "operator", label: "Churn"))
            #expect((version.metrics["test_roc_auc"] ?? 0) > 0.7, "\(kind): \(version.metrics)")
            let schema = try DatasetSchema.decode(try #require(version.datasetSchema), source: "\(version.ref)")
            #expect(schema.id == nil, "the file has no id column")
            #expect(schema.label.column == "Churn" && schema.label.positive == ["True"])
            #expect(schema.inputs.contains { $0.name == "Customer service calls" && $0.type == .numeric })
            #expect(schema.inputs.contains { $0.name == "International plan" && $0.type == .boolean })
            #expect(schema.inputs.contains { $0.name == "Last plan change" && $0.type == .date })
            #expect(telcoFields.isDisjoint(with: schema.inputs.map(\.name)), "no telco field in sight")
            #expect(version.importances?.contains { $0.feature == "Customer service calls" } == true, "\(kind)")
            versions.append(version)
        }
        #expect(Set(versions.map(\.version)) == [1, 2, 3] && versions.allSatisfy { $0.name == "operator" })

        // Predict and explain over the socket, in the operator's own fields.
        _ = try await client.promote("operator@1")
        let records = (0..<30).map { dataset.record(at: $0) }.map { record -> CustomerRecord in
            var record = record
            record["row_id"] = nil  // a client of a file without ids sends none
            return record
        }
        let predictions = try await client.predict(records, model: "operator@champion")
        #expect(predictions.count == 30 && predictions.allSatisfy { (0...1).contains($0.churnProbability) })
        #expect(predictions.map(\.customerID) == (0..<30).map { "record-\($0)" })
        let explanations = try await client.explain(Array(records.prefix(3)), model: "operator@1", top: 4)
        for explained in explanations {
            #expect(explained.explanation.contributions.count == 4)
            #expect(telcoFields.isDisjoint(with: explained.explanation.contributions.map(\.feature)))
        }
        for version in versions.dropFirst() {
            let answers = try await client.predict(records, model: version.ref.description)
            #expect(answers.count == 30, "\(version.kind) serves the operator's records")
        }
        // A telco record for the operator model names the first field it lacks.
        await expectDaemonError(.invalidParams, field: "customers[0].State") { () async throws(ChurnClientError) in
            try await client.predict([testCustomer("t1")], model: "operator@1")
        }
        // And the default telco model, trained beside it, still takes telco records.
        _ = try await client.train(TrainParams(kind: "random_forest", data: try harness.writeTrainingCSV(), params: ["n_trees": 10]))
        _ = try await client.promote("churn@1")
        #expect(try await client.predict([testCustomer("t1")]).first?.model == ModelRef(name: "churn", version: 1))
        await client.close()
        try await harness.stop()
    }

    @Test func badFilesAreRefusedNamingTheirPlaceAndNothingIsRegistered() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        func file(_ name: String, _ text: String) throws -> String {
            let path = harness.root + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let rows = (0..<40).map { "c\($0),\($0 % 7),\($0 % 4 == 0 ? "Yes" : "No")" }
        let good = "id,calls,Churn\n" + rows.joined(separator: "\n") + "\n"
        let schema: JSONValue = .object([
            "id": "id", "label": .object(["column": "Churn", "positive": ["Yes"], "negative": ["No"]]),
            "columns": .array([.object(["name": "calls", "type": "numeric", "min": 0])]),
        ])
        let path = try file("good.csv", good)

        func invalidData(_ params: TrainParams, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            do {
                _ = try await client.train(params)
                Issue.record("trained on a bad file", sourceLocation: sourceLocation)
            } catch {
                #expect(error.rpcError?.knownCode == .invalidData, "\(error)", sourceLocation: sourceLocation)
                let errors = error.rpcError?.data?.objectValue?["errors"]?.arrayValue ?? []
                let text = error.description + " " + errors.map { String(decoding: JSONWriter.bytes($0), as: UTF8.self) }.joined()
                #expect(text.contains(expected), "\(text)", sourceLocation: sourceLocation)
            }
        }
        // A schema with an unknown type.
        let brokenSchema: JSONValue = .object([
            "label": .object(["column": "Churn", "positive": ["Yes"], "negative": ["No"]]),
            "columns": .array([.object(["name": "calls", "type": "count"])]),
        ])
        await invalidData(TrainParams(kind: "echo", data: path, schema: brokenSchema), "columns[0].type")
        // The label column absent from the file.
        await invalidData(TrainParams(kind: "echo", data: try file("nolabel.csv", "id,calls\nc1,2\n"), schema: schema), "Churn")
        // A label with a third value, named by line, column and value.
        await invalidData(
            TrainParams(kind: "echo", data: try file("third.csv", good + "c99,1,Maybe\n"), schema: schema), #""line":42"#)
        await invalidData(TrainParams(kind: "echo", data: try file("third2.csv", good + "c99,1,Maybe\n"), schema: schema), "Maybe")
        // An id column with duplicates.
        await invalidData(TrainParams(kind: "echo", data: try file("dup.csv", good + "c3,1,No\n"), schema: schema), "duplicate id")
        // A numeric column with text.
        await invalidData(TrainParams(kind: "echo", data: try file("text.csv", good + "c77,lots,No\n"), schema: schema), "lots")
        // An empty file, and one with a header only.
        await invalidData(TrainParams(kind: "echo", data: try file("empty.csv", ""), schema: schema), "empty")
        await invalidData(TrainParams(kind: "echo", data: try file("header.csv", "id,calls,Churn\n"), schema: schema), "no customer rows")
        // One class only.
        let stayers = "id,calls,Churn\n" + (0..<40).map { "s\($0),1,No" }.joined(separator: "\n")
        await invalidData(TrainParams(kind: "echo", data: try file("one.csv", stayers), schema: schema), "one class only")
        // The label given for inference has a third value.
        await invalidData(TrainParams(kind: "echo", data: try file("infer3.csv", good + "c99,1,Maybe\n"), label: "Churn"), "3 values")

        #expect(try await client.models().isEmpty, "a refused file registered a version")
        // The good file trains under its schema.
        let version = try await client.train(TrainParams(kind: "echo", data: path, schema: schema))
        #expect(version.version == 1)
        await client.close()
        try await harness.stop()
    }
}
