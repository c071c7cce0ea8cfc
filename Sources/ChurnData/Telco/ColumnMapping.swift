import Foundation

/// How a file's columns and values map onto the telco schema. Built in: `kaggle` (the 21-column
/// Kaggle file) and `ibm` (IBM's 33-column release); anything else through a JSON mapping file:
///
/// ```json
/// {"name": "crm-export",
///  "columns": {"customerID": "Customer ID", "tenure": "Months Active"},
///  "values": {"SeniorCitizen": {"Yes": "1", "No": "0"}},
///  "label": {"column": "Left", "churned": ["Yes"], "stayed": ["No"]},
///  "churn_reason": "Why Left"}
/// ```
/// Fields not named under `columns` are looked up by their own name.
public struct ColumnMapping: Sendable, Hashable, Codable {
    public var name: String
    /// Schema field name → the file's column name.
    public var columns: [String: String]
    /// Schema field name → (the file's value → the schema's value).
    public var values: [String: [String: String]]
    /// The outcome column, if the file has one.
    public var label: LabelMapping?
    /// A column of churn reasons kept as evidence (never an input).
    public var churnReason: String?

    /// Which values of the label column mean "churned" and "stayed".
    public struct LabelMapping: Sendable, Hashable, Codable {
        public var column: String
        public var churned: [String]
        public var stayed: [String]
    }

    enum CodingKeys: String, CodingKey {
        case name, columns, values, label
        case churnReason = "churn_reason"
    }

    public init(
        name: String, columns: [String: String] = [:], values: [String: [String: String]] = [:],
        label: LabelMapping?, churnReason: String? = nil
    ) {
        self.name = name
        self.columns = columns
        self.values = values
        self.label = label
        self.churnReason = churnReason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? "custom"
        columns = try container.decodeIfPresent([String: String].self, forKey: .columns) ?? [:]
        values = try container.decodeIfPresent([String: [String: String]].self, forKey: .values) ?? [:]
        label = try container.decodeIfPresent(LabelMapping.self, forKey: .label)
        churnReason = try container.decodeIfPresent(String.self, forKey: .churnReason)
    }

    /// The Kaggle telco file, whose names are the schema's.
    public static let kaggle = ColumnMapping(
        name: "kaggle", label: LabelMapping(column: "Churn", churned: ["Yes"], stayed: ["No"]))

    /// IBM's extended release (`Tenure Months`, `Churn Label`, `Senior Citizen` as Yes/No, ...).
    public static let ibm = ColumnMapping(
        name: "ibm",
        columns: [
            "customerID": "CustomerID", "gender": "Gender", "SeniorCitizen": "Senior Citizen", "Partner": "Partner",
            "Dependents": "Dependents", "tenure": "Tenure Months", "PhoneService": "Phone Service",
            "MultipleLines": "Multiple Lines", "InternetService": "Internet Service",
            "OnlineSecurity": "Online Security", "OnlineBackup": "Online Backup",
            "DeviceProtection": "Device Protection", "TechSupport": "Tech Support", "StreamingTV": "Streaming TV",
            "StreamingMovies": "Streaming Movies", "Contract": "Contract", "PaperlessBilling": "Paperless Billing",
            "PaymentMethod": "Payment Method", "MonthlyCharges": "Monthly Charges", "TotalCharges": "Total Charges",
        ],
        values: ["SeniorCitizen": ["No": "0", "Yes": "1"]],
        label: LabelMapping(column: "Churn Label", churned: ["Yes"], stayed: ["No"]),
        churnReason: "Churn Reason")

    /// The built-in mappings by name.
    public static let builtIn: [String: ColumnMapping] = ["kaggle": kaggle, "ibm": ibm]

    /// A built-in mapping by name, or a mapping file by path.
    public static func named(_ nameOrPath: String) throws(DataError) -> ColumnMapping {
        if let builtIn = builtIn[nameOrPath] { return builtIn }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: nameOrPath))
        } catch {
            throw .invalidMapping(
                file: nameOrPath,
                reason: "not a built-in mapping (kaggle, ibm) and not a readable file: \(error.localizedDescription)")
        }
        let mapping: ColumnMapping
        do {
            mapping = try JSONDecoder().decode(ColumnMapping.self, from: data)
        } catch let error as DecodingError {
            let (field, reason) = error.fieldAndReason
            throw .invalidMapping(file: nameOrPath, reason: "\(field.isEmpty ? "" : field + ": ")\(reason)")
        } catch {
            throw .invalidMapping(file: nameOrPath, reason: "\(error)")
        }
        let known = Set(CategoricalField.allCases.map(\.name) + NumericField.allCases.map(\.name) + [TelcoSchema.idField])
        for field in mapping.columns.keys.sorted() where !known.contains(field) {
            throw .invalidMapping(file: nameOrPath, reason: "columns: \"\(field)\" is not a schema field")
        }
        for (field, translation) in mapping.values.sorted(by: { $0.key < $1.key }) {
            guard let categorical = CategoricalField(name: field) else {
                throw .invalidMapping(file: nameOrPath, reason: "values: \"\(field)\" is not a categorical field")
            }
            for target in translation.values where categorical.code(of: target) == nil {
                throw .invalidMapping(
                    file: nameOrPath,
                    reason: "values.\(field): \"\(target)\" is not one of \(categorical.values.joined(separator: ", "))")
            }
        }
        return mapping
    }

    /// The file's column for a schema field.
    public func column(for field: String) -> String { columns[field] ?? field }

    /// The built-in mapping whose id and tenure columns the header has, if any.
    public static func detect(header: [String]) -> ColumnMapping? {
        let names = Set(header)
        return [kaggle, ibm].first { names.contains($0.column(for: "customerID")) && names.contains($0.column(for: "tenure")) }
    }
}

/// Column positions of one file under a mapping.
struct ResolvedColumns {
    let id: Int
    let categorical: [Int]
    let numeric: [Int]
    let label: Int?
    let churnReason: Int?
    let headerNames: [String]
    /// Per categorical field: the file's value bytes → code, when the mapping translates values.
    let translations: [[[UInt8]: UInt8]?]

    init(header: [String], mapping: ColumnMapping, file: String, requireLabel: Bool) throws(DataError) {
        var positions: [String: Int] = [:]
        for (index, name) in header.enumerated() where positions[name] == nil { positions[name] = index }
        var missing: [String] = []
        func position(_ field: String) -> Int {
            let column = mapping.column(for: field)
            guard let index = positions[column] else {
                missing.append(column)
                return -1
            }
            return index
        }
        id = position(TelcoSchema.idField)
        categorical = CategoricalField.allCases.map { position($0.name) }
        numeric = NumericField.allCases.map { position($0.name) }
        label = mapping.label.flatMap { positions[$0.column] }
        if requireLabel, label == nil { missing.append(mapping.label?.column ?? TelcoSchema.labelField) }
        guard missing.isEmpty else {
            throw .missingColumns(file: file, columns: missing, mapping: mapping.name)
        }
        churnReason = mapping.churnReason.flatMap { positions[$0] }
        headerNames = header
        translations = CategoricalField.allCases.map { field in
            guard let translation = mapping.values[field.name] else { return nil }
            var table: [[UInt8]: UInt8] = [:]
            for (source, target) in translation { table[Array(source.utf8)] = field.code(of: target) }
            return table
        }
    }
}
