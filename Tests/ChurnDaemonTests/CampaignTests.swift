import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import ChurnTestSupport
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
        let control = Set(
            cohort.map(\.customerID).filter { ModelServing.bucket(key: "campaign:\(info.id):\(info.startedAt):\($0)") < 0.25 })
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

    @Test func anUpliftModelLearnsFromACampaignsOutcomesAndRanksByPredictedUplift() async throws {
        let fixture = CampaignFixture(customers: 2400, seed: 31)
        let folder = NSTemporaryDirectory() + "uplift-campaign-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try fixture.writeCustomers(to: folder + "/customers.csv")
        let harness = try DaemonHarness(kinds: [], shipped: ["random-forest"])
        try await harness.start()
        let client = try await harness.client()
        let risk = try await client.train(
            TrainParams(kind: "random_forest", data: folder + "/customers.csv", params: ["n_trees": 30], seed: 1))
        _ = try await client.promote(risk.ref.description)

        // Half the customers given the offer by the daemon's sticky hash; outcomes follow the
        // generator's response for the treated.
        let ids = fixture.customers.customers.ids
        let info = try await client.startCampaign(
            CampaignStartParams(offer: "two_year_contract", customers: ids.map { CampaignCustomer(customerID: $0) }, controlShare: 0.5))
        await expectDaemonError(.invalidData, field: "campaign", messageContains: "has no outcomes yet") { () async throws(ChurnClientError) in
            try await client.trainUplift(UpliftTrainParams(campaign: info.id, data: folder + "/customers.csv"))
        }
        let treated = Set(try await client.campaignMembers(info.id).filter { $0.arm == "treated" }.map(\.customerID))
        let natural = fixture.customers.churned!
        let outcomes = ids.enumerated().map { row, id in
            Outcome(
                customerID: id,
                churned: treated.contains(id)
                    ? TreatmentResponse.outcome(customerID: id, wouldChurn: natural[row], segment: fixture.segments[row]) : natural[row])
        }
        _ = try await client.feedback(outcomes)

        // A file without every campaign customer is refused, naming how many are missing.
        try fixture.customers.rows(Array(0..<2000)).writeCSV(to: folder + "/some.csv")
        await expectDaemonError(.invalidData, field: "data", messageContains: "400 of 2400 campaign customers with outcomes are not in") {
            () async throws(ChurnClientError) in
            try await client.trainUplift(UpliftTrainParams(campaign: info.id, data: folder + "/some.csv"))
        }
        await expectDaemonError(.invalidParams, field: "name") { () async throws(ChurnClientError) in
            try await client.trainUplift(UpliftTrainParams(campaign: info.id, data: folder + "/customers.csv", name: "churn"))
        }
        let messages = HistoryTests.Messages()
        let uplift = try await client.trainUplift(
            UpliftTrainParams(campaign: info.id, data: folder + "/customers.csv", params: ["n_trees": 60], seed: 2)
        ) { messages.append($0.message) }
        #expect(uplift.ref.description == "churn-uplift@1" && uplift.kind == "random_forest")
        #expect(UpliftEvidence(tags: uplift.tags) == UpliftEvidence(tags: ["uplift", "campaign:\(info.id)", "offer:two_year_contract"]))
        // 30% of each arm's churners and stayers held back (rounded per group).
        #expect(uplift.metrics["campaign_outcomes"] == 2400 && abs((uplift.metrics["val_rows"] ?? 0) - 720) <= 2, "30% held back: \(uplift.metrics)")
        let qini = try #require(uplift.metrics["val_qini"])
        // The arms are drawn by the daemon's hash of the campaign and its start time, so they differ
        // from run to run, and so does this Qini on 720 held-back customers: mean 0.056 and spread
        // 0.014 over 12 draws, yet one CI draw gave 0.0097 and one debug run -0.001. So it is only
        // checked to be a Qini coefficient (finite, at most the best ranking's 1); how well the model
        // ranks is judged on the generator's truth below, which does not depend on the draw.
        #expect(qini.isFinite && qini <= 1, "held-back Qini \(qini)")
        #expect(uplift.metrics["val_qini_by_risk"] != nil, "the risk ranking is judged beside it")
        #expect(messages.all.contains { $0.contains("held back") && $0.contains("treated") }, "\(messages.all)")

        // uplift.predict: the champion of the uplift model answers; a risk model does not.
        await expectDaemonError(.noChampion) { () async throws(ChurnClientError) in
            try await client.predictUplift([fixture.customers.record(at: 0)], model: "churn-uplift")
        }
        _ = try await client.promote(uplift.ref.description)
        let records = (0..<600).map { fixture.customers.record(at: $0) }
        let answer = try await client.predictUplift(records, model: "churn-uplift")
        #expect(answer.model == uplift.ref && answer.campaign == info.id && answer.offer == "two_year_contract")
        #expect(answer.predictions.map(\.customerID) == Array(ids.prefix(600)))
        #expect(answer.predictions.allSatisfy { abs($0.uplift - ($0.churnWithoutOffer - $0.churnWithOffer)) < 1e-12 })
        let persuadable = answer.predictions.indices.filter { fixture.segments[$0] == "persuadable" }
        let others = answer.predictions.indices.filter { fixture.segments[$0] != "persuadable" }
        let mean = { (rows: [Int]) in rows.reduce(0.0) { $0 + answer.predictions[$1].uplift } / Double(rows.count) }
        #expect(mean(persuadable) > mean(others) + 0.05, "persuadable \(mean(persuadable)), others \(mean(others))")
        await expectDaemonError(.notSupported, field: "model") { () async throws(ChurnClientError) in
            try await client.predictUplift(records, model: "churn")
        }
        await client.close()
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
