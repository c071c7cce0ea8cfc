import ChurnData
import ChurnProtocol
import Foundation

/// The prediction form, generated from a model's dataset schema: a text input with a number
/// keypad (its bounds beside it) per numeric field, a select per closed categorical or boolean field, a text
/// input per open one, a date input per date; checked with the rules the daemon checks records by,
/// and every problem shown beside its field at once.
///
/// Numbers are typed into text inputs, not `type="number"` ones: a browser sends a number input
/// holding `abc` as an empty value, which a schema that allows blanks would read as missing, so
/// the prediction would silently go without it. A text input sends `abc`, and its error shows.
struct PredictionForm {
    let schema: DatasetSchema
    let validator: RecordValidator

    init(schema: DatasetSchema) {
        self.schema = schema.canonical
        self.validator = RecordValidator(schema: schema)
    }

    /// The id field's form name.
    var idField: String { validator.idField }

    /// The form values of a record (a looked-up customer, or the starting point).
    func values(of record: CustomerRecord) -> [String: String] {
        var values: [String: String] = [idField: record[idField]?.text ?? ""]
        for column in schema.inputs {
            switch record[column.name] {
            case .bool(let flag)?: values[column.name] = flag ? "true" : "false"
            case let value?: values[column.name] = value.text ?? ""
            case nil: values[column.name] = ""
            }
        }
        return values
    }

    /// What the template shows per field: its label, kind, value, choices, bounds and any error.
    func fields(_ entered: [String: String], errors: [String: String], language: Language) -> [[String: Any]] {
        var fields: [[String: Any]] = [[
            "name": idField, "label": WebStrings.text("col.customer", language) + " (\(idField))", "value": entered[idField] ?? "",
            "text": true,
        ]]
        if let error = errors[idField] { fields[0]["error"] = error }
        for column in schema.inputs {
            var field: [String: Any] = ["name": column.name, "label": column.label(language.rawValue), "value": entered[column.name] ?? ""]
            switch column.type {
            case .categorical where !column.open:
                field["choices"] = (column.values ?? []).map { ["value": $0, "selected": $0 == entered[column.name]] }
                field["has_choices"] = true
            case .boolean:
                let yes = WebStrings.text("form.yes", language)
                let no = WebStrings.text("form.no", language)
                field["choices"] = [
                    ["value": "true", "shown": yes, "selected": entered[column.name] == "true"],
                    ["value": "false", "shown": no, "selected": entered[column.name] == "false"],
                ]
                field["has_choices"] = true
            case .numeric:
                field["number"] = true
                field["inputmode"] = column.integer && (column.minimum ?? -1) >= 0 ? "numeric" : "decimal"
                if let range = Self.range(column) { field["range"] = range }
            case .date:
                field["date"] = true
            default:
                field["text"] = true
            }
            if let error = errors[column.name] { field["error"] = error }
            fields.append(field)
        }
        return fields
    }

    /// A numeric field's bounds as the form shows them beside it: `0 – 72`, `≥ 0`, `≤ 100`.
    static func range(_ column: SchemaColumn) -> String? {
        let low = column.minimum.flatMap { FieldValue.number($0).text }
        let high = column.maximum.flatMap { FieldValue.number($0).text }
        switch (low, high) {
        case (let low?, let high?): return "\(low) – \(high)"
        case (let low?, nil): return "≥ \(low)"
        case (nil, let high?): return "≤ \(high)"
        default: return nil
        }
    }

    /// The record the form describes, or every field's problem.
    func validate(_ form: [String: String], language: Language) -> Result<CustomerRecord, FormErrors> {
        var errors: [String: String] = [:]
        var record: [String: FieldValue] = [:]
        let id = (form[idField] ?? "").trimmingCharacters(in: .whitespaces)
        if id.isEmpty || id.count > 64 {
            errors[idField] = WebStrings.text("form.id_rule", language)
        }
        record[idField] = .string(id)
        for column in schema.inputs {
            let text = (form[column.name] ?? "").trimmingCharacters(in: .whitespaces)
            switch column.type {
            case .numeric:
                if text.isEmpty {
                    record[column.name] = .null  // the schema's blank rule decides
                } else if let number = Double(text), number.isFinite {
                    record[column.name] = .number(number)
                } else {
                    errors[column.name] = WebStrings.text("form.number", language) + " (\(WebStrings.text("form.got", language)) \"\(text)\")"
                }
            case .boolean:
                record[column.name] = text == "true" ? .bool(true) : text == "false" ? .bool(false) : .string(text)
            default:
                record[column.name] = .string(text)
            }
        }
        let candidate = CustomerRecord(record)
        for problem in validator.problems(candidate) where errors[problem.field] == nil {
            errors[problem.field] = problem.reason
        }
        return errors.isEmpty ? .success(candidate) : .failure(FormErrors(errors: errors))
    }
}

/// Every field's problem, by field name.
struct FormErrors: Error {
    var errors: [String: String]
}
