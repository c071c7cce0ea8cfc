import Foundation

/// A synthetic telco population with monthly histories, from a documented latent process.
/// It is the demo's embedded default data, and says it is synthetic wherever it is shown.
///
/// The process, per customer:
/// 1. **Profile.** Demographics, services, contract and payment method are drawn with rates
///    close to the public telco sample; tenure depends on the contract (month-to-month
///    customers are newer). The monthly price is the sum of the services' prices plus noise.
/// 2. **Prices.** Each month the price changes with probability 3% (70% of changes are
///    increases of 5-15%, the rest cuts); `TotalCharges` is the sum of the monthly prices.
/// 3. **Satisfaction** (latent, never written): an AR(1) process around a level set by the
///    services (tech support and online security raise it; fibre, with its outages, and being
///    a senior lower it; long contracts raise it); each price increase knocks it down.
/// 4. **Trouble** (latent): for a third of the customers, a spell of service trouble begins 1 to
///    6 months before the snapshot (worse coverage, a failing device): each month of it lowers
///    satisfaction further and brings dropped calls. A fifth of those in trouble step their plan
///    down. Nothing in the static record shows it: only the months do.
/// 5. **Observed behaviour** responds month by month: data usage rises with satisfaction,
///    support calls (Poisson) and late payments (Bernoulli; more likely with electronic checks)
///    fall with it, dropped calls rise with trouble.
/// 6. **Churn**: the label is whether the customer leaves in the month after the snapshot, drawn
///    from a hazard on the latent satisfaction and its fall over the last months, the trouble,
///    the contract, a recent price increase, fibre, electronic checks, seniority and tenure.
///
/// So the churn signal lives largely in the trajectory (usage falling, calls and dropped calls
/// rising): a model reading the months can see what the snapshot cannot. No feature is drawn
/// from the label: the label is drawn last, from the same latent state the features respond to.
/// The same seed gives the same files.
public enum SyntheticTelco {
    /// Columns of the generated monthly panel (besides `customer_id` and `period`).
    public static let panelColumns = [
        "monthly_charge", "data_usage_gb", "support_calls", "dropped_calls", "late_payment", "price_change", "plan",
    ]

    /// Plans a customer can be on (the panel's categorical column).
    public static let plans = ["basic", "plus", "unlimited"]

    /// The schema of the generated customers: the built-in Kaggle telco schema.
    public static var schema: DatasetSchema { BuiltInSchemas.kaggle }

    /// The schema of the generated monthly panel.
    public static let panelSchema = PanelSchema(
        customer: "customer_id", period: "period",
        columns: [
            SchemaColumn(name: "monthly_charge", type: .numeric, minimum: 0),
            SchemaColumn(name: "data_usage_gb", type: .numeric, minimum: 0),
            SchemaColumn(name: "support_calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "dropped_calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "late_payment", type: .boolean),
            SchemaColumn(name: "price_change", type: .numeric, minimum: -1, maximum: 1, integer: true),
            SchemaColumn(name: "plan", type: .categorical, values: plans),
        ])

    /// The customers' schema with the panel: what to train a model on both with.
    public static var schemaWithHistory: DatasetSchema {
        var schema = BuiltInSchemas.kaggle
        schema.name = "synthetic-telco-with-history"
        schema.history = panelSchema
        return schema
    }

    /// The generated population.
    public struct Output: Sendable {
        public var dataset: Dataset
        public var panel: MonthlyPanel
        /// The month the snapshot is taken (as `YYYY-MM`).
        public var snapshot: String
    }

    /// Generates `customers` customers with up to `months` months of history each.
    public static func generate(customers: Int, months: Int = 24, seed: UInt64 = 0) -> Output {
        precondition(customers > 0 && months > 0)
        var random = SeededRandom(seed: seed)
        var table = CustomerTable(schema: schema)
        table.reserveCapacity(customers)
        var labels: [Bool] = []
        var lines: [Int] = []
        var histories: [String: [PanelMonth]] = [:]
        let snapshotPeriod = 2026 * 12 + 10  // October 2026
        for index in 0..<customers {
            var customer = Profile.draw(&random)
            let id = String(format: "SYN-%07d", index + 1)
            let life = simulate(&customer, random: &random)
            // Not yet billed at tenure 0: the schema reads that blank total as 0.
            table.append(
                id: id, codes: customer.codes.map(UInt32.init),
                numbers: [
                    Double(customer.tenure), ((life.prices.last ?? customer.basePrice) * 100).rounded() / 100,
                    customer.tenure == 0 ? 0 : (life.prices.reduce(0, +) * 100).rounded() / 100,
                ])
            labels.append(life.churns)
            lines.append(index + 2)
            let shown = max(0, life.prices.count - months)
            histories[id] = (shown..<life.prices.count).map { month in
                let values: [PanelValue] = [
                    .number(life.prices[month]), .number(life.usage[month]), .number(life.calls[month]),
                    .number(life.dropped[month]), .number(life.late[month]), .number(life.changed[month]),
                    .category(plans[life.plan[month]]),
                ]
                return PanelMonth(period: snapshotPeriod - (life.prices.count - 1 - month), values: values)
            }
        }
        return Output(
            dataset: Dataset(schema: schema, customers: table, churned: labels, lines: lines),
            panel: MonthlyPanel(schema: panelSchema, histories: histories), snapshot: "2026-10")
    }

    /// Writes `customers.csv` (telco schema with `Churn`) and `history.csv` (the panel) into `folder`.
    public static func write(_ output: Output, to folder: String) throws(DataError) -> (customers: String, history: String) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .unreadable(file: folder, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        let customersPath = (folder as NSString).appendingPathComponent("customers.csv")
        let historyPath = (folder as NSString).appendingPathComponent("history.csv")
        try output.dataset.writeCSV(to: customersPath)
        try output.panel.writeCSV(to: historyPath, ids: output.dataset.customers.ids)
        return (customersPath, historyPath)
    }

    // MARK: The process

    /// The generator's categorical fields, in the order of the built-in schema's categorical
    /// columns (whose value lists give each code's meaning).
    enum Field: Int, CaseIterable {
        case gender, seniorCitizen, partner, dependents, phoneService, multipleLines, internetService
        case onlineSecurity, onlineBackup, deviceProtection, techSupport, streamingTV, streamingMovies
        case contract, paperlessBilling, paymentMethod
    }

    struct Profile {
        var codes: [UInt8]
        var tenure: Int
        var basePrice: Double
        var satisfactionLevel: Double

        subscript(field: Field) -> UInt8 { codes[field.rawValue] }

        static func draw(_ random: inout SeededRandom) -> Profile {
            func pick(_ weights: [Double]) -> UInt8 {
                var draw = random.unit() * weights.reduce(0, +)
                for (index, weight) in weights.enumerated() {
                    draw -= weight
                    if draw < 0 { return UInt8(index) }
                }
                return UInt8(weights.count - 1)
            }
            func yes(_ probability: Double) -> UInt8 { random.unit() < probability ? 1 : 0 }  // "No"=0, "Yes"=1
            var codes = [UInt8](repeating: 0, count: Field.allCases.count)
            codes[Field.gender.rawValue] = pick([1, 1])
            codes[Field.seniorCitizen.rawValue] = yes(0.16)
            let partner = yes(0.48)
            codes[Field.partner.rawValue] = partner
            codes[Field.dependents.rawValue] = yes(partner == 1 ? 0.5 : 0.1)
            let internet = pick([0.34, 0.44, 0.22])  // DSL, Fiber optic, No
            let phone: UInt8 = internet == 2 ? 1 : yes(0.9)
            codes[Field.phoneService.rawValue] = phone
            codes[Field.multipleLines.rawValue] = phone == 1 ? yes(0.45) : 2
            codes[Field.internetService.rawValue] = internet
            let addOns: [(Field, Double)] = [
                (.onlineSecurity, 0.35), (.onlineBackup, 0.4), (.deviceProtection, 0.4), (.techSupport, 0.35),
                (.streamingTV, 0.45), (.streamingMovies, 0.45),
            ]
            for (field, rate) in addOns { codes[field.rawValue] = internet == 2 ? 2 : yes(rate) }
            let contract = pick([0.55, 0.21, 0.24])
            codes[Field.contract.rawValue] = contract
            codes[Field.paperlessBilling.rawValue] = yes(0.6)
            codes[Field.paymentMethod.rawValue] = pick([0.34, 0.23, 0.22, 0.21])

            let meanTenure = [14.0, 38, 55][Int(contract)]
            let tenure = min(72, max(0, Int((-meanTenure * log(max(random.unit(), 1e-9))).rounded())))
            var price = phone == 1 ? 20.0 : 0
            if codes[Field.multipleLines.rawValue] == 1 { price += 5 }
            price += [25.0, 50, 0][Int(internet)]
            for (field, _) in addOns where codes[field.rawValue] == 1 {
                price += field == .streamingTV || field == .streamingMovies ? 10 : 5
            }
            price = max(18, price + random.normal() * 2)
            var level = 0.3 * Double(codes[Field.techSupport.rawValue] == 1 ? 1 : 0)
            level += 0.2 * Double(codes[Field.onlineSecurity.rawValue] == 1 ? 1 : 0)
            level -= internet == 1 ? 0.4 : 0
            level -= codes[Field.seniorCitizen.rawValue] == 1 ? 0.2 : 0
            level += contract == 0 ? 0 : 0.25
            return Profile(codes: codes, tenure: tenure, basePrice: price, satisfactionLevel: level)
        }
    }

    struct Life {
        var prices: [Double] = []
        var usage: [Double] = []
        var calls: [Double] = []
        var dropped: [Double] = []
        var late: [Double] = []
        var changed: [Double] = []
        var plan: [Int] = []
        var churns = false
    }

    static func simulate(_ profile: inout Profile, random: inout SeededRandom) -> Life {
        var life = Life()
        let months = profile.tenure
        // Prices drift upward over a customer's life: start lower and walk to today's price.
        var price = profile.basePrice * (1 - 0.002 * Double(months))
        var satisfaction = profile.satisfactionLevel + random.normal() * 0.5
        var lastIncrease = -100
        let fibre = profile[.internetService] == 1
        let electronicCheck = profile[.paymentMethod] == 0
        // A spell of trouble in the last months, for a third of the customers.
        let troubleMonths = random.unit() < 0.33 ? 1 + Int(random.unit() * 6) : 0
        let troubleStart = months - troubleMonths
        let downgrades = troubleMonths > 0 && random.unit() < 0.2
        var plan = profile[.internetService] == 2 ? 0 : (fibre ? 2 : (random.unit() < 0.5 ? 1 : 0))
        var satisfactionBeforeTrouble = satisfaction
        for month in 0..<months {
            var change = 0.0
            if month > 0, random.unit() < 0.03 {
                let increase = random.unit() < 0.7
                let size = 0.05 + random.unit() * 0.10
                price *= increase ? 1 + size : 1 - size
                change = increase ? 1 : -1
                if increase { lastIncrease = month }
            }
            let inTrouble = month >= troubleStart && troubleMonths > 0
            if month == troubleStart { satisfactionBeforeTrouble = satisfaction }
            satisfaction = 0.85 * satisfaction + 0.15 * profile.satisfactionLevel + random.normal() * 0.25
                - (change > 0 ? 0.8 : 0) - (inTrouble ? 0.45 : 0)
            if inTrouble, downgrades, month == months - 1, plan > 0 { plan -= 1 }
            let baseUsage = profile[.internetService] == 2 ? 0.5 : (fibre ? 120.0 : 60)
            life.prices.append((price * 100).rounded() / 100)
            life.usage.append(((baseUsage * exp(0.3 * satisfaction + random.normal() * 0.15)) * 10).rounded() / 10)
            life.calls.append(Double(poisson(exp(-0.7 - 0.9 * satisfaction), &random)))
            life.dropped.append(Double(poisson(inTrouble ? 4 : 0.3, &random)))
            life.late.append(random.unit() < sigmoid(-3.2 - 0.8 * satisfaction + (electronicCheck ? 0.8 : 0)) ? 1 : 0)
            life.changed.append(change)
            life.plan.append(plan)
        }
        if months == 0 { price = profile.basePrice }
        let contract = profile[.contract]
        let fall = troubleMonths > 0 ? max(0, satisfactionBeforeTrouble - satisfaction) : 0
        var logit = -2.3 - 1.1 * satisfaction + 0.9 * fall
        logit += contract == 0 ? 1.0 : (contract == 2 ? -0.6 : 0)
        logit += fibre ? 0.5 : 0
        logit += electronicCheck ? 0.4 : 0
        logit += profile[.seniorCitizen] == 1 ? 0.3 : 0
        logit -= 0.02 * Double(months)
        logit += months - lastIncrease <= 3 ? 1.0 : 0
        life.churns = random.unit() < sigmoid(logit)
        return life
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    static func poisson(_ rate: Double, _ random: inout SeededRandom) -> Int {
        let limit = exp(-rate)
        var product = random.unit()
        var count = 0
        while product > limit, count < 50 {
            product *= random.unit()
            count += 1
        }
        return count
    }
}
