import ChurnData
import ChurnProtocol
import Foundation

/// The prediction form: every telco input field, checked the way the daemon checks records,
/// with each problem shown beside its field.
enum PredictionForm {
    struct Errors: Error {
        var errors: [String: String]
    }

    /// Field names in form order: the id, then the schema's categorical and numeric fields.
    static let names: [String] =
        [TelcoSchema.idField] + CategoricalField.allCases.map(\.name) + NumericField.allCases.map(\.name)

    /// A typical month-to-month fibre customer, as the empty form's starting point.
    static let defaults: [String: String] = {
        var values: [String: String] = [TelcoSchema.idField: "web-0001", "tenure": "5", "MonthlyCharges": "85.5", "TotalCharges": "427.5"]
        for field in CategoricalField.allCases { values[field.name] = field.values[0] }
        values["InternetService"] = "Fiber optic"
        values["PaymentMethod"] = "Electronic check"
        values["PhoneService"] = "Yes"
        return values
    }()

    static func values(of customer: Customer) -> [String: String] {
        var values: [String: String] = [TelcoSchema.idField: customer.id]
        for field in CategoricalField.allCases { values[field.name] = customer[field] }
        for field in NumericField.allCases { values[field.name] = customer[field].map { Self.format($0) } ?? "" }
        return values
    }

    /// What the template shows per field: the value entered, the choices, and any error.
    static func fields(_ entered: [String: String], errors: [String: String], language: Language) -> [[String: Any]] {
        names.map { name -> [String: Any] in
            var field: [String: Any] = ["name": name, "label": WebStrings.fieldLabel(name, language), "value": entered[name] ?? ""]
            if let categorical = CategoricalField.allCases.first(where: { $0.name == name }) {
                field["has_choices"] = true
                field["choices"] = categorical.values.map { ["value": $0, "selected": $0 == entered[name]] }
            }
            if NumericField.allCases.contains(where: { $0.name == name }) { field["numeric"] = true }
            if let error = errors[name] { field["error"] = error }
            return field
        }
    }

    /// The record the form describes, or every field's problem.
    static func validate(_ form: [String: String], language: Language) -> Result<CustomerRecord, Errors> {
        var errors: [String: String] = [:]
        var fields: [String: FieldValue] = [:]
        let id = (form[TelcoSchema.idField] ?? "").trimmingCharacters(in: .whitespaces)
        if id.isEmpty || id.count > 64 {
            errors[TelcoSchema.idField] = language == .korean ? "1~64자의 고객 ID를 입력하세요" : "enter a customer ID of 1 to 64 characters"
        }
        fields[TelcoSchema.idField] = .string(id)
        for field in CategoricalField.allCases {
            let value = form[field.name] ?? ""
            if field.code(of: value) == nil {
                errors[field.name] =
                    (language == .korean ? "다음 중 하나여야 합니다: " : "must be one of: ") + field.values.joined(separator: ", ")
            }
            fields[field.name] = field == .seniorCitizen ? .number(value == "1" ? 1 : 0) : .string(value)
        }
        for field in NumericField.allCases {
            let text = (form[field.name] ?? "").trimmingCharacters(in: .whitespaces)
            if text.isEmpty, field == .totalCharges {
                fields[field.name] = .null  // not yet billed: allowed at tenure 0, checked below
                continue
            }
            guard let number = Double(text), number.isFinite else {
                errors[field.name] = language == .korean ? "숫자를 입력하세요 (입력값: \"\(text)\")" : "enter a number (got \"\(text)\")"
                continue
            }
            fields[field.name] = .number(number)
        }
        // The schema's own rules (ranges, whole months, blank TotalCharges only at tenure 0),
        // for every field that parsed, so all problems show at once.
        let record = CustomerRecord(fields)
        for problem in TelcoRecords.problems(record) where errors[problem.field] == nil {
            errors[names.contains(problem.field) ? problem.field : TelcoSchema.idField] = problem.reason
        }
        guard errors.isEmpty else { return .failure(Errors(errors: errors)) }
        return .success(record)
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}
