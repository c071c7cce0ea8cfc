import ChurnProtocol
import Foundation

/// Something the retention team can offer a customer, as a change to the customer's record, who
/// it fits, and what it costs. Offers live in a JSON file (``RetentionOffers``), so an operator
/// describes its own in its own fields:
///
/// ```json
/// {"offers": [
///    {"id": "two_year_contract", "title": {"en": "Two-year contract offer", "ko": "2년 약정 제안"},
///     "when": {"Contract": ["Month-to-month", "One year"]}, "set": {"Contract": "Two year"}, "monthly_cost": 0},
///    {"id": "discount_10", "title": {"en": "10% discount"}, "scale": {"MonthlyCharges": 0.9}, "monthly_cost_share": 0.1}],
///  "segments": ["Contract", "InternetService", "PaymentMethod"]}
/// ```
public struct RetentionOffer: Sendable, Hashable {
    public var id: String
    /// Title by language code (`en` at least).
    public var title: [String: String]
    /// Who it fits: field → the values a customer must have now (every listed field must match).
    public var when: [String: [String]]
    /// Fields it sets to a value.
    public var set: [String: FieldValue]
    /// Number fields it multiplies (a discount scales the bill).
    public var scale: [String: Double]
    /// What it costs per month for each customer who accepts and stays, in money.
    public var monthlyCost: Double
    /// What it costs per month as a share of the customer's bill (a discount's share).
    public var monthlyCostShare: Double
    /// The share of customers offered it who are assumed to accept (0...1, default 1): the
    /// what-if counts its effect and its cost only for them.
    public var acceptance: Double

    public init(
        id: String, title: [String: String], when: [String: [String]] = [:], set: [String: FieldValue] = [:],
        scale: [String: Double] = [:], monthlyCost: Double = 0, monthlyCostShare: Double = 0, acceptance: Double = 1
    ) {
        self.acceptance = acceptance
        self.id = id
        self.title = title
        self.when = when
        self.set = set
        self.scale = scale
        self.monthlyCost = monthlyCost
        self.monthlyCostShare = monthlyCostShare
    }

    /// The title in `language`, else English, else the id.
    public func title(_ language: String) -> String { title[language] ?? title["en"] ?? id }

    /// Whether the offer fits a customer's record (it has each `when` field at an allowed value,
    /// and the offer would change something).
    public func fits(_ record: CustomerRecord) -> Bool {
        for (field, allowed) in when {
            guard let value = record[field]?.text, allowed.contains(value) else { return false }
        }
        return applied(to: record) != record
    }

    /// The record after the customer accepts the offer.
    public func applied(to record: CustomerRecord) -> CustomerRecord {
        var changed = record
        for (field, value) in set { changed[field] = value }
        for (field, factor) in scale {
            if case .number(let number)? = record[field] { changed[field] = .number((number * factor * 100).rounded() / 100) }
        }
        return changed
    }

    /// Why the offer cannot apply to a model of `schema` (a field it names is not an input, a value
    /// is not one the field takes), or nil when it can.
    public func problem(with schema: DatasetSchema) -> String? {
        for field in Set(when.keys).union(set.keys).union(scale.keys).sorted() {
            guard let column = schema.input(named: field) else { return "the model has no field \(field)" }
            if scale[field] != nil, column.type != .numeric { return "\(field) is not a number, it cannot be scaled" }
            if let value = set[field], column.type == .categorical, !column.open, let text = value.text,
                !(column.values ?? []).contains(text)
            {
                return "\(field) cannot be \"\(text)\": expected one of \((column.values ?? []).joined(separator: ", "))"
            }
        }
        return nil
    }
}

/// A retention configuration: the offers, and the categorical fields at-risk segments are cut by
/// (absent: the champion's three most important categorical fields).
public struct RetentionOffers: Sendable, Hashable {
    public var offers: [RetentionOffer]
    public var segments: [String]?
    /// How money is labelled (`"currency": "EUR"` in the offers file; default USD).
    public var currency: String

    public init(offers: [RetentionOffer], segments: [String]? = nil, currency: String = "USD") {
        self.offers = offers
        self.segments = segments
        self.currency = currency
    }

    /// Reads an offers file; every problem names the offer and member (`offers[2].set`).
    public static func read(file path: String) throws(DataError) -> RetentionOffers {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(file: path, reason: error.localizedDescription)
        }
        return try parse(bytes, source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String) throws(DataError) -> RetentionOffers {
        func fail(_ field: String, _ reason: String) -> DataError { .invalidSchema(source: source, field: field, reason: reason) }
        guard case .object(let root)? = try? JSONParser.parse(bytes) else { throw fail("", "expected a JSON object with \"offers\"") }
        guard case .array(let items)? = root["offers"] else { throw fail("offers", "expected an array of offers") }
        var offers: [RetentionOffer] = []
        for (index, item) in items.enumerated() {
            let path = "offers[\(index)]"
            guard case .object(let members) = item else { throw fail(path, "expected an object") }
            let allowed: Set<String> = ["id", "title", "when", "set", "scale", "monthly_cost", "monthly_cost_share", "acceptance"]
            for key in members.keys.sorted() where !allowed.contains(key) {
                throw fail("\(path).\(key)", "unknown member\(NearMiss.hint(for: key, among: allowed.sorted())); expected \(allowed.sorted().joined(separator: ", "))")
            }
            guard let id = members["id"]?.stringValue, !id.isEmpty else { throw fail("\(path).id", "expected a non-empty string") }
            var title: [String: String] = [:]
            switch members["title"] {
            case .string(let text)?: title["en"] = text
            case .object(let titles)?: title = titles.compactMapValues(\.stringValue)
            default: throw fail("\(path).title", "expected a string or {\"en\": ..., \"ko\": ...}")
            }
            var when: [String: [String]] = [:]
            for (field, values) in members["when"]?.objectValue ?? [:] {
                guard let list = values.arrayValue?.compactMap(\.text), list.count == values.arrayValue?.count else {
                    throw fail("\(path).when.\(field)", "expected an array of values")
                }
                when[field] = list
            }
            var set: [String: FieldValue] = [:]
            for (field, value) in members["set"]?.objectValue ?? [:] {
                switch value {
                case .string(let text): set[field] = .string(text)
                case .number(let number): set[field] = .number(number)
                case .bool(let flag): set[field] = .bool(flag)
                default: throw fail("\(path).set.\(field)", "expected a value")
                }
            }
            var scale: [String: Double] = [:]
            for (field, value) in members["scale"]?.objectValue ?? [:] {
                guard let factor = value.numberValue, factor.isFinite, factor >= 0 else {
                    throw fail("\(path).scale.\(field)", "expected a factor of 0 or more")
                }
                scale[field] = factor
            }
            guard !set.isEmpty || !scale.isEmpty else { throw fail(path, "an offer must set or scale at least one field") }
            let cost = members["monthly_cost"]?.numberValue ?? 0
            let share = members["monthly_cost_share"]?.numberValue ?? 0
            guard cost >= 0 else { throw fail("\(path).monthly_cost", "must be 0 or more") }
            guard (0...1).contains(share) else { throw fail("\(path).monthly_cost_share", "must be between 0 and 1") }
            let acceptance = members["acceptance"]?.numberValue ?? 1
            guard acceptance > 0, acceptance <= 1 else { throw fail("\(path).acceptance", "must be above 0 and at most 1") }
            offers.append(
                RetentionOffer(
                    id: id, title: title, when: when, set: set, scale: scale, monthlyCost: cost, monthlyCostShare: share,
                    acceptance: acceptance))
        }
        var segments: [String]?
        if let value = root["segments"] {
            guard let list = value.arrayValue?.compactMap(\.stringValue), list.count == value.arrayValue?.count else {
                throw fail("segments", "expected an array of field names")
            }
            segments = list
        }
        var currency = "USD"
        if let value = root["currency"] {
            guard let text = value.stringValue, (1...8).contains(text.count) else {
                throw fail("currency", "expected a currency code or symbol of 1 to 8 characters, such as EUR or ₩")
            }
            currency = text
        }
        return RetentionOffers(offers: offers, segments: segments, currency: currency)
    }
}

extension JSONValue {
    /// A scalar as text (`"Yes"`, `"1"`), nil for arrays, objects and null.
    fileprivate var text: String? {
        switch self {
        case .string(let text): text
        case .number(let number): FieldValue.number(number).text
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }
}
