import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnRegistry

/// Issue 22 in the registry: campaign outcomes compared as days (item 14), and the audit row
/// that sums up repeated refused calls (item 6).
@Suite("Registry hardening")
struct RegistryHardeningTests {
    @Test(arguments: TestRegistry.available) func campaignOutcomesAreComparedAsDaysNotAsText(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: try backend.freshLocation())
        let customers = ["early", "late", "latest", "impossible", "none"].map { CampaignCustomer(customerID: $0) }
        let campaign = try await registry.startCampaign(
            model: "churn", offer: "o", controlShare: 0.5, monthlyCost: 0, customers: customers, user: "a", note: nil,
            assign: { _, _, _ in false })
        try await registry.rawExecute("UPDATE campaigns SET started_at = '2026-12-01T15:00:00.000Z' WHERE id = \(campaign.id)")
        // Dates as churnd stored them before it read them strictly.
        _ = try await registry.recordFeedback(
            [
                // February 3, before the campaign: as text "2026-2-3" sorts after "2026-12-01".
                Outcome(customerID: "early", churned: true, date: "2026-2-3"),
                Outcome(customerID: "late", churned: true, date: "2026-12-5"),
                // Observed on the 10th; an outcome observed on the 4th recorded after it is older.
                Outcome(customerID: "latest", churned: true, date: "2026-12-10"),
                Outcome(customerID: "latest", churned: false, date: "2026-12-4"),
                // No such day: not an observation.
                Outcome(customerID: "impossible", churned: true, date: "2026-02-30"),
            ], user: "a")
        let churned = Dictionary(uniqueKeysWithValues: try await registry.campaignMembers(campaign.id).map { ($0.customerID, $0.churned) })
        #expect(churned.count == 5)
        #expect(churned["early"] == .some(nil), "an outcome of February counted after a campaign of December")
        #expect(churned["late"] == true)
        #expect(churned["latest"] == true, "the outcome of the 4th taken as later than the 10th")
        #expect(churned["impossible"] == .some(nil))
        #expect(churned["none"] == .some(nil))
    }

    @Test(arguments: TestRegistry.available) func repeatedRefusalsAreOneRowWithTheirCountAndTimes(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: try backend.freshLocation())
        try await registry.auditRefusal(user: "mallory", uid: 1001, method: "models.delete")
        let first = Date(timeIntervalSince1970: 1_796_000_000)
        try await registry.auditRepeatedRefusals(
            user: "mallory", uid: 1001, method: "models.delete", count: 19_999, first: first, last: first.addingTimeInterval(3.7))
        let rows = try await registry.auditLog().filter { $0.action == .refused }
        #expect(rows.map(\.detail) == [
            "uid 1001 called models.delete without the admin role 19999 more times from 2026-11-30T00:53:20.000Z to 2026-11-30T00:53:23.700Z",
            "uid 1001 called models.delete without the admin role",
        ])
        #expect(rows.allSatisfy { $0.user == "mallory" })
    }
}
