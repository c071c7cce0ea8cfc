import ChurnProtocol
import Foundation

/// One reason a customer's churn risk is what it is, as a retention manager reads it.
public struct RiskReason: Sendable, Hashable {
    /// What the reason is about: an input field (by its schema name) or a month of history
    /// (by its period).
    public enum Subject: Sendable, Hashable {
        case field(String)
        case month(String)
    }

    public var subject: Subject
    /// What drives the risk, in words: `Contract: Month-to-month`, `Tenure 2 months`,
    /// `Oct 2026: Dropped calls 6`.
    public var phrase: String
    /// What it adds to the churn probability, in percentage points: positive raises the risk,
    /// negative lowers it.
    public var points: Double
    /// The phrase with its points: `Contract: Month-to-month +18 pts`.
    public var text: String
}

/// Turns a model's explanation into reasons in words, one sign convention for every model:
/// each input field in its display name, value and unit (from the dataset schema) and each
/// month of history by its calendar month and its most influential panel column, with what it
/// adds to the churn probability in points. Fields and months rank together by size.
///
/// The same reasons are what the prediction page, the contact list and its CSV, `churn
/// explain` and `churn score --reasons` show.
public struct RiskReasons: Sendable {
    /// The schema the explained model reads (nil: field names in words, values as they are).
    public let schema: DatasetSchema?
    /// `en` or `ko`; other languages read as English.
    public let language: String

    public init(schema: DatasetSchema?, language: String = "en") {
        self.schema = schema
        self.language = language == "ko" ? "ko" : "en"
    }

    /// The `top` largest reasons of `explanation` (fields and months with a measured effect),
    /// largest first; effects that round to 0.0 points are left out.
    public func reasons(_ explanation: ModelExplanation, top: Int = 3) -> [RiskReason] {
        var reasons = explanation.contributions.filter { abs($0.contribution) >= Self.smallest }.map { contribution in
            reason(.field(contribution.feature), phrase: phrase(field: contribution.feature, value: contribution.value),
                points: contribution.contribution * 100)
        }
        let derived = explanation.history != nil && explanation.history != "observed months"
        for month in explanation.months ?? [] {
            guard let effect = month.effect ?? (explanation.monthMethod == "occlusion" ? month.weight : nil), abs(effect) >= Self.smallest
            else { continue }
            reasons.append(reason(.month(month.period), phrase: phrase(month: month, derived: derived), points: effect * 100))
        }
        reasons.sort { abs($0.points) > abs($1.points) }
        return Array(reasons.prefix(max(0, top)))
    }

    /// The `top` reasons as one line: `Contract: Month-to-month +18 pts; Tenure 2 months +6 pts`
    /// (empty when the model gives none).
    public func line(_ explanation: ModelExplanation, top: Int = 3) -> String {
        reasons(explanation, top: top).map(\.text).joined(separator: "; ")
    }

    /// Points as reasons write them: whole points from 1 up (`+18 pts`), one decimal below
    /// (`-0.4 pts`), always signed.
    public func points(_ points: Double) -> String {
        let magnitude = min(abs(points), 100)
        let number = magnitude >= 0.95 ? String(Int(magnitude.rounded())) : decimal(magnitude, places: 1)
        return (points < 0 ? "-" : "+") + number + (language == "ko" ? "%p" : " pts")
    }

    // MARK: Phrases

    private func reason(_ subject: RiskReason.Subject, phrase: String, points: Double) -> RiskReason {
        RiskReason(subject: subject, phrase: phrase, points: points, text: phrase + " " + self.points(points))
    }

    /// `Contract: Month-to-month` (a category or yes/no), `Tenure 2 months` (a number with its
    /// unit), `Total charges: blank`.
    public func phrase(field: String, value: FieldValue) -> String {
        if let derived = Self.derivedAggregates[field] {
            return (language == "ko" ? derived.ko : derived.en) + " " + number(value, unit: nil)
        }
        let column = schema?.inputs.first { $0.name == field } ?? schema?.history?.inputs.first { $0.name == field }
        let name = column?.displayName(language) ?? SchemaColumn.words(field)
        switch value {
        case .null: return name + ": " + (language == "ko" ? "빈 값" : "blank")
        case .bool(let flag): return name + ": " + yesNo(flag)
        case .number where column?.type != .categorical: return name + " " + number(value, unit: column?.unit(language))
        default:
            let text = value.text ?? ""
            return name + ": " + (column?.displayValue(text, language) ?? text)
        }
    }

    /// `Oct 2026: Dropped calls 6`, `Tenure month 3`.
    public func phrase(month: MonthExplanation, derived: Bool) -> String {
        let when = monthName(month.period, derived: derived)
        guard let lead = month.lead, let value = month.values[lead] else { return when }
        return when + ": " + phrase(field: lead, value: value)
    }

    /// A period as people say it: `Oct 2026` (`2026년 10월`); a month number as `Month 3`, or
    /// for the history derived from tenure `Tenure month 3` (`가입 3개월째`).
    public func monthName(_ period: String, derived: Bool) -> String {
        guard let parsed = MonthlyPanel.parsePeriod(period) else { return period }
        if Int(period) != nil {
            if language == "ko" { return (derived ? "가입 " : "") + "\(parsed)개월째" }
            return (derived ? "Tenure month " : "Month ") + "\(parsed)"
        }
        let year = (parsed - 1) / 12
        let month = (parsed - 1) % 12 + 1
        if language == "ko" { return "\(year)년 \(month)월" }
        return Self.monthAbbreviations[month - 1] + " \(year)"
    }

    private func number(_ value: FieldValue, unit: String?) -> String {
        guard case .number(let number) = value else { return value.text ?? "" }
        let text: String
        if !number.isFinite || abs(number) >= 1e15 {
            text = "\(number)"
        } else if number.rounded() == number {
            text = String(Int64(number))
        } else {
            text = decimal(number, places: abs(number) >= 1 ? 2 : 3)
        }
        guard var unit, !unit.isEmpty else { return text }
        // English units are written in the plural: one of them is singular (`1 month`).
        if number == 1, language == "en", unit.hasSuffix("s"), !unit.hasSuffix("ss") { unit.removeLast() }
        // Korean units follow the number directly (`2개월`); others after a space.
        return unit.unicodeScalars.first.map { $0.isASCII } == false ? text + unit : text + " " + unit
    }

    private func yesNo(_ flag: Bool) -> String {
        language == "ko" ? (flag ? "예" : "아니요") : (flag ? "yes" : "no")
    }

    /// `value` with `places` decimals.
    private func decimal(_ value: Double, places: Int) -> String { String(format: "%.\(places)f", value) }

    /// The smallest effect a reason is given for: 0.05 points (smaller ones print as 0.0).
    static let smallest = 0.0005

    private static let monthAbbreviations = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The aggregates a model derives from tenure and charges (``FeatureSchema/historyNames``),
    /// in words.
    private static let derivedAggregates: [String: (en: String, ko: String)] = [
        "history.charge_last": ("Latest monthly charge (derived)", "최근 월 요금(추정)"),
        "history.charge_mean": ("Average monthly charge (derived)", "평균 월 요금(추정)"),
        "history.charge_slope": ("Monthly charge trend (derived)", "월 요금 추세(추정)"),
    ]
}
