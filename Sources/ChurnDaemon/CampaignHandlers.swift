import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry

/// `campaigns.*`: retention offers given to a cohort with a randomized control group, and their
/// measured effect from the outcomes that arrive through `feedback`.
struct CampaignHandlers {
    let serving: ModelServing
    let registry: ModelRegistry
    let training: ModelTraining

    /// The most customers one campaign may hold.
    static let maximumCohort = 1_000_000

    func register(into table: inout RPCMethodTable) {
        let registry = self.registry
        table.register(CampaignMethod.Start.self) { params, context in
            try Self.check(params)
            let share = params.controlShare ?? 0.2
            return try await registry.startCampaign(
                model: params.model ?? ModelReference.defaultName, offer: params.offer, controlShare: share,
                monthlyCost: params.monthlyCost ?? 0, customers: params.customers, user: DaemonHandlers.user(context), note: params.note
            ) { campaign, startedAt, customer in
                Self.isControl(campaign: campaign, startedAt: startedAt, customer: customer, share: share)
            }
        }
        table.register(CampaignMethod.List.self) { _, _ in
            CampaignsListResult(campaigns: try await registry.campaigns())
        }
        table.register(CampaignMethod.Stop.self) { params, context in
            try await registry.stopCampaign(params.campaign, user: DaemonHandlers.user(context))
        }
        table.register(CampaignMethod.Members.self) { params, _ in
            CampaignMembersResult(
                members: try await registry.campaignMembers(params.campaign).map {
                    CampaignMembersResult.Member(customerID: $0.customerID, arm: $0.treated ? "treated" : "control")
                })
        }
        let training = self.training
        table.register(CampaignMethod.TrainUplift.self) { params, context in
            try await training.trainUplift(params, context: context)
        }
        let serving = self.serving
        table.register(CampaignMethod.PredictUplift.self) { params, _ in
            try await serving.uplift(params.customers, reference: params.model)
        }
        table.register(CampaignMethod.Report.self) { params, _ in
            // Feedback just recorded is in the database already; the report reads it there.
            let info = try await registry.campaign(params.campaign)
            return Self.report(info, members: try await registry.campaignMembers(params.campaign))
        }
    }

    /// Whether a customer is held back: the hash of the campaign's id, its start time and the
    /// customer below the control share. Sticky (the arms are stored, and the same inputs give
    /// the same arm), and different for campaign 1 of another registry.
    static func isControl(campaign: Int, startedAt: String, customer: String, share: Double) -> Bool {
        ExperimentRouter.bucket(key: "campaign:\(campaign):\(startedAt):\(customer)") < share
    }

    static func check(_ params: CampaignStartParams) throws {
        guard !params.offer.isEmpty else { throw RPCError.invalidParams(field: "offer", "must name the offer") }
        guard !params.customers.isEmpty else { throw RPCError.invalidParams(field: "customers", "must hold at least one customer") }
        guard params.customers.count <= maximumCohort else {
            throw RPCError.invalidParams(field: "customers", "holds \(params.customers.count) customers; at most \(maximumCohort)")
        }
        if let share = params.controlShare, !(share > 0 && share < 1) {
            throw RPCError.invalidParams(field: "control_share", "must be between 0 and 1 (exclusive), got \(share)")
        }
        if let cost = params.monthlyCost, !(cost >= 0 && cost.isFinite) {
            throw RPCError.invalidParams(field: "monthly_cost", "must be 0 or more, got \(cost)")
        }
        var seen: [String: Int] = [:]
        for (index, customer) in params.customers.enumerated() {
            guard !customer.customerID.isEmpty else {
                throw RPCError.invalidParams(field: "customers[\(index)].customer_id", "must not be empty")
            }
            if let first = seen.updateValue(index, forKey: customer.customerID) {
                throw RPCError.invalidParams(
                    field: "customers[\(index)].customer_id", "\(customer.customerID) is also customers[\(first)]: each customer once")
            }
            if let risk = customer.risk, !(0...1).contains(risk) {
                throw RPCError.invalidParams(field: "customers[\(index)].risk", "must be between 0 and 1, got \(risk)")
            }
            if let bill = customer.monthlyBill, !(bill >= 0 && bill.isFinite) {
                throw RPCError.invalidParams(field: "customers[\(index)].monthly_bill", "must be 0 or more, got \(bill)")
            }
        }
    }

    /// The report of a campaign from its members and their outcomes.
    static func report(_ info: CampaignInfo, members: [CampaignMember]) -> CampaignReport {
        let treated = members.filter(\.treated)
        let control = members.filter { !$0.treated }
        let treatedArm = arm(treated)
        let controlArm = arm(control)
        let test = uplift(treatedArm, controlArm)
        // Revenue kept: the customers the offer kept (uplift × treated with an outcome) at the
        // mean bill of the treated, less the offer's monthly cost for every treated customer who stayed.
        var revenue: Double?
        let bills = treated.filter { $0.churned != nil }.compactMap(\.monthlyBill)
        if let test, !bills.isEmpty {
            let meanBill = bills.reduce(0, +) / Double(bills.count)
            let stayed = Double(treatedArm.outcomes - treatedArm.churned)
            revenue = test.uplift.value * Double(treatedArm.outcomes) * meanBill - info.monthlyCost * stayed
        }
        let segments = Dictionary(grouping: members.filter { $0.segment != nil }, by: { $0.segment! }).map { segment, rows in
            let t = arm(rows.filter(\.treated))
            let c = arm(rows.filter { !$0.treated })
            return SegmentUplift(segment: segment, treated: t, control: c, uplift: uplift(t, c))
        }.sorted { $0.segment < $1.segment }
        let verdict: String
        if let test {
            let percent = { (value: Double) in String(format: "%.1f", value * 100) }
            let direction = test.uplift.low > 0 ? "the offer kept customers" : test.uplift.high < 0 ? "the offer increased churn" : "no effect shown yet"
            verdict = "\(direction): churn \(percent(controlArm.churnRate?.value ?? 0))% in control vs \(percent(treatedArm.churnRate?.value ?? 0))% treated, uplift \(percent(test.uplift.value)) points [\(percent(test.uplift.low)), \(percent(test.uplift.high))], p \(String(format: "%.4f", test.p)) over \(treatedArm.outcomes + controlArm.outcomes) outcomes"
        } else {
            verdict = "no outcomes yet in both arms: record who stayed and who left with churn feedback"
        }
        return CampaignReport(
            campaign: info, treated: treatedArm, control: controlArm, uplift: test, monthlyRevenueKept: revenue, segments: segments,
            verdict: verdict)
    }

    static func arm(_ members: [CampaignMember]) -> CampaignArm {
        let outcomes = members.compactMap(\.churned)
        let churned = outcomes.filter { $0 }.count
        let rate = CampaignStatistics.wilson(churned, of: outcomes.count).map { Interval(value: $0.rate, low: $0.low, high: $0.high) }
        return CampaignArm(customers: members.count, outcomes: outcomes.count, churned: churned, churnRate: rate)
    }

    static func uplift(_ treated: CampaignArm, _ control: CampaignArm) -> UpliftTest? {
        CampaignStatistics.uplift(
            treatedChurned: treated.churned, treated: treated.outcomes, controlChurned: control.churned, control: control.outcomes
        ).map { UpliftTest(uplift: Interval(value: $0.uplift, low: $0.low, high: $0.high), z: $0.z, p: $0.p) }
    }
}
