import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import Testing

@testable import ChurnDaemon

/// Retention campaigns through the daemon: sticky random control groups, outcomes from feedback,
/// and a report checked against a hand computation.
@Suite("Retention campaigns", .serialized)
struct CampaignTests {
    @Test func aCampaignHoldsBackAControlGroupAndMeasuresTheUplift() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let cohort = (0..<400).map { index in
            CampaignCustomer(
                customerID: "c\(index)", risk: 0.6, monthlyBill: 50 + Double(index % 3) * 10, segment: index % 2 == 0 ? "even" : "odd")
        }
        let info = try await client.startCampaign(
            CampaignStartParams(offer: "two_year_contract", customers: cohort, controlShare: 0.25, monthlyCost: 5, note: "test"))
        // The assignment is the documented sticky hash of the campaign and the customer.
        let control = Set(cohort.map(\.customerID).filter { ModelServing.bucket(key: "campaign:\(info.id):\($0)") < 0.25 })
        #expect(info.control == control.count && info.treated == 400 - control.count)
        #expect((60...140).contains(control.count), "about a quarter held back: \(control.count)")

        // Outcomes: treated customers churn when their number is a multiple of 10, control ones
        // when it is a multiple of 4; customers 300 and up report nothing; one outcome predates the campaign.
        var outcomes: [Outcome] = []
        for index in 0..<300 {
            let id = "c\(index)"
            outcomes.append(Outcome(customerID: id, churned: control.contains(id) ? index % 4 == 0 : index % 10 == 0))
        }
        outcomes.append(Outcome(customerID: "c301", churned: true, date: "2000-01-01"))
        _ = try await client.feedback(outcomes)

        let report = try await client.campaignReport(info.id)
        let answered = (0..<300).map { "c\($0)" }
        let treatedIDs = answered.filter { !control.contains($0) }
        let controlIDs = answered.filter { control.contains($0) }
        let treatedChurned = treatedIDs.filter { Int($0.dropFirst())! % 10 == 0 }.count
        let controlChurned = controlIDs.filter { Int($0.dropFirst())! % 4 == 0 }.count
        #expect(report.treated.customers == info.treated && report.control.customers == info.control)
        #expect(report.treated.outcomes == treatedIDs.count, "an outcome from before the campaign does not count")
        #expect(report.treated.churned == treatedChurned && report.control.churned == controlChurned)
        let expected = try #require(
            CampaignStatistics.uplift(
                treatedChurned: treatedChurned, treated: treatedIDs.count, controlChurned: controlChurned, control: controlIDs.count))
        let uplift = try #require(report.uplift)
        #expect(abs(uplift.uplift.value - expected.uplift) < 1e-12 && abs(uplift.p - expected.p) < 1e-12)
        #expect(uplift.uplift.value > 0, "control churns more (1 in 4) than treated (1 in 10)")
        // Revenue kept: uplift × treated outcomes × their mean bill − cost × treated who stayed.
        let bills = treatedIDs.map { 50 + Double(Int($0.dropFirst())! % 3) * 10 }
        let meanBill = bills.reduce(0, +) / Double(bills.count)
        let kept = expected.uplift * Double(treatedIDs.count) * meanBill - 5 * Double(treatedIDs.count - treatedChurned)
        #expect(abs((report.monthlyRevenueKept ?? .nan) - kept) < 1e-9)
        #expect(Set(report.segments.map(\.segment)) == ["even", "odd"])
        #expect(report.segments.reduce(0) { $0 + $1.treated.customers + $1.control.customers } == 400)
        #expect(report.verdict.contains("points"))

        // Campaigns survive a restart, are audited, and stop once.
        await client.close()
        try await harness.stopKeepingState()
        try await harness.start()
        let again = try await harness.client()
        #expect(try await again.campaigns().map(\.id) == [info.id])
        #expect(try await again.campaignReport(info.id).control.customers == control.count, "the same arms after a restart")
        _ = try await again.stopCampaign(info.id)
        await expectDaemonError(.conflict) { () async throws(ChurnClientError) in try await again.stopCampaign(info.id) }
        let audit = try await again.audit().map(\.action)
        #expect(audit.contains(.campaignStart) && audit.contains(.campaignStop))
        await again.close()
        try await harness.stop()
    }

    @Test func aBadCohortIsRefusedByFieldAndNothingIsStored() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        await expectDaemonError(.invalidParams, field: "customers[2].customer_id", messageContains: "customers[0]") {
            () async throws(ChurnClientError) in
            try await client.startCampaign(
                CampaignStartParams(offer: "x", customers: ["a", "b", "a"].map { CampaignCustomer(customerID: $0) }))
        }
        await expectDaemonError(.invalidParams, field: "control_share") { () async throws(ChurnClientError) in
            try await client.startCampaign(CampaignStartParams(offer: "x", customers: [CampaignCustomer(customerID: "a")], controlShare: 1))
        }
        await expectDaemonError(.invalidParams, field: "customers[0].risk") { () async throws(ChurnClientError) in
            try await client.startCampaign(CampaignStartParams(offer: "x", customers: [CampaignCustomer(customerID: "a", risk: 1.5)]))
        }
        await expectDaemonError(.invalidParams, field: "campaign") { () async throws(ChurnClientError) in
            try await client.campaignReport(42)
        }
        #expect(try await client.campaigns().isEmpty)
        await client.close()
        try await harness.stop()
    }
}
