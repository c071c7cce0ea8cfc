import ChurnProtocol
import Foundation

/// A campaign member with the latest outcome observed since the campaign started.
public struct CampaignMember: Sendable, Hashable {
    public var customerID: String
    public var treated: Bool
    public var risk: Double?
    public var monthlyBill: Double?
    public var segment: String?
    /// Nil until feedback observed on or after the campaign's start says whether they left.
    public var churned: Bool?
}

extension ModelRegistry {
    // MARK: Campaigns

    /// Starts a campaign: each customer is treated or held back as control by `assign` (given
    /// the new campaign's id and start time, so assignment is sticky per campaign and customer,
    /// and campaign 1 of another registry holds back other customers); audited.
    public func startCampaign(
        model: String, offer: String, controlShare: Double, monthlyCost: Double, customers: [CampaignCustomer], user: String,
        note: String?, assign: (_ campaign: Int, _ startedAt: String, _ customer: String) -> Bool
    ) throws(RegistryError) -> CampaignInfo {
        let now = Self.timestamp()
        let id: Int64 = try storageOperation {
            try database.transaction {
                let id = try database.insertReturningID(
                    """
                    INSERT INTO campaigns (model, offer, control_share, monthly_cost, status, started_at, started_by, note)
                    VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                    """,
                    [.text(model), .text(offer), .real(controlShare), .real(monthlyCost), .text(now), .text(user), .optional(note)])
                var treated = 0
                let rows: [[SQLValue]] = customers.map { customer in
                    let control = assign(Int(id), now, customer.customerID)
                    if !control { treated += 1 }
                    return [
                        .integer(id), .text(customer.customerID), .text(control ? "control" : "treated"),
                        customer.risk.map { .real($0) } ?? .null, customer.monthlyBill.map { .real($0) } ?? .null,
                        .optional(customer.segment),
                    ]
                }
                try database.runMany(
                    "INSERT INTO campaign_members (campaign_id, customer_id, arm, risk, monthly_bill, segment) VALUES (?, ?, ?, ?, ?, ?)", rows)
                try audit(
                    at: now, user: user, action: .campaignStart, model: model, from: nil, to: nil,
                    detail: "campaign \(id): offer \(offer) to \(treated) of \(customers.count) customers, \(customers.count - treated) held back as control")
                return id
            }
        }
        return try campaign(Int(id))
    }

    /// Stops a running campaign; audited.
    public func stopCampaign(_ id: Int, user: String) throws(RegistryError) -> CampaignInfo {
        let info = try campaign(id)
        guard info.status == .running else { throw .conflict("campaign \(id) is already stopped") }
        let now = Self.timestamp()
        try storageOperation {
            try database.transaction {
                try database.run(
                    "UPDATE campaigns SET status = 'stopped', stopped_at = ?, stopped_by = ? WHERE id = ?",
                    [.text(now), .text(user), .integer(Int64(id))])
                try audit(at: now, user: user, action: .campaignStop, model: info.model, from: nil, to: nil, detail: "campaign \(id)")
            }
        }
        return try campaign(id)
    }

    /// Every campaign, newest first.
    public func campaigns() throws(RegistryError) -> [CampaignInfo] {
        let ids = try storageOperation { try database.query("SELECT id FROM campaigns ORDER BY id DESC").compactMap { $0.int("id") } }
        var result: [CampaignInfo] = []
        for id in ids { result.append(try campaign(id)) }
        return result
    }

    /// One campaign, with its arm sizes.
    public func campaign(_ id: Int) throws(RegistryError) -> CampaignInfo {
        let found = try storageOperation {
            try database.queryOne(
                """
                SELECT c.*, (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id AND m.arm = 'treated') AS treated,
                    (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id AND m.arm = 'control') AS control
                FROM campaigns c WHERE c.id = ?
                """, [.integer(Int64(id))])
        }
        guard let row = found else { throw .invalid(field: "campaign", reason: "there is no campaign \(id) (see churn campaign list)") }
        return CampaignInfo(
            id: id, model: row.text("model") ?? "", offer: row.text("offer") ?? "", controlShare: row.double("control_share") ?? 0,
            monthlyCost: row.double("monthly_cost") ?? 0, status: ExperimentStatus(rawValue: row.text("status") ?? ""),
            startedAt: row.text("started_at") ?? "", startedBy: row.text("started_by") ?? "", stoppedAt: row.text("stopped_at"),
            treated: row.int("treated") ?? 0, control: row.int("control") ?? 0, note: row.text("note"))
    }

    /// The members of a campaign with their latest outcome observed on or after its start day.
    ///
    /// Outcome dates are compared as days (``CalendarDate``), not as text: dates stored before
    /// churnd read them strictly may be written `2026-2-3`, which as text sorts after
    /// `2026-12-01`. A stored date that is no day at all (`2026-02-30`) is not an observation.
    public func campaignMembers(_ id: Int) throws(RegistryError) -> [CampaignMember] {
        let info = try campaign(id)
        guard let startDay = CalendarDate(storedText: String(info.startedAt.prefix(10))) else {
            throw .invalid(field: "campaign", reason: "campaign \(id) has no readable start time (\(info.startedAt))")
        }
        let rows = try storageOperation {
            try database.query(
                """
                SELECT m.customer_id AS customer, m.arm AS arm, m.risk AS risk, m.monthly_bill AS bill, m.segment AS segment,
                    f.id AS feedback, f.churned AS churned, f.observed_on AS observed
                FROM campaign_members m LEFT JOIN feedback f ON f.customer_id = m.customer_id
                WHERE m.campaign_id = ? ORDER BY m.customer_id
                """, [.integer(Int64(id))])
        }
        var members: [CampaignMember] = []
        // The latest outcome of the member being read: the latest day, then the latest recorded.
        var latest: (day: CalendarDate, feedback: Int)?
        for row in rows {
            let customer = row.text("customer") ?? ""
            if members.last?.customerID != customer {
                members.append(
                    CampaignMember(
                        customerID: customer, treated: row.text("arm") == "treated", risk: row.double("risk"),
                        monthlyBill: row.double("bill"), segment: row.text("segment"), churned: nil))
                latest = nil
            }
            guard let feedback = row.int("feedback"), let day = row.text("observed").flatMap(CalendarDate.init(storedText:)),
                day >= startDay
            else { continue }
            if let current = latest, (current.day, current.feedback) > (day, feedback) { continue }
            latest = (day, feedback)
            members[members.count - 1].churned = row.int("churned").map { $0 == 1 }
        }
        return members
    }
}
