import ChurnProtocol
import Testing

@testable import ChurnData

/// The generator's documented response to an offer: half of persuadable churners kept, nobody else.
@Suite("Synthetic treatment response")
struct TreatmentResponseTests {
    @Test func persuadablesRespondAndNobodyElseDoes() {
        #expect(TreatmentResponse.segment(contract: "Month-to-month", tenure: 5) == "persuadable")
        #expect(TreatmentResponse.segment(contract: "Month-to-month", tenure: 30) == "unaffected")
        #expect(TreatmentResponse.segment(contract: "Two year", tenure: 5) == "unaffected")
        let ids = (0..<4000).map { "SYN-\($0)" }
        let kept = ids.filter { !TreatmentResponse.outcome(customerID: $0, wouldChurn: true, segment: "persuadable") }.count
        #expect(abs(Double(kept) / 4000 - TreatmentResponse.persuadableEffect) < 0.03, "about half kept: \(kept)")
        #expect(ids.allSatisfy { TreatmentResponse.outcome(customerID: $0, wouldChurn: true, segment: "unaffected") })
        #expect(ids.allSatisfy { !TreatmentResponse.outcome(customerID: $0, wouldChurn: false, segment: "persuadable") }, "stayers stay")
        // The same customer responds the same way every time.
        #expect(TreatmentResponse.outcome(customerID: "SYN-7", wouldChurn: true, segment: "persuadable")
            == TreatmentResponse.outcome(customerID: "SYN-7", wouldChurn: true, segment: "persuadable"))
        let record = CustomerRecord(["Contract": .string("Month-to-month"), "tenure": .number(3)])
        #expect(TreatmentResponse.segment(of: record) == "persuadable")
        #expect(TreatmentResponse.segment(of: CustomerRecord(["plan": .string("basic")])) == nil)
    }
}
