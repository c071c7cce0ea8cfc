import ChurnData
import ChurnProtocol
import Foundation
import Testing

@Suite("Feature encoding and sequences")
struct EncodingTests {
    private func table(_ rows: [String]) throws -> CustomerTable {
        try DatasetReader.read(bytes: csvBytes(([Rows.header] + rows).joined(separator: "\n")), name: "t.csv", schema: BuiltInSchemas.kaggle)
            .0.customers
    }

    private let telcoHistory = BuiltInSchemas.kaggle.derivedHistory!

    @Test func oneHotWithAnUnknownBucketAndStandardisedNumbers() throws {
        let training = try table([
            Rows.row(id: "a", tenure: "10", contract: "Month-to-month", monthly: "50", total: "500"),
            Rows.row(id: "b", tenure: "30", contract: "One year", monthly: "70", total: "2100"),
        ])
        let schema = FeatureSchema.fit(training)
        let names = schema.featureNames
        #expect(names.contains("Contract=Month-to-month") && names.contains("Contract=One year") && names.contains("Contract=unknown"))
        #expect(!names.contains("Contract=Two year"), "only values seen in training get a column")
        let unseen = try table([Rows.row(id: "c", tenure: "20", contract: "Two year", monthly: "60", total: "1200")])
        let encoded = schema.encode(unseen).dense()
        func value(_ name: String) -> Float { encoded.values[names.firstIndex(of: name)!] }
        #expect(value("Contract=unknown") == 1 && value("Contract=Month-to-month") == 0)
        #expect(value("tenure") == 0, "20 is the training mean of 10 and 30")
        #expect(value("MonthlyCharges") == 0)
        #expect(encoded.columns == schema.width && names.count == schema.width)
    }

    @Test func aFewRowsAreEncodedExactlyAsTheSameRowsInALargeTable() throws {
        // Under FeatureSchema.rowsForLookupTable rows, categorical values are looked up directly;
        // above, through a table per field: both must give the same columns, unseen values included.
        let training = try table([
            Rows.row(id: "a", tenure: "10", contract: "Month-to-month", monthly: "50", total: "500"),
            Rows.row(id: "b", tenure: "30", contract: "One year", monthly: "70", total: "2100"),
        ])
        let schema = FeatureSchema.fit(training)
        let contracts = ["Two year", "One year", "Month-to-month"]
        let rows = (0..<40).map { index in
            Rows.row(id: "r\(index)", tenure: "\(index)", contract: contracts[index % 3], monthly: "\(40 + index)", total: "\(400 + 10 * index)")
        }
        let large = try table(rows)
        #expect(large.count > 16)
        let whole = schema.encode(large)
        for (index, row) in rows.enumerated() {
            let single = schema.encode(try table([row]))
            #expect(single == whole.rows([index]), "row \(index) (\(contracts[index % 3])) alone")
        }
    }

    @Test func aMissingTotalChargeIsZeroBeforeScaling() throws {
        let training = try table([Rows.row(id: "a", tenure: "0", total: " "), Rows.row(id: "b", tenure: "10", total: "800")])
        let schema = FeatureSchema.fit(training)
        let column = schema.featureNames.firstIndex(of: "TotalCharges")!
        let encoded = schema.encode(training).dense()
        #expect(encoded.values[column] == -1 && encoded.values[schema.width + column] == 1, "0 and 800 around a mean of 400")
    }

    @Test func theSchemaRoundTripsAndEncodesIdentically() throws {
        guard let path = RealData.require(RealData.trainPath) else { return }
        let customers = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle).0.customers
        let schema = FeatureSchema.fit(customers, derivedHistory: telcoHistory)
        let restored = try FeatureSchema.deserialize(schema.serialized())
        #expect(restored == schema)
        #expect(restored.encode(customers) == schema.encode(customers))
        let compact = schema.encode(customers)
        let dense = compact.dense()
        for row in [0, 17, 5633] {
            for column in 0..<schema.width {
                #expect(compact.value(row, column) == dense.values[row * schema.width + column])
            }
            #expect(dense.row(row).filter { $0 == 1 }.count >= customers.layout.categoricalNames.count, "one active column per field")
        }
        var stale = schema
        stale.version = 99
        #expect(throws: FeatureSchema.IncompatibleSchema.self) { _ = try FeatureSchema.deserialize(stale.serialized()) }
    }

    @Test func derivedHistoryFollowsTheGuideFormula() throws {
        // T = 3, M = 80, C = 210: A = 70, p0 = max(2·70 − 80, 0) = 60; charges 60, 70, 80 for months 1...3.
        let customers = try table([Rows.row(id: "a", tenure: "3", monthly: "80", total: "210")])
        let batch = DerivedHistory.sequences(customers, fields: telcoHistory, window: 5)
        #expect(batch.mask == [0, 0, 1, 1, 1], "months before joining are padding")
        #expect(batch.months == [0, 0, 1, 2, 3])
        let step = { (index: Int) in Array(batch.values[(index * 4)..<(index * 4 + 4)]) }
        #expect(step(0) == [0, 0, 0, 0])
        #expect(step(2) == [1, 0.6, Float(1.0 / 72), Float(-0.2)])
        #expect(step(4) == [1, 0.8, Float(3.0 / 72), 0])
        let aggregates = DerivedHistory.aggregates(tenure: 3, monthly: 80, total: 210, window: 5)
        #expect(aggregates.last == 80 && aggregates.mean == 70 && abs(aggregates.slope - 10) < 1e-12)
    }

    @Test func tenureZeroHasNoMonthsAndBlankChargesUseTheMonthlyPrice() throws {
        let customers = try table([Rows.row(id: "a", tenure: "0", monthly: "50", total: " ")])
        #expect(DerivedHistory.sequences(customers, fields: telcoHistory).mask.allSatisfy { $0 == 0 })
        #expect(DerivedHistory.charge(month: 1, tenure: 1, monthly: 50, total: .nan) == 50)
    }

    @Test func panelsMaskGapsAndShortHistories() throws {
        let path = NSTemporaryDirectory() + "panel-\(UUID().uuidString).csv"
        try """
            customer_id,period,charge,calls
            a,2026-01,10,1
            a,2026-02,20,0
            a,2026-04,40,2
            b,5,7,0
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let schema = PanelSchema(columns: [SchemaColumn(name: "charge", type: .numeric), SchemaColumn(name: "calls", type: .numeric)], window: 4)
        let panel = try MonthlyPanel.read(path, schema: schema)
        #expect(panel.columns == ["charge", "calls"])
        let encoding = HistoryEncoding(
            window: 4,
            columns: [
                HistoryEncoding.Column(name: "charge", mean: 0, standardDeviation: 10),
                HistoryEncoding.Column(name: "calls", mean: 0, standardDeviation: 1),
            ])
        let batch = encoding.sequences(panel.months(for: ["a", "b", "nobody"]))
        #expect(batch.mask == [1, 1, 0, 1, /* b */ 0, 0, 0, 1, /* nobody */ 0, 0, 0, 0])
        #expect(Array(batch.values[0..<3]) == [1, 1, 1], "2026-01: valid, 10/10, 1/1")
        #expect(Array(batch.values[9..<12]) == [1, 4, 2], "2026-04 is the last step")
        #expect(batch.months[3] == MonthlyPanel.parsePeriod("2026-04") && batch.months[7] == 5)
    }

    @Test func theEncodingIsFittedOnTrainingMonthsWithCategoriesAndMissingValues() throws {
        let schema = PanelSchema(
            columns: [
                SchemaColumn(name: "data_gb", type: .numeric, blank: .missing),
                SchemaColumn(name: "plan", type: .categorical, values: ["basic", "plus"], open: true),
            ], window: 2)
        let first: [PanelMonth] = [
            PanelMonth(period: 1, values: [.number(2), .category("basic")]), PanelMonth(period: 2, values: [.number(4), .category("plus")]),
        ]
        let second: [PanelMonth] = [PanelMonth(period: 7, values: [.missing, .category("gold")])]
        let months: [[PanelMonth]] = [first, second]
        let encoding = HistoryEncoding.fit(months, panel: schema)
        #expect(encoding.columns[0].mean == 3 && encoding.columns[0].standardDeviation == 1, "missing values are not counted")
        #expect(encoding.columns[1].values == ["basic", "plus", "gold"], "declared values first, then those seen")
        #expect(encoding.featureNames == ["valid", "data_gb", "plan=basic", "plan=plus", "plan=gold", "plan=unknown"])
        let third: [PanelMonth] = [PanelMonth(period: 3, values: [.number(5), .category("silver")])]
        let batch = encoding.sequences(months + [third])
        let width = encoding.stepFeatures
        let firstMonth: [Float] = [1, -1, 1, 0, 0, 0]
        let unseenPlan: [Float] = [1, 2, 0, 0, 0, 1]
        #expect(Array(batch.values[0..<width]) == firstMonth, "month 1 of the first customer")
        #expect(Array(batch.values[(2 * 2 + 1) * width..<(2 * 2 + 2) * width]) == unseenPlan, "an unseen plan is unknown")
        #expect(batch.values[(1 * 2 + 1) * width + 1] == 0, "a missing number is the training mean")
        #expect(batch.values[(1 * 2 + 1) * width + 4] == 1, "gold was seen in training")
    }

    @Test func badPanelCellsAreNamed() throws {
        let path = NSTemporaryDirectory() + "panel-\(UUID().uuidString).csv"
        try "customer_id,period,charge\na,2026-13,1\nb,3,lots\na,2026-13,2\nb,3,4\nb,3,5\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let schema = PanelSchema(columns: [SchemaColumn(name: "charge", type: .numeric)])
        #expect {
            _ = try MonthlyPanel.read(path, schema: schema)
        } throws: { error in
            (error as? DataError)?.issues.map { "\($0.line) \($0.column ?? "-")" } == ["2 period", "3 charge", "4 period", "6 period"]
        }
    }

    @Test func inlineMonthsAreCheckedAndNamedByRecordAndMonth() throws {
        var schema = BuiltInSchemas.kaggle
        schema.history = PanelSchema(columns: [SchemaColumn(name: "data_gb", type: .numeric)])
        let good = CustomerRecord(["customerID": .string("a")], history: [["period": .string("2026-02"), "data_gb": .number(3)]])
        let bad = CustomerRecord(
            ["customerID": .string("b")],
            history: [["period": .string("2026-01"), "data_gb": .number(1)], ["period": .string("2026-02"), "data_gb": .string("lots")]])
        let twice = CustomerRecord(
            ["customerID": .string("c")], history: [["period": .number(4), "data_gb": .number(1)], ["period": .string("4"), "data_gb": .number(2)]])
        #expect(try schema.months(of: [good]) == [[PanelMonth(period: 2026 * 12 + 2, values: [.number(3)])]])
        #expect(throws: FieldProblem(field: "customers[1].history[1].data_gb", reason: "expected a number, got \"lots\"")) {
            _ = try schema.months(of: [good, bad])
        }
        #expect {
            _ = try schema.months(of: [twice])
        } throws: { error in
            (error as? FieldProblem)?.field == "customers[0].history[1].period"
        }
        #expect(schema.history!.records(of: try schema.months(of: [good])[0]) == [["period": .string("2026-02"), "data_gb": .number(3)]])
    }
}
