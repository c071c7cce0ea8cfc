import ChurnProtocol
import Foundation
import Testing

/// The protocol's named values are open enums: known ones by name, unknown ones kept as sent.
@Suite("Protocol vocabulary")
struct VocabularyTests {
    @Test func knownValuesEncodeAsTheirWireStrings() throws {
        let prediction = Prediction(
            customerID: "a", churnProbability: 0.2, churn: false, model: ModelRef(name: "churn", version: 1), arm: .challenger)
        let json = try JSONValueEncoder.encode(prediction)
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        #expect(members["arm"] == .string("challenger"))
        let status = PluginStatus(
            kind: "echo", executable: "/x", state: .restarting, pid: nil, description: nil, restarts: 1, lastError: nil)
        #expect(String(decoding: try JSONEncoder().encode(status), as: UTF8.self).contains(#""state":"restarting""#))
    }

    @Test func aValueThisBuildDoesNotKnowStillDecodesAndShowsAsItself() throws {
        let json = Data(#"{"kind":"echo","executable":"/x","state":"hibernating","restarts":0}"#.utf8)
        let status = try JSONDecoder().decode(PluginStatus.self, from: json)
        #expect(status.state == PluginState(rawValue: "hibernating"))
        #expect(status.state != .ready)
        #expect("\(status.state)" == "hibernating")
        #expect(!ExperimentMode.known.contains(ExperimentMode(rawValue: "canary")))
    }

    @Test func literalsAndStaticMembersAreTheSameValue() {
        #expect(Arm.champion == "champion")
        #expect(ExperimentMode.ab == "ab")
        #expect(AuditAction.import.rawValue == "import")
        #expect(Set<ExperimentStatus>([.running, "running", .stopped]).count == 2)
    }
}
