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

    /// Trains an uplift model (two forests: treated and control) on a campaign's customers with
    /// outcomes, judges it by the Qini coefficient on held-back campaign customers, and
    /// registers it as a version like any other. Streams `progress`.
    public enum TrainUplift: RPCMethod {
        public static let name = "campaigns.train_uplift"
        public typealias Params = UpliftTrainParams
        public typealias Result = ModelVersionInfo
    }

    /// Each customer's churn probability without and with the offer, and the difference (the
    /// churn the offer is expected to prevent), from an uplift model's champion.
    public enum PredictUplift: RPCMethod {
        public static let name = "uplift.predict"
        public typealias Params = UpliftPredictParams
        public typealias Result = UpliftPredictResult
    }
}

/// Params of `campaigns.train_uplift`.
public struct UpliftTrainParams: Codable, Sendable, Hashable {
    public var campaign: Int
    /// A customer CSV holding every campaign customer with an outcome (their fields as of the
    /// campaign's start, under the campaign model's schema); its label column, if any, is not
    /// read: the outcomes are the campaign's feedback.
    public var data: String
    /// The model name the version is registered under (default `<campaign model>-uplift`).
    public var name: String?
    /// Random forest hyperparameters (both forests use them).
    public var params: [String: JSONValue]?
    public var seed: UInt64?
    /// Share of the campaign's customers (per arm and outcome) held back to judge the ranking
    /// (default 0.3).
    public var holdout: Double?
    public var notes: String?

    public init(
        campaign: Int, data: String, name: String? = nil, params: [String: JSONValue]? = nil, seed: UInt64? = nil,
        holdout: Double? = nil, notes: String? = nil
    ) {
        self.campaign = campaign
        self.data = data
        self.name = name
        self.params = params
        self.seed = seed
        self.holdout = holdout
        self.notes = notes
    }
}

/// Params of `uplift.predict`.
public struct UpliftPredictParams: Codable, Sendable, Hashable {
    /// An uplift model's name (its champion answers) or `name@version`.
    public var model: String
    public var customers: [CustomerRecord]

    public init(model: String, customers: [CustomerRecord]) {
        self.model = model
        self.customers = customers
    }
}

/// Result of `uplift.predict`.
public struct UpliftPredictResult: Codable, Sendable, Hashable {
    /// The version that answered.
    public var model: ModelRef
    /// The campaign whose evidence trained it, and its offer.
    public var campaign: Int?
    public var offer: String?
    public var predictions: [UpliftPrediction]

    public init(model: ModelRef, campaign: Int?, offer: String?, predictions: [UpliftPrediction]) {
        self.model = model
        self.campaign = campaign
        self.offer = offer
        self.predictions = predictions
    }
}

/// One customer's predicted response to the offer.
public struct UpliftPrediction: Codable, Sendable, Hashable {
    public var customerID: String
    /// Churn probability if not offered anything.
    public var churnWithoutOffer: Double
    /// Churn probability if given the offer.
    public var churnWithOffer: Double
    /// `churnWithoutOffer − churnWithOffer`: the churn the offer is expected to prevent
    /// (negative: the offer is expected to push the customer out).
    public var uplift: Double

    public init(customerID: String, churnWithoutOffer: Double, churnWithOffer: Double) {
        self.customerID = customerID
        self.churnWithoutOffer = churnWithoutOffer
        self.churnWithOffer = churnWithOffer
        self.uplift = churnWithoutOffer - churnWithOffer
    }

    enum CodingKeys: String, CodingKey {
        case uplift
        case customerID = "customer_id"
        case churnWithoutOffer = "churn_without_offer"
        case churnWithOffer = "churn_with_offer"
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

/// The campaign an uplift model learned from, as its version's tags record it: `uplift`,
/// `campaign:<id>` and `offer:<offer id>`.
public struct UpliftEvidence: Sendable, Hashable {
    /// True for a version trained by `campaigns.train_uplift`.
    public var isUplift: Bool
    public var campaign: Int?
    public var offer: String?

    public init(tags: [String]) {
        isUplift = tags.contains("uplift")
        campaign = tags.first { $0.hasPrefix("campaign:") }.flatMap { Int($0.dropFirst("campaign:".count)) }
        offer = tags.first { $0.hasPrefix("offer:") }.map { String($0.dropFirst("offer:".count)) }
    }

    /// The tags of an uplift model trained on `campaign`'s evidence of `offer`.
    public static func tags(campaign: Int, offer: String) -> [String] {
        ["uplift", "campaign:\(campaign)", "offer:\(offer)"]
    }
}
