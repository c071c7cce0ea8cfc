/// Retention campaigns: an offer given to a targeted cohort, with a randomized control group
/// that is not offered anything, so the offer's effect is measured, not simulated.
public enum CampaignMethod {
    /// Assigns an offer to a cohort, holding back a sticky random control group.
    public enum Start: RPCMethod {
        public static let name = "campaigns.start"
        public typealias Params = CampaignStartParams
        public typealias Result = CampaignInfo
    }

    /// Every campaign, newest first.
    public enum List: RPCMethod {
        public static let name = "campaigns.list"
        public typealias Params = NoParams
        public typealias Result = CampaignsListResult
    }

    /// Ends a campaign: no more members; its report stays.
    public enum Stop: RPCMethod {
        public static let name = "campaigns.stop"
        public typealias Params = CampaignRefParams
        public typealias Result = CampaignInfo
    }

    /// Who is in which arm: the treated are the customers to contact.
    public enum Members: RPCMethod {
        public static let name = "campaigns.members"
        public typealias Params = CampaignRefParams
        public typealias Result = CampaignMembersResult
    }

    /// Churn treated vs control, the uplift with its test, revenue kept net of cost, per segment.
    public enum Report: RPCMethod {
        public static let name = "campaigns.report"
        public typealias Params = CampaignRefParams
        public typealias Result = CampaignReport
    }
}

/// One customer of a campaign's cohort.
public struct CampaignCustomer: Codable, Sendable, Hashable {
    public var customerID: String
    /// The churn risk when targeted, for the record.
    public var risk: Double?
    /// The monthly bill, for the revenue the campaign keeps.
    public var monthlyBill: Double?
    /// A segment label (e.g. `Month-to-month`) to report the uplift by.
    public var segment: String?

    public init(customerID: String, risk: Double? = nil, monthlyBill: Double? = nil, segment: String? = nil) {
        self.customerID = customerID
        self.risk = risk
        self.monthlyBill = monthlyBill
        self.segment = segment
    }

    enum CodingKeys: String, CodingKey {
        case risk, segment
        case customerID = "customer_id"
        case monthlyBill = "monthly_bill"
    }
}

/// Params of `campaigns.start`.
public struct CampaignStartParams: Codable, Sendable, Hashable {
    /// The offer given to the treated customers (an offer id of the retention configuration).
    public var offer: String
    public var customers: [CampaignCustomer]
    /// Share of the cohort held back as the control group, in (0, 1); default 0.2.
    public var controlShare: Double?
    /// What the offer costs per month for each treated customer who stays.
    public var monthlyCost: Double?
    /// The model whose targets these are (default `churn`).
    public var model: String?
    public var note: String?

    public init(
        offer: String, customers: [CampaignCustomer], controlShare: Double? = nil, monthlyCost: Double? = nil, model: String? = nil,
        note: String? = nil
    ) {
        self.offer = offer
        self.customers = customers
        self.controlShare = controlShare
        self.monthlyCost = monthlyCost
        self.model = model
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case offer, customers, model, note
        case controlShare = "control_share"
        case monthlyCost = "monthly_cost"
    }
}

/// Names a campaign by id.
public struct CampaignRefParams: Codable, Sendable, Hashable {
    public var campaign: Int

    public init(campaign: Int) { self.campaign = campaign }
}

/// A campaign.
public struct CampaignInfo: Codable, Sendable, Hashable {
    public var id: Int
    public var model: String
    public var offer: String
    public var controlShare: Double
    public var monthlyCost: Double
    /// `running` or `stopped`.
    public var status: ExperimentStatus
    public var startedAt: String
    public var startedBy: String
    public var stoppedAt: String?
    public var treated: Int
    public var control: Int
    public var note: String?

    public init(
        id: Int, model: String, offer: String, controlShare: Double, monthlyCost: Double, status: ExperimentStatus, startedAt: String,
        startedBy: String, stoppedAt: String?, treated: Int, control: Int, note: String?
    ) {
        self.id = id
        self.model = model
        self.offer = offer
        self.controlShare = controlShare
        self.monthlyCost = monthlyCost
        self.status = status
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.stoppedAt = stoppedAt
        self.treated = treated
        self.control = control
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case id, model, offer, status, treated, control, note
        case controlShare = "control_share"
        case monthlyCost = "monthly_cost"
        case startedAt = "started_at"
        case startedBy = "started_by"
        case stoppedAt = "stopped_at"
    }
}

/// The `campaigns.members` result.
public struct CampaignMembersResult: Codable, Sendable, Hashable {
    public struct Member: Codable, Sendable, Hashable {
        public var customerID: String
        /// `treated` (contact them with the offer) or `control` (do not).
        public var arm: String

        public init(customerID: String, arm: String) {
            self.customerID = customerID
            self.arm = arm
        }

        enum CodingKeys: String, CodingKey {
            case arm
            case customerID = "customer_id"
        }
    }

    public var members: [Member]

    public init(members: [Member]) { self.members = members }
}

/// The `campaigns.list` result.
public struct CampaignsListResult: Codable, Sendable, Hashable {
    public var campaigns: [CampaignInfo]

    public init(campaigns: [CampaignInfo]) { self.campaigns = campaigns }
}

/// One arm of a campaign: its customers, those with an outcome since the campaign started, and
/// the churn rate among them with its 95% Wilson interval.
public struct CampaignArm: Codable, Sendable, Hashable {
    public var customers: Int
    public var outcomes: Int
    public var churned: Int
    public var churnRate: Interval?

    public init(customers: Int, outcomes: Int, churned: Int, churnRate: Interval?) {
        self.customers = customers
        self.outcomes = outcomes
        self.churned = churned
        self.churnRate = churnRate
    }

    enum CodingKeys: String, CodingKey {
        case customers, outcomes, churned
        case churnRate = "churn_rate"
    }
}

/// The uplift: control churn rate minus treated churn rate (positive: the offer kept customers),
/// with its 95% interval and the two-proportion z-test.
public struct UpliftTest: Codable, Sendable, Hashable {
    public var uplift: Interval
    public var z: Double
    public var p: Double

    public init(uplift: Interval, z: Double, p: Double) {
        self.uplift = uplift
        self.z = z
        self.p = p
    }
}

/// Uplift in one segment.
public struct SegmentUplift: Codable, Sendable, Hashable {
    public var segment: String
    public var treated: CampaignArm
    public var control: CampaignArm
    public var uplift: UpliftTest?

    public init(segment: String, treated: CampaignArm, control: CampaignArm, uplift: UpliftTest?) {
        self.segment = segment
        self.treated = treated
        self.control = control
        self.uplift = uplift
    }
}

/// The `campaigns.report` result.
public struct CampaignReport: Codable, Sendable, Hashable {
    public var campaign: CampaignInfo
    public var treated: CampaignArm
    public var control: CampaignArm
    /// Absent until both arms have outcomes.
    public var uplift: UpliftTest?
    /// Monthly revenue kept net of the offer's cost: uplift × treated customers with an outcome ×
    /// their mean monthly bill, less the monthly cost for every treated customer who stayed.
    /// Absent without bills or without an uplift.
    public var monthlyRevenueKept: Double?
    public var segments: [SegmentUplift]
    /// One line for people.
    public var verdict: String

    public init(
        campaign: CampaignInfo, treated: CampaignArm, control: CampaignArm, uplift: UpliftTest?, monthlyRevenueKept: Double?,
        segments: [SegmentUplift], verdict: String
    ) {
        self.campaign = campaign
        self.treated = treated
        self.control = control
        self.uplift = uplift
        self.monthlyRevenueKept = monthlyRevenueKept
        self.segments = segments
        self.verdict = verdict
    }

    enum CodingKeys: String, CodingKey {
        case campaign, treated, control, uplift, segments, verdict
        case monthlyRevenueKept = "monthly_revenue_kept"
    }
}
