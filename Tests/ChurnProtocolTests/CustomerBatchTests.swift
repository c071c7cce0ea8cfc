import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// The columnar batch (`predict.batch`, plugin `predict` with `batch`): what PROTOCOL.md shows
/// decodes, both writers agree, and every malformed batch is refused naming the place.
@Suite("Customer batches by column")
struct CustomerBatchTests {
    /// PROTOCOL.md's example of a batch.
    static let example = #"""
        {"rows": 3,
         "fields": ["customerID", "tenure", "Contract", "PaperlessBilling"],
         "columns": [["7590-VHVEG", "5575-GNVDE", "3668-QPYBK"],
                     [1, 34, null],
                     {"values": ["Month-to-month", "One year"], "codes": [0, 1, 0]},
                     [true, false, true]]}
        """#

    @Test func protocolDocumentsBatchExampleDecodesToItsCustomers() throws {
        let examples = try SpecExamples.all()
        let request = try JSONParser.parse(Array(try #require(examples["predict.batch request"])))
        let params = try JSONValueDecoder.decode(PredictBatchParams.self, from: try #require(request.objectValue?["params"]))
        #expect(params.log == false && params.model == nil && params.batch.rows == 2)
        let second = params.batch.record(at: 1)
        #expect(second["customerID"] == "5575-GNVDE" && second["Contract"] == "One year" && second["tenure"] == 34)
        #expect(second["PaymentMethod"] == "Mailed check" && second["TotalCharges"] == 1889.5)
        let response = try JSONParser.parse(Array(try #require(examples["predict.batch response"])))
        let result = try JSONValueDecoder.decode(PredictBatchResult.self, from: try #require(response.objectValue?["result"]))
        #expect(result.probabilities == [0.62, 0.08] && result.answerer(of: 1).arm == "champion" && result.answeredBy == nil)
    }

    @Test func theDocumentedExampleDecodes() throws {
        let batch = try CustomerBatch(json: try JSONParser.parse(Array(Self.example.utf8)))
        #expect(batch.rows == 3 && batch.fields == ["customerID", "tenure", "Contract", "PaperlessBilling"])
        #expect(batch.record(at: 0)["tenure"] == 1 && batch.record(at: 0)["customerID"] == "7590-VHVEG")
        #expect(batch.record(at: 1) == ["customerID": "5575-GNVDE", "tenure": 34, "Contract": "One year", "PaperlessBilling": false])
        #expect(batch.record(at: 2)["tenure"] == .null && batch.record(at: 2)["Contract"] == "Month-to-month")
        // Through the daemon method's params as well.
        let params = try JSONValueDecoder.decode(
            PredictBatchParams.self, from: try JSONParser.parse(Array(#"{"batch": \#(Self.example), "model": "churn@3"}"#.utf8)))
        #expect(params.batch.records == batch.records && params.model == "churn@3")
    }

    @Test func writtenDirectlyAndThroughTheTreeTheBatchReadsBackTheSame() throws {
        let records: [CustomerRecord] = [
            ["customerID": "a", "tenure": 3, "Contract": "Two year", "Senior": true, "note": .null],
            ["customerID": "b \"q\"", "tenure": .null, "Contract": "One year", "Senior": false, "note": 7],
        ]
        let batch = CustomerBatch(records: records)
        #expect(batch.records == records)
        var direct: [UInt8] = []
        batch.writeJSON(into: &direct)
        let fromDirect = try CustomerBatch(json: try JSONParser.parse(direct))
        let fromTree = try JSONValueDecoder.decode(CustomerBatch.self, from: try JSONValueEncoder.encode(batch))
        #expect(fromDirect.records == batch.records && fromTree.records == batch.records)
        let dictionary = try CustomerBatch(
            rows: 3, fields: ["customerID", "Contract"],
            columns: [.strings(["x", "y", "z"]), .dictionary(values: ["One year", "Two year"], codes: [1, 1, 0])])
        var written: [UInt8] = []
        dictionary.writeJSON(into: &written)
        #expect(try CustomerBatch(json: try JSONParser.parse(written)) == dictionary)
        let subset = dictionary.rows([2, 0])
        #expect(subset.records == [["customerID": "z", "Contract": "One year"], ["customerID": "x", "Contract": "Two year"]])
    }

    @Test func aMalformedBatchIsRefusedNamingWhere() throws {
        func problem(_ text: String) -> String {
            do {
                _ = try JSONValueDecoder.decode(PredictBatchParams.self, from: try JSONParser.parse(Array(text.utf8)))
                return "accepted"
            } catch let error as DecodingError {
                let (field, reason) = error.fieldAndReason
                return "\(field): \(reason)"
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(#"{"batch": {"rows": 2, "fields": ["a"], "columns": [[1]]}}"#) == "batch.columns[0]: a has 1 values, but rows is 2")
        #expect(problem(#"{"batch": {"rows": 1, "fields": ["a", "a"], "columns": [[1], [2]]}}"#) == "batch.fields[1]: a is listed twice")
        #expect(problem(#"{"batch": {"rows": 1, "fields": ["a"], "columns": [[1], [2]]}}"#) == "batch.columns: has 2 columns for 1 fields")
        #expect(
            problem(#"{"batch": {"rows": 1, "fields": ["c"], "columns": [{"values": ["x"], "codes": [1]}]}}"#)
                == "batch.columns[0].codes[0]: c: code 1 is not an index into its 1 values")
        #expect(problem(#"{"batch": {"rows": 1, "fields": ["c"], "columns": [[{"x": 1}]]}}"#) == "batch.columns[0][0]: expected a string, number, boolean or null")
        #expect(problem(#"{"batch": {"fields": ["c"], "columns": [[1]]}}"#) == "batch.rows: required field is missing")
        #expect(problem(#"{"batch": {"rows": 1, "fields": [""], "columns": [[1]]}}"#) == "batch.fields[0]: is empty")
    }

    /// Numbers of a few decimals are written without the shortest-digits search: every one
    /// must still read back as exactly the same double, as must any other number.
    @Test func everyNumberWrittenReadsBackExactly() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 29.85, 1889.5, 0.0001, 99_999_999_999.9999, 0.1 + 0.2, 1e-7, 123_456.789, -56.95, 0.5157894736842105]
        for _ in 0..<20_000 {
            let decimals = Double(Int.random(in: 0...4, using: &generator))
            let scale = pow(10, decimals)
            values.append((Double(Int.random(in: -10_000_000...10_000_000, using: &generator)) / scale))
            values.append(Double.random(in: -1e6...1e6, using: &generator))
            values.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)))
        }
        let column = BatchColumn.numbers(values)
        let batch = try CustomerBatch(rows: values.count, fields: ["x"], columns: [column])
        var written: [UInt8] = []
        batch.writeJSON(into: &written)
        let read = try CustomerBatch(json: try JSONParser.parse(written))
        guard case .numbers(let back) = read.columns[0] else {
            Issue.record("not read back as numbers")
            return
        }
        for (value, readBack) in zip(values, back) where value.isFinite {
            #expect(readBack == value, "\(value) read back as \(readBack)")
        }
        #expect(String(decoding: written, as: UTF8.self).contains("29.85,1889.5,0.0001,99999999999.9999"))
    }

    @Test func pluginPredictParamsCarryEitherRecordsOrABatch() throws {
        let batch = CustomerBatch(records: [["customerID": "a", "tenure": 2]])
        let params = PluginPredictParams(model: "churn@1", batch: batch)
        var direct: [UInt8] = []
        params.writeJSON(into: &direct)
        let decoded = try JSONValueDecoder.decode(PluginPredictParams.self, from: try JSONParser.parse(direct))
        #expect(decoded.batch == batch && decoded.customers.isEmpty && decoded.count == 1)
        let both = #"{"model": "h", "customers": [], "batch": {"rows": 0, "fields": [], "columns": []}}"#
        #expect(throws: DecodingError.self) { try JSONValueDecoder.decode(PluginPredictParams.self, from: try JSONParser.parse(Array(both.utf8))) }
    }
}
