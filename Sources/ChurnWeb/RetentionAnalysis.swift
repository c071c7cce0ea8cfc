import ChurnClient
import ChurnData
import ChurnProtocol

/// A change the retention team can offer a customer, as a change to the customer's record.
struct RetentionAction: Sendable {
    let id: String
    /// What the offer is, by string key (see ``WebStrings``).
    let titleKey: String
    /// Whether the offer makes sense for this customer (already on it: no).
    let applies: @Sendable (Customer) -> Bool
    /// The customer's record after accepting the offer.
    let apply: @Sendable (inout Customer) -> Void
    /// What the offer costs per month for a customer who stays (a discount), as a share of the bill.
    let monthlyCostShare: Double

    static let all: [RetentionAction] = [
        RetentionAction(
            id: "one_year_contract", titleKey: "action.one_year_contract",
            applies: { $0[.contract] == "Month-to-month" }, apply: { $0.set(.contract, to: "One year") }, monthlyCostShare: 0),
        RetentionAction(
            id: "two_year_contract", titleKey: "action.two_year_contract",
            applies: { $0[.contract] != "Two year" }, apply: { $0.set(.contract, to: "Two year") }, monthlyCostShare: 0),
        RetentionAction(
            id: "tech_support", titleKey: "action.tech_support",
            applies: { $0[.techSupport] == "No" }, apply: { $0.set(.techSupport, to: "Yes") }, monthlyCostShare: 0),
        RetentionAction(
            id: "online_security", titleKey: "action.online_security",
            applies: { $0[.onlineSecurity] == "No" }, apply: { $0.set(.onlineSecurity, to: "Yes") }, monthlyCostShare: 0),
        RetentionAction(
            id: "automatic_payment", titleKey: "action.automatic_payment",
            applies: { $0[.paymentMethod] == "Electronic check" || $0[.paymentMethod] == "Mailed check" },
            apply: { $0.set(.paymentMethod, to: "Credit card (automatic)") }, monthlyCostShare: 0),
        RetentionAction(
            id: "discount_10", titleKey: "action.discount_10",
            applies: { ($0[.monthlyCharges] ?? 0) > 0 },
            apply: { customer in
                customer.numbers[NumericField.monthlyCharges.rawValue] *= 0.9
            }, monthlyCostShare: 0.1),
    ]
}

/// What the retention page shows: at-risk segments, and offers ranked by the revenue they keep,
/// measured by re-scoring each at-risk customer's record with the offer applied (a what-if
/// through the champion, not a fixed table).
struct RetentionReport: Sendable {
    struct Segment: Sendable {
        var contract: String
        var internet: String
        var payment: String
        var customers: Int
        var meanRisk: Double
        /// Σ risk × monthly charges: the monthly revenue expected to leave.
        var revenueAtRisk: Double
        /// IBM's churn reasons among the segment's churned customers, most frequent first.
        var reasons: [(reason: String, count: Int)]
        /// The offer that keeps most revenue in this segment.
        var bestAction: String?
    }

    struct ActionResult: Sendable {
        var action: RetentionAction
        /// At-risk customers the offer applies to.
        var eligible: Int
        /// Mean drop in churn probability among them.
        var meanRiskDrop: Double
        /// Σ drop × monthly charges, less the offer's cost for those expected to stay.
        var monthlyRevenueKept: Double
    }

    var model: ModelRef
    var atRiskThreshold: Double
    var atRiskCustomers: Int
    var revenueAtRisk: Double
    var segments: [Segment]
    var actions: [ActionResult]

    /// At most this many of the riskiest customers are re-scored per offer.
    static let maximumScored = 3_000

    static func build(_ base: CustomerBase.Scored, link: DaemonLink, threshold: Double = 0.5) async throws -> RetentionReport {
        let table = base.customers
        let atRisk = base.byRisk.prefix(while: { base.risk[$0] >= threshold }).prefix(maximumScored).map { $0 }
        let customers = atRisk.map { table.customer(at: $0) }
        let version = base.model.description

        // Per offer: the drop in risk of every eligible at-risk customer, by re-scoring.
        var drops: [String: [Int: Double]] = [:]
        var results: [ActionResult] = []
        for action in RetentionAction.all {
            var positions: [Int] = []
            var changed: [CustomerRecord] = []
            for (position, customer) in customers.enumerated() where action.applies(customer) {
                var offered = customer
                action.apply(&offered)
                positions.append(position)
                changed.append(offered.record)
            }
            let after = try await link.probabilities(changed, model: version).probabilities
            var kept = 0.0
            var dropSum = 0.0
            var perCustomer: [Int: Double] = [:]
            for (index, position) in positions.enumerated() {
                let row = atRisk[position]
                let charges = customers[position][.monthlyCharges] ?? 0
                let drop = base.risk[row] - after[index]
                let value = drop * charges - action.monthlyCostShare * charges * (1 - after[index])
                perCustomer[row] = value
                kept += value
                dropSum += drop
            }
            drops[action.id] = perCustomer
            results.append(
                ActionResult(
                    action: action, eligible: positions.count, meanRiskDrop: positions.isEmpty ? 0 : dropSum / Double(positions.count),
                    monthlyRevenueKept: kept))
        }
        results.sort { $0.monthlyRevenueKept > $1.monthlyRevenueKept }

        // Segments over the whole base: contract × internet × payment.
        struct Key: Hashable { var contract: String, internet: String, payment: String }
        var rows: [Key: [Int]] = [:]
        for row in 0..<table.count {
            let customer = table.customer(at: row)
            rows[Key(contract: customer[.contract], internet: customer[.internetService], payment: customer[.paymentMethod]), default: []]
                .append(row)
        }
        var segments: [Segment] = rows.map { key, members in
            var risk = 0.0
            var revenue = 0.0
            var reasons: [String: Int] = [:]
            for row in members {
                risk += base.risk[row]
                revenue += base.risk[row] * table.number(.monthlyCharges, row)
                if let reason = base.churnReasons?[row], !reason.isEmpty { reasons[reason, default: 0] += 1 }
            }
            var best: (String, Double)?
            for action in RetentionAction.all {
                let value = members.reduce(0.0) { $0 + (drops[action.id]?[$1] ?? 0) }
                if value > 0, value > (best?.1 ?? 0) { best = (action.titleKey, value) }
            }
            return Segment(
                contract: key.contract, internet: key.internet, payment: key.payment, customers: members.count,
                meanRisk: risk / Double(members.count), revenueAtRisk: revenue,
                reasons: reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3).map { ($0.key, $0.value) },
                bestAction: best?.0)
        }
        segments.sort { $0.revenueAtRisk > $1.revenueAtRisk }
        let totalAtRisk = (0..<table.count).reduce(0.0) { $0 + base.risk[$1] * table.number(.monthlyCharges, $1) }
        return RetentionReport(
            model: base.model, atRiskThreshold: threshold, atRiskCustomers: atRisk.count, revenueAtRisk: totalAtRisk,
            segments: Array(segments.prefix(12)), actions: results)
    }
}
