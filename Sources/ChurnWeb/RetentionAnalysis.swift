import ChurnClient
import ChurnData
import ChurnProtocol

/// What the retention page shows: at-risk segments over categorical fields of the model's
/// schema, and offers (from the retention configuration) ranked by the revenue they keep,
/// measured by re-scoring each at-risk customer's record with the offer applied: a what-if
/// through the champion, not a fixed table, and not yet a measured effect.
struct RetentionReport: Sendable {
    struct Segment: Sendable {
        /// The segment's value of each segment field, in ``RetentionReport/segmentFields`` order.
        var values: [String]
        var customers: Int
        var meanRisk: Double
        /// Σ risk × monthly bill: the monthly revenue expected to leave (nil without a revenue field).
        var revenueAtRisk: Double?
        /// Churn reasons among the segment's churned customers, most frequent first.
        var reasons: [(reason: String, count: Int)]
        /// The offer that keeps most in this segment.
        var bestOffer: RetentionOffer?
        /// For the row standing for the smaller segments: how many it adds up.
        var others = 0
    }

    struct OfferResult: Sendable {
        var offer: RetentionOffer
        /// At-risk customers the offer fits.
        var eligible: Int
        /// Mean drop in churn probability among them.
        var meanRiskDrop: Double
        /// Σ drop × monthly bill, less the offer's cost for those expected to stay (nil without a
        /// revenue field: then `customersKept` ranks offers).
        var monthlyRevenueKept: Double?
        /// Σ drop: churners the offer is expected to keep.
        var customersKept: Double
    }

    /// One customer to contact: the offer worth most for them and what it is expected to keep.
    struct Target: Sendable {
        var row: Int
        var id: String
        var risk: Double
        /// The monthly bill (nil without a revenue field).
        var bill: Double?
        var offer: RetentionOffer
        /// Expected monthly revenue kept net of the offer's cost (or, without a revenue field,
        /// churners kept), for the share assumed to accept.
        var value: Double
        /// Expected monthly spend on the offer: its cost for each customer expected to accept
        /// and stay (what a budget is spent on).
        var expectedCost: Double
    }

    var model: ModelRef
    /// The schema the customers were read with (display names and value labels).
    var schema: DatasetSchema
    /// The one definition of at risk, used by every figure and list: a churn probability at or
    /// above this, among customers still with us.
    var atRiskThreshold: Double
    /// Customers at or above the threshold who have not already left: those targeted.
    var atRiskCustomers: Int
    /// Customers the file does not say have left.
    var customersStillWithUs: Int
    /// Σ risk × monthly bill over exactly those customers (nil without a revenue field).
    var revenueAtRisk: Double?
    /// Σ monthly bill over them: what they pay now.
    var billsAtRisk: Double?
    /// Customers the file's label says have already left: never targeted, counted apart.
    var alreadyLeft: Int
    /// At or above the threshold among those who already left.
    var alreadyLeftAtRisk: Int
    var currency: String
    var revenueField: String?
    var segmentFields: [String]
    var segments: [Segment]
    var offers: [OfferResult]
    /// Offers that do not fit the model's schema, with why.
    var inapplicable: [(offer: RetentionOffer, reason: String)]
    /// Whom to contact: at-risk customers for whom an offer they are eligible for is expected to
    /// keep more than it costs, ranked by that value.
    var targets: [Target]
    /// How the targets were ranked: by an uplift model learned from a campaign's treated and
    /// control groups (measured evidence), or, until one exists, by the what-if simulation.
    var basis: TargetBasis
    /// An uplift model that exists but whose held-back Qini does not yet clear ranking by risk:
    /// the targets are then ranked by the simulation, and the page says why.
    var upliftSetAside: UpliftStanding?

    /// The targets a monthly `budget` for offers reaches: best first, each one whose expected
    /// spend still fits (one too dear is passed over for those after it), all of them without a
    /// budget.
    func contacts(within budget: Double?) -> ArraySlice<Target> {
        guard let budget else { return targets[...] }
        var spent = 0.0
        var chosen: [Target] = []
        for target in targets where spent + target.expectedCost <= budget + 1e-9 {
            spent += target.expectedCost
            chosen.append(target)
        }
        return chosen[...]
    }

    /// An uplift model's held-back evidence against ranking by risk.
    struct UpliftStanding: Sendable {
        var model: ModelRef
        /// Held-back Qini coefficient of its ranking, and of ranking the same rows by risk.
        var qini: Double?
        var qiniByRisk: Double?
        /// 95% interval of the difference (paired bootstrap), when recorded.
        var gain: (low: Double, high: Double)?

        init(_ version: ModelVersionInfo) {
            model = version.ref
            qini = version.metrics["val_qini"]
            qiniByRisk = version.metrics["val_qini_by_risk"]
            if let low = version.metrics["val_qini_gain_low"], let high = version.metrics["val_qini_gain_high"] { gain = (low, high) }
        }

        /// Better than ranking by risk: the interval of the gain lies above 0.
        var isBetter: Bool { (gain?.low ?? 0) > 0 }
        /// Trained before the interval was recorded: never tested against ranking by risk.
        var untested: Bool { gain == nil }
    }

    /// Where a target list's values come from.
    enum TargetBasis: Sendable {
        /// Re-scoring changed records through the churn model: a simulation, not an effect.
        case simulation
        /// An uplift model's predicted uplift (churn without the offer − churn with it), learned
        /// from campaign `campaign`'s randomized groups, shown better than ranking by risk.
        case upliftModel(campaign: Int?, offer: String, standing: UpliftStanding)
    }

    /// An uplift model to rank targets by: its champion version and the campaign behind it.
    struct UpliftSource: Sendable {
        var version: ModelVersionInfo
        var campaign: CampaignInfo?
    }

    /// At most this many of the riskiest customers are re-scored per offer.
    static let maximumScored = 3_000

    static func build(
        _ base: CustomerBase.Scored, configuration: RetentionOffers, link: DaemonLink, threshold: Double = 0.5,
        uplift: UpliftSource? = nil
    ) async throws -> RetentionReport {
        let schema = base.dataset.schema
        let table = base.customers
        let revenue = schema.revenue.flatMap { table.numberColumn($0) }
        // Customers the file says have already left are not offered anything.
        let left = base.dataset.churned ?? []
        let hasLeft = { (row: Int) in row < left.count && left[row] }
        let aboveThreshold = base.byRisk.prefix(while: { base.risk[$0] >= threshold })
        let atRiskAll = aboveThreshold.filter { !hasLeft($0) }
        let atRisk = Array(atRiskAll.prefix(maximumScored))
        let bill = { (row: Int) -> Double in revenue.map { $0[row].isNaN ? 0 : $0[row] } ?? 0 }
        let version = base.model.description

        var usable: [RetentionOffer] = []
        var inapplicable: [(RetentionOffer, String)] = []
        for offer in configuration.offers {
            if let problem = offer.problem(with: schema) { inapplicable.append((offer, problem)) } else { usable.append(offer) }
        }

        // Per offer: the drop in risk of every eligible at-risk customer, by re-scoring.
        var values: [String: [Int: Double]] = [:]
        var costs: [String: [Int: Double]] = [:]
        var results: [OfferResult] = []
        for offer in usable {
            var rows: [Int] = []
            var changed: [CustomerRecord] = []
            for row in atRisk where offer.fits(base.records[row]) {
                rows.append(row)
                changed.append(offer.applied(to: base.records[row]))
            }
            let after = try await link.probabilities(changed, model: version).probabilities
            var kept = 0.0
            var dropSum = 0.0
            var perCustomer: [Int: Double] = [:]
            var spend: [Int: Double] = [:]
            for (index, row) in rows.enumerated() {
                // Only the share assumed to accept changes anything: their drop in risk, and
                // the offer's cost for each of them expected to stay.
                let drop = (base.risk[row] - after[index]) * offer.acceptance
                dropSum += drop
                let cost = (offer.monthlyCost + offer.monthlyCostShare * bill(row)) * (1 - after[index]) * offer.acceptance
                spend[row] = cost
                perCustomer[row] = revenue != nil ? drop * bill(row) - cost : drop
                kept += perCustomer[row]!
            }
            values[offer.id] = perCustomer
            costs[offer.id] = spend
            results.append(
                OfferResult(
                    offer: offer, eligible: rows.count, meanRiskDrop: rows.isEmpty ? 0 : dropSum / Double(rows.count),
                    monthlyRevenueKept: revenue == nil ? nil : kept, customersKept: dropSum))
        }
        results.sort { ($0.monthlyRevenueKept ?? $0.customersKept) > ($1.monthlyRevenueKept ?? $1.customersKept) }

        // Segments over the whole base.
        let fields = segmentFields(configuration: configuration, schema: schema, champion: base.champion)
        let indices = fields.compactMap { table.layout.field($0)?.index }
        var members: [[UInt32]: [Int]] = [:]
        // Over the at-risk customers only: the segments' revenue at risk adds up to the headline's.
        for row in atRiskAll { members[indices.map { table.codes[$0][row] }, default: []].append(row) }
        // The churn reasons seen among customers of the same segment values who already left.
        var reasonsByKey: [[UInt32]: [String: Int]] = [:]
        if let churnReasons = base.dataset.churnReasons {
            for row in 0..<min(table.count, churnReasons.count) where hasLeft(row) {
                guard let reason = churnReasons[row], !reason.isEmpty else { continue }
                reasonsByKey[indices.map { table.codes[$0][row] }, default: [:]][reason, default: 0] += 1
            }
        }
        var segments: [Segment] = members.map { key, rows in
            var risk = 0.0
            var money = 0.0
            let reasons = reasonsByKey[key] ?? [:]
            for row in rows {
                risk += base.risk[row]
                if let revenue, !revenue[row].isNaN { money += base.risk[row] * revenue[row] }
            }
            var best: (RetentionOffer, Double)?
            for result in results {
                let value = rows.reduce(0.0) { $0 + (values[result.offer.id]?[$1] ?? 0) }
                if value > 0, value > (best?.1 ?? 0) { best = (result.offer, value) }
            }
            return Segment(
                values: zip(indices, key).map { table.vocabularies[$0][Int($1)] }, customers: rows.count,
                meanRisk: risk / Double(rows.count), revenueAtRisk: revenue == nil ? nil : money,
                reasons: reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3).map { ($0.key, $0.value) },
                bestOffer: best?.0)
        }
        segments.sort { ($0.revenueAtRisk ?? $0.meanRisk * Double($0.customers)) > ($1.revenueAtRisk ?? $1.meanRisk * Double($1.customers)) }
        // The target list: each at-risk customer's best offer, if it is worth anything; with an
        // uplift model, its offer's predicted effect on every customer still with us instead.
        var targets: [Target] = []
        var basis = TargetBasis.simulation
        var setAside: UpliftStanding?
        if let uplift, !UpliftStanding(uplift.version).isBetter { setAside = UpliftStanding(uplift.version) }
        if let uplift, setAside == nil {
            let evidence = UpliftEvidence(tags: uplift.version.tags)
            let offerID = evidence.offer ?? uplift.campaign?.offer ?? "offer"
            let offer = configuration.offers.first { $0.id == offerID }
                ?? RetentionOffer(id: offerID, title: ["en": offerID], monthlyCost: uplift.campaign?.monthlyCost ?? 0)
            // The same customers as every other list: at risk, still with us, eligible for the offer.
            let eligible = atRiskAll.filter { offer.fits(base.records[$0]) }
            var predictions: [UpliftPrediction] = []
            for start in stride(from: 0, to: eligible.count, by: 2000) {
                let records = eligible[start..<min(start + 2000, eligible.count)].map { base.records[$0] }
                let version = uplift.version.ref.description
                predictions += try await link.with { client throws(ChurnClientError) in
                    try await client.predictUplift(records, model: version).predictions
                }
            }
            for (row, prediction) in zip(eligible, predictions) {
                // The measured effect already includes who accepts (the treated group is everyone
                // offered); the offer's cost is paid for each customer expected to stay with it.
                let cost = (offer.monthlyCost + offer.monthlyCostShare * bill(row)) * (1 - prediction.churnWithOffer)
                let value = revenue == nil ? prediction.uplift : prediction.uplift * bill(row) - cost
                guard value > 0 else { continue }
                targets.append(
                    Target(
                        row: row, id: table.ids[row], risk: base.risk[row], bill: revenue == nil ? nil : bill(row), offer: offer, value: value,
                        expectedCost: cost))
            }
            basis = .upliftModel(campaign: evidence.campaign, offer: offerID, standing: UpliftStanding(uplift.version))
        }
        if case .simulation = basis {
            for row in atRisk {
                var best: (RetentionOffer, Double)?
                for result in results {
                    guard let value = values[result.offer.id]?[row], value > 0, value > (best?.1 ?? 0) else { continue }
                    best = (result.offer, value)
                }
                guard let best else { continue }
                targets.append(
                    Target(
                        row: row, id: table.ids[row], risk: base.risk[row], bill: revenue == nil ? nil : bill(row), offer: best.0,
                        value: best.1, expectedCost: costs[best.0.id]?[row] ?? 0))
            }
        }
        targets.sort { ($0.value, $1.id) > ($1.value, $0.id) }
        return RetentionReport(
            model: base.model, schema: schema, atRiskThreshold: threshold, atRiskCustomers: atRiskAll.count,
            customersStillWithUs: table.count - left.filter { $0 }.count,
            revenueAtRisk: revenue == nil ? nil : atRiskAll.reduce(0.0) { $0 + base.risk[$1] * bill($1) },
            billsAtRisk: revenue == nil ? nil : atRiskAll.reduce(0.0) { $0 + bill($1) },
            alreadyLeft: left.filter { $0 }.count, alreadyLeftAtRisk: aboveThreshold.count - atRiskAll.count,
            currency: configuration.currency,
            revenueField: revenue == nil ? nil : schema.revenue, segmentFields: fields, segments: Self.shown(segments, fields: fields),
            offers: results, inapplicable: inapplicable, targets: targets, basis: basis, upliftSetAside: setAside)
    }

    /// The twelve largest segments, and the rest as one row, so the rows add up to the headline.
    static func shown(_ segments: [Segment], fields: [String]) -> [Segment] {
        guard segments.count > 12 else { return segments }
        let rest = segments.dropFirst(11)
        let customers = rest.reduce(0) { $0 + $1.customers }
        let other = Segment(
            values: fields.map { _ in "" }, customers: customers,
            meanRisk: rest.reduce(0.0) { $0 + $1.meanRisk * Double($1.customers) } / Double(max(customers, 1)),
            revenueAtRisk: rest.first?.revenueAtRisk == nil ? nil : rest.reduce(0.0) { $0 + ($1.revenueAtRisk ?? 0) }, reasons: [],
            bestOffer: nil, others: rest.count)
        return Array(segments.prefix(11)) + [other]
    }

    /// The categorical fields segments are cut by: the configuration's (those the schema has),
    /// else the champion's three most important categorical fields, else the schema's first three.
    static func segmentFields(configuration: RetentionOffers, schema: DatasetSchema, champion: ModelVersionInfo) -> [String] {
        let categorical = Set(schema.inputs.filter { $0.type == .categorical }.map(\.name))
        if let configured = configuration.segments?.filter({ categorical.contains($0) }), !configured.isEmpty {
            return configured
        }
        var ranked: [String] = []
        for importance in (champion.importances ?? []).sorted(by: { $0.importance > $1.importance })
        where categorical.contains(importance.feature) && !ranked.contains(importance.feature) {
            ranked.append(importance.feature)
        }
        for column in schema.inputs where column.type == .categorical && !ranked.contains(column.name) { ranked.append(column.name) }
        return Array(ranked.prefix(3))
    }
}
