/// The rules every input value obeys, whether it comes from a CSV cell or a JSON record.
enum FieldRules {
    /// The problem with a parsed number of `field`, or nil when it is acceptable.
    static func problem(_ field: NumericField, _ value: Double) -> String? {
        guard value.isFinite else { return "\(field.name) must be a finite number" }
        if field.isWhole, value.rounded() != value { return "\(field.name) must be a whole number of months" }
        if !field.range.contains(value) {
            return "\(field.name) must be between \(Int(field.range.lowerBound)) and \(Int(field.range.upperBound))"
        }
        return nil
    }

    /// The problem with a missing number of `field` given the tenure, or nil when allowed:
    /// only `TotalCharges` may be blank, and only for a customer with tenure 0 (not yet billed).
    static func missingProblem(_ field: NumericField, tenure: Double) -> String? {
        if field == .totalCharges, tenure == 0 { return nil }
        if field == .totalCharges {
            return "TotalCharges is blank but tenure is \(Int(tenure)): blank is allowed only for tenure 0 (a customer not yet billed)"
        }
        return "\(field.name) is blank"
    }

    static func unknownCategory(_ field: CategoricalField) -> String {
        "unknown value for \(field.name): expected one of \(field.values.joined(separator: ", "))"
    }
}
