import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnRegistry

/// `churn registry migrate`: a whole registry copied between engines, checksums verified.
@Suite("Registry migration")
struct RegistryMigrationTests {
    private let artifact = Data((0..<50_000).map { UInt8(truncatingIfNeeded: ($0 * 131) % 241) })

    private func registration(_ name: String = "churn") -> ModelRegistration {
        ModelRegistration(name: name, kind: "random_forest", pluginVersion: "1", metrics: ["test_roc_auc": 0.8], tags: ["t"])
    }

    /// A registry with something in every table.
    private func populated(_ location: RegistryLocation) async throws -> ModelRegistry {
        let registry = try ModelRegistry(location: location)
        for index in 0..<3 { _ = try await registry.register(registration(), artifact: artifact + Data([UInt8(index)]), user: "a") }
        _ = try await registry.register(registration("prepaid"), artifact: artifact, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 2, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 3, user: "a")
        let experiment = try await registry.startExperiment(model: "churn", mode: "shadow", share: 0, champion: 3, challenger: 1, user: "a", note: nil)
        try PredictionLogStore(location: location).append(
            (0..<30).map {
                PredictionLogEntry(
                    requestID: "r", customerID: "c\($0)", model: "churn", version: 3, arm: .champion, probability: 0.4, latencyMicroseconds: 9,
                    at: 1_000, experimentID: experiment.id, monthlyBill: 50)
            })
        _ = try await registry.recordFeedback((0..<30).map { Outcome(customerID: "c\($0)", churned: $0 % 2 == 0) }, user: "ops")
        _ = try HistoryStore(location: location).upsert(model: "churn", months: [StoredMonth(customerID: "c1", period: 3, values: ["calls": .number(2)])])
        _ = try await registry.startCampaign(
            model: "churn", offer: "o", controlShare: 0.5, monthlyCost: 1, customers: (0..<10).map { CampaignCustomer(customerID: "c\($0)") },
            user: "a", note: nil) { _, _, customer in customer.hasSuffix("1") }
        return registry
    }

    @Test(arguments: TestRegistry.available) func everyTableIsCopiedWithItsIdsAndArtifactsChecked(target backend: TestRegistry) async throws {
        let source = try TestRegistry.sqlite.freshLocation()
        let original = try await populated(source)
        let target = try backend.freshLocation()
        let report = try RegistryMigration.copy(from: source, to: target, user: "ops")
        #expect(report.rows["versions"] == 4 && report.artifactsVerified == 4 && report.rows["prediction_log"] == 30)
        #expect(report.rows["campaign_members"] == 10 && report.rows["history_months"] == 1 && report.rows["feedback"] == 30)

        let copy = try ModelRegistry(location: target)
        #expect(try await copy.list().map(\.ref) == original.list().map(\.ref))
        #expect(try await copy.resolve(.champion()).version == 3)
        #expect(try await copy.rollbackAlias("champion", of: "churn", user: "b").to == 2, "alias history came along")
        for version in try await original.list() {
            #expect(try await copy.artifact(of: version.ref) == original.artifact(of: version.ref))
        }
        #expect(try await copy.verify().healthy)
        #expect(try await copy.auditLog().contains { $0.action == .migrate })
        let experiment = try #require(try await copy.runningExperiment(model: "churn"))
        #expect(try await copy.experimentOutcomes(experiment).first?.churned.count == 30)
        #expect(try await copy.campaignMembers(1).filter(\.treated).count == 9)
        // New rows continue after the copied ids.
        #expect(try await copy.register(registration(), artifact: artifact, user: "b").version == 4)
        #expect(try await copy.startCampaign(model: "churn", offer: "p", controlShare: 0.2, monthlyCost: 0, customers: [CampaignCustomer(customerID: "z")], user: "b", note: nil) { _, _, _ in false }.id == 2)

        // Into a registry that is not empty: refused, nothing changed.
        await #expect(throws: RegistryError.self) { _ = try RegistryMigration.copy(from: source, to: target, user: "ops") }
        #expect(try await copy.list().count == 5)
    }

    @Test(arguments: TestRegistry.available) func aDamagedArtifactStopsTheCopyAndLeavesTheTargetEmpty(target backend: TestRegistry) async throws {
        let source = try TestRegistry.sqlite.freshLocation()
        let original = try await populated(source)
        try await original.rawExecute("UPDATE artifacts SET data = substr(data, 1, 100) || x'00' || substr(data, 102) WHERE version_id = 2")
        let target = try backend.freshLocation()
        #expect {
            _ = try RegistryMigration.copy(from: source, to: target, user: "ops")
        } throws: { error in
            guard case .integrity(_, let detail) = error as? RegistryError else { return false }
            return detail.contains("source")
        }
        #expect(try await ModelRegistry(location: target).list().isEmpty, "nothing half-copied")
    }
}
