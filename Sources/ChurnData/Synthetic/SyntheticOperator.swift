import Foundation

/// A synthetic mobile operator's customer file, shaped like the public Orange/BigML telecom churn
/// data rather than IBM's telco sample: no customer id column, a state, an area code, account
/// length in days, international and voice-mail plans, day/evening/night/international minutes,
/// calls and charges, customer-service calls, a data allowance that is blank without a data plan,
/// the date of the last plan change, the monthly bill, and `Churn` as `True`/`False`. It is how churn tests that
/// nothing in it is telco-shaped, and the forest benchmark's second dataset.
///
/// The process, per customer: usage is drawn per customer (day minutes around 180, evening 200,
/// night 200, international 10); charges are minutes times a fixed rate per period (so a charge
/// column repeats its minutes exactly, as in the public file); a latent *frustration* rises with
/// expensive day usage, with international minutes on no international plan, and sharply with
/// customer-service calls (which themselves follow frustration); a voice-mail plan and a recent
/// plan change lower it. The label is drawn last from a hazard on frustration alone: no column is
/// drawn from the label. The same seed gives the same file.
public enum SyntheticOperator {
    /// States the customers live in.
    static let states = [
        "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA",
        "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI",
        "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
    ]

    /// The file's schema, written out (what `churn data inspect` should find, and more exactly).
    public static let schema = DatasetSchema(
        name: "synthetic-operator", id: nil, label: LabelColumn(name: "Churn", positive: ["True"], negative: ["False"]),
        columns: [
            SchemaColumn(name: "State", type: .categorical, values: states),
            SchemaColumn(name: "Account length", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Area code", type: .categorical, values: ["408", "415", "510"]),
            SchemaColumn(name: "International plan", type: .boolean),
            SchemaColumn(name: "Voice mail plan", type: .boolean),
            SchemaColumn(name: "Number vmail messages", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Total day minutes", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total day calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Total day charge", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total eve minutes", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total eve calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Total eve charge", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total night minutes", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total night calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Total night charge", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total intl minutes", type: .numeric, minimum: 0),
            SchemaColumn(name: "Total intl calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Total intl charge", type: .numeric, minimum: 0),
            SchemaColumn(name: "Customer service calls", type: .numeric, minimum: 0, integer: true),
            SchemaColumn(name: "Data GB", type: .numeric, minimum: 0, blank: .missing),
            SchemaColumn(name: "Last plan change", type: .date),
            SchemaColumn(name: "Monthly bill", type: .numeric, minimum: 0),
        ],
        revenue: "Monthly bill")

    /// How the label follows the customer.
    public enum Signal: Sendable {
        /// A smooth hazard on frustration (the default): small leaves and deep trees overfit it.
        case frustration
        /// Crisp plan-and-usage rules, as in the public operator file: heavy day use without
        /// voice mail, heavy international use on the international plan, many service calls
        /// with light use, heavy day and evening use; each rule churns most of its customers and
        /// everyone else rarely. Deep trees with small leaves find the rules' edges.
        case thresholds
    }

    /// Generates `customers` customers, labelled by `signal` (the columns are drawn the same way
    /// for both signals).
    public static func generate(customers: Int, seed: UInt64 = 0, signal: Signal = .frustration) -> Dataset {
        precondition(customers > 0)
        var random = SeededRandom(seed: seed)
        var table = CustomerTable(schema: schema)
        table.reserveCapacity(customers)
        var labels: [Bool] = []
        var lines: [Int] = []
        let today = CalendarDay.daysFromCivil(year: 2026, month: 11, day: 1)
        for index in 0..<customers {
            func normal(_ mean: Double, _ deviation: Double) -> Double { max(0, mean + deviation * random.normal()) }
            let state = UInt32(Int(random.unit() * Double(states.count)) % states.count)
            let area = UInt32(random.unit() < 0.5 ? 1 : (random.unit() < 0.5 ? 0 : 2))
            let length = (normal(100, 40)).rounded()
            let international = random.unit() < 0.1
            let voiceMail = random.unit() < 0.28
            let messages = voiceMail ? normal(29, 7).rounded() : 0
            let dayMinutes = (normal(180, 54) * 10).rounded() / 10
            let eveMinutes = (normal(200, 50) * 10).rounded() / 10
            let nightMinutes = (normal(200, 50) * 10).rounded() / 10
            let intlMinutes = (normal(10, 2.8) * 10).rounded() / 10
            let dataPlan = random.unit() < 0.6
            let dataGB = dataPlan ? (normal(8, 4) * 10).rounded() / 10 : Double.nan
            let changedDaysAgo = Int(random.unit() * 720)
            // Frustration: expensive day usage, international use without the plan, service trouble.
            var frustration = 0.025 * (dayMinutes - 180) + random.normal() * 0.8
            frustration += international ? 0.9 + 0.12 * (intlMinutes - 10) : 0.04 * (intlMinutes - 10)
            frustration -= voiceMail ? 0.7 : 0
            frustration -= changedDaysAgo < 60 ? 0.5 : 0
            frustration += dataPlan && dataGB > 14 ? 0.4 : 0
            let serviceCalls = Double(SyntheticTelco.poisson(exp(0.35 + 0.3 * max(-2, min(frustration, 3))), &random))
            frustration += serviceCalls >= 4 ? 2.2 : 0.15 * serviceCalls
            let rates = (day: 0.17, eve: 0.085, night: 0.045, intl: 0.27)
            let bill = dayMinutes * rates.day + eveMinutes * rates.eve + nightMinutes * rates.night + intlMinutes * rates.intl
                + (dataPlan ? 10 : 0) + (international ? 5 : 0)
            table.append(
                id: "row-\(index + 1)", codes: [state, area],
                numbers: [
                    length, international ? 1 : 0, voiceMail ? 1 : 0, messages,
                    dayMinutes, normal(100, 20).rounded(), (dayMinutes * rates.day * 100).rounded() / 100,
                    eveMinutes, normal(100, 20).rounded(), (eveMinutes * rates.eve * 100).rounded() / 100,
                    nightMinutes, normal(100, 20).rounded(), (nightMinutes * rates.night * 100).rounded() / 100,
                    intlMinutes, normal(4, 2).rounded(), (intlMinutes * rates.intl * 100).rounded() / 100,
                    serviceCalls, dataGB, Double(today - changedDaysAgo), (bill * 100).rounded() / 100,
                ])
            switch signal {
            case .frustration:
                labels.append(random.unit() < SyntheticTelco.sigmoid(-2.6 + 1.1 * frustration))
            case .thresholds:
                var rate = 0.02
                if dayMinutes > 250, !voiceMail { rate = 0.85 }
                if international, intlMinutes > 12.5 { rate = max(rate, 0.95) }
                if serviceCalls >= 4, dayMinutes < 170 { rate = max(rate, 0.8) }
                if dayMinutes > 215, eveMinutes > 250 { rate = max(rate, 0.8) }
                labels.append(random.unit() < rate)
            }
            lines.append(index + 2)
        }
        return Dataset(schema: schema, customers: table, churned: labels, lines: lines)
    }

    /// Writes the customers as the operator's file: no id column, `yes`/`no` plans, `True`/`False`.
    public static func write(_ dataset: Dataset, to path: String) throws(DataError) {
        var writer = try CSVWriter(path: path)
        let fields = dataset.customers.layout.fields
        try writer.write(fields.map(\.name) + [dataset.schema.label.name])
        for row in 0..<dataset.customers.count {
            var cells: [String] = []
            for field in fields {
                switch dataset.customers.value(of: field.name, at: row) {
                case .bool(let flag): cells.append(flag ? "yes" : "no")
                case .number(let number): cells.append(Dataset.format(number))
                case .string(let text): cells.append(text)
                default: cells.append("")
                }
            }
            cells.append(dataset.churned![row] ? "True" : "False")
            try writer.write(cells)
        }
        try writer.close()
    }
}
