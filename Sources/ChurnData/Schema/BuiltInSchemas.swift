import ChurnProtocol
import Foundation

/// The schemas churn knows by name: IBM's telco churn sample in its two public shapes.
///
/// - `kaggle`: the 21-column Kaggle file (`WA_Fn-UseC_-Telco-Customer-Churn`): `customerID`,
///   16 categorical services and demographics, `tenure`, `MonthlyCharges`, `TotalCharges`, and
///   `Churn` (`Yes`/`No`). Its quirk: `TotalCharges` is blank for the customers with tenure 0 (not
///   billed yet), which the schema says as a rule: blank only when `tenure` is 0, and then 0.
/// - `ibm`: IBM's 33-column release of the same customers (`Tenure Months`, `Senior Citizen` as
///   Yes/No, `Churn Label`, ...), read into the same fields. `Churn Reason` is kept as evidence;
///   `Churn Value` (the label as 0/1) and `Churn Score` (IBM's score, built knowing the outcome)
///   are declared never-inputs. City, coordinates and CLTV are not read.
///
/// This file is the only place churn names telco fields: everything else reads the schema.
public enum BuiltInSchemas {
    /// The built-in schemas by name.
    public static let all: [String: DatasetSchema] = ["kaggle": kaggle, "ibm": ibm]

    /// The Kaggle telco file.
    public static let kaggle = DatasetSchema(
        name: "telco-kaggle", id: IdentifierColumn(name: "customerID"),
        label: LabelColumn(name: "Churn", positive: ["Yes"], negative: ["No"]),
        columns: telcoColumns(renamed: [:], maps: [:]), derivedHistory: telcoHistory, revenue: "MonthlyCharges")

    /// IBM's extended release, read into the Kaggle fields.
    public static let ibm = DatasetSchema(
        name: "telco-ibm", id: IdentifierColumn(name: "customerID", column: "CustomerID"),
        label: LabelColumn(name: "Churn", column: "Churn Label", positive: ["Yes"], negative: ["No"]),
        reason: FileColumn(name: "Churn Reason"),
        columns: telcoColumns(
            renamed: [
                "gender": "Gender", "SeniorCitizen": "Senior Citizen", "tenure": "Tenure Months", "PhoneService": "Phone Service",
                "MultipleLines": "Multiple Lines", "InternetService": "Internet Service", "OnlineSecurity": "Online Security",
                "OnlineBackup": "Online Backup", "DeviceProtection": "Device Protection", "TechSupport": "Tech Support",
                "StreamingTV": "Streaming TV", "StreamingMovies": "Streaming Movies", "PaperlessBilling": "Paperless Billing",
                "PaymentMethod": "Payment Method", "MonthlyCharges": "Monthly Charges", "TotalCharges": "Total Charges",
            ],
            maps: ["SeniorCitizen": ["No": "0", "Yes": "1"]]),
        neverInputs: ["Churn Value", "Churn Score"], derivedHistory: telcoHistory, revenue: "MonthlyCharges")

    private static let telcoHistory = DerivedHistoryFields(
        tenure: "tenure", monthlyCharge: "MonthlyCharges", totalCharges: "TotalCharges")

    /// Korean labels of the telco fields, for forms and tables.
    private static let koreanLabels: [String: String] = [
        "gender": "성별", "SeniorCitizen": "고령자", "Partner": "배우자", "Dependents": "부양가족", "tenure": "가입 기간",
        "PhoneService": "전화 서비스", "MultipleLines": "다회선", "InternetService": "인터넷 서비스", "OnlineSecurity": "온라인 보안",
        "OnlineBackup": "온라인 백업", "DeviceProtection": "기기 보호", "TechSupport": "기술 지원", "StreamingTV": "TV 스트리밍",
        "StreamingMovies": "영화 스트리밍", "Contract": "약정", "PaperlessBilling": "전자 청구서", "PaymentMethod": "결제 방법",
        "MonthlyCharges": "월 요금", "TotalCharges": "총 요금",
    ]

    /// What the telco fields' values are called: Korean for every value, English where the file's
    /// value is a code (`SeniorCitizen` 0/1).
    private static let valueLabels: [String: [String: [String: String]]] = {
        let yesNo = ["Yes": "예", "No": "아니요"]
        let addOn = yesNo.merging(["No internet service": "인터넷 미가입"]) { $1 }
        var labels: [String: [String: [String: String]]] = [
            "gender": ["ko": ["Female": "여성", "Male": "남성"]],
            "SeniorCitizen": ["en": ["0": "No", "1": "Yes"], "ko": ["0": "아니요", "1": "예"]],
            "MultipleLines": ["ko": yesNo.merging(["No phone service": "전화 미가입"]) { $1 }],
            "InternetService": ["ko": ["DSL": "DSL", "Fiber optic": "광랜", "No": "미가입"]],
            "Contract": ["ko": ["Month-to-month": "월 단위", "One year": "1년", "Two year": "2년"]],
            "PaymentMethod": [
                "ko": [
                    "Electronic check": "전자 수표", "Mailed check": "우편 수표", "Bank transfer (automatic)": "계좌 이체(자동)",
                    "Credit card (automatic)": "신용카드(자동)",
                ]
            ],
        ]
        for name in ["Partner", "Dependents", "PhoneService", "PaperlessBilling"] { labels[name] = ["ko": yesNo] }
        for name in ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies"] {
            labels[name] = ["ko": addOn]
        }
        return labels
    }()

    /// Units of the telco numbers.
    private static let units: [String: [String: String]] = ["tenure": ["en": "months", "ko": "개월"]]

    private static func telcoColumns(renamed: [String: String], maps: [String: [String: String]]) -> [SchemaColumn] {
        let yesNo = ["No", "Yes"]
        let internetAddOn = ["No", "Yes", "No internet service"]
        func category(_ name: String, _ values: [String]) -> SchemaColumn {
            SchemaColumn(
                name: name, column: renamed[name], type: .categorical, values: values, map: maps[name],
                labels: koreanLabels[name].map { ["ko": $0] }, valueLabels: valueLabels[name])
        }
        func number(_ name: String, maximum: Double, integer: Bool = false, blank: BlankRule = .error) -> SchemaColumn {
            SchemaColumn(
                name: name, column: renamed[name], type: .numeric, minimum: 0, maximum: maximum, integer: integer, blank: blank,
                labels: koreanLabels[name].map { ["ko": $0] }, units: units[name])
        }
        return [
            category("gender", ["Female", "Male"]), category("SeniorCitizen", ["0", "1"]), category("Partner", yesNo),
            category("Dependents", yesNo), number("tenure", maximum: 1000, integer: true), category("PhoneService", yesNo),
            category("MultipleLines", ["No", "Yes", "No phone service"]), category("InternetService", ["DSL", "Fiber optic", "No"]),
            category("OnlineSecurity", internetAddOn), category("OnlineBackup", internetAddOn),
            category("DeviceProtection", internetAddOn), category("TechSupport", internetAddOn),
            category("StreamingTV", internetAddOn), category("StreamingMovies", internetAddOn),
            category("Contract", ["Month-to-month", "One year", "Two year"]), category("PaperlessBilling", yesNo),
            category("PaymentMethod", ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]),
            number("MonthlyCharges", maximum: 100_000),
            number("TotalCharges", maximum: 100_000_000, blank: .when(column: "tenure", equals: 0, value: 0)),
        ]
    }

    /// The retention offers for the telco schemas (the web UI's default): contracts, add-on
    /// bundles, automatic payment and a discount; segments by contract, internet and payment.
    /// The telco offers the web UI ranks without `--offers`: their monthly costs (the loyalty
    /// discount a contract comes with, a bundle's running cost, a bill credit) and the share of
    /// customers assumed to accept are assumptions, shown beside every offer; an operator's own
    /// file replaces them.
    public static let telcoOffers = RetentionOffers(
        offers: [
            RetentionOffer(
                id: "one_year_contract", title: ["en": "One-year contract offer", "ko": "1년 약정 제안"],
                when: ["Contract": ["Month-to-month"]], set: ["Contract": "One year"], monthlyCost: 5, acceptance: 0.25),
            RetentionOffer(
                id: "two_year_contract", title: ["en": "Two-year contract offer", "ko": "2년 약정 제안"],
                when: ["Contract": ["Month-to-month", "One year"]], set: ["Contract": "Two year"], monthlyCost: 8, acceptance: 0.15),
            RetentionOffer(
                id: "tech_support", title: ["en": "Tech-support bundle", "ko": "기술 지원 번들"], when: ["TechSupport": ["No"]],
                set: ["TechSupport": "Yes"], monthlyCost: 4, acceptance: 0.3),
            RetentionOffer(
                id: "online_security", title: ["en": "Online-security bundle", "ko": "온라인 보안 번들"],
                when: ["OnlineSecurity": ["No"]], set: ["OnlineSecurity": "Yes"], monthlyCost: 3, acceptance: 0.3),
            RetentionOffer(
                id: "automatic_payment", title: ["en": "Switch to automatic payment", "ko": "자동 결제 전환"],
                when: ["PaymentMethod": ["Electronic check", "Mailed check"]], set: ["PaymentMethod": "Credit card (automatic)"],
                monthlyCost: 1, acceptance: 0.35),
            RetentionOffer(
                id: "discount_10", title: ["en": "10% discount", "ko": "10% 할인"], scale: ["MonthlyCharges": 0.9],
                monthlyCostShare: 0.1, acceptance: 0.5),
        ],
        segments: ["Contract", "InternetService", "PaymentMethod"])

    /// The built-in schema whose id, input and label columns all are in `header`, if any.
    public static func detect(header: [String]) -> DatasetSchema? {
        let names = Set(header)
        return [kaggle, ibm].first { schema in
            names.contains(schema.id!.column) && names.contains(schema.label.column)
                && schema.inputs.allSatisfy { names.contains($0.fileColumn) }
        }
    }

    /// A built-in schema by name, or a schema file by path. A mapping file of churn's first
    /// release (`columns` as an object renaming telco fields) is read as the Kaggle schema with
    /// those renamings.
    public static func named(_ nameOrPath: String) throws(DataError) -> DatasetSchema {
        if let builtIn = all[nameOrPath] { return builtIn }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: nameOrPath)))
        } catch {
            throw .invalidSchema(
                source: nameOrPath, field: "",
                reason: "not a built-in schema (\(all.keys.sorted().joined(separator: ", "))) and not a readable file: \(error.localizedDescription)")
        }
        if case .object(let members)? = try? JSONParser.parse(bytes), case .object? = members["columns"] {
            return try legacyMapping(members, source: nameOrPath)
        }
        return try DatasetSchema.parse(bytes, source: nameOrPath)
    }

    /// A first-release mapping file: `{"columns": {field: file column}, "values": {field: {file
    /// value: value}}, "label": {"column", "churned", "stayed"}, "churn_reason"}` over the Kaggle fields.
    static func legacyMapping(_ members: [String: JSONValue], source: String) throws(DataError) -> DatasetSchema {
        var schema = kaggle
        schema.name = members["name"]?.stringValue ?? "custom"
        let fields = Set(schema.inputs.map(\.name) + [schema.id!.name])
        for (field, column) in members["columns"]?.objectValue ?? [:] {
            guard fields.contains(field) else {
                throw .invalidSchema(source: source, field: "columns.\(field)", reason: "\"\(field)\" is not a telco field")
            }
            guard let column = column.stringValue else {
                throw .invalidSchema(source: source, field: "columns.\(field)", reason: "expected a column name")
            }
            if field == schema.id!.name {
                schema.id = IdentifierColumn(name: field, column: column)
            } else if let index = schema.columns.firstIndex(where: { $0.name == field }) {
                schema.columns[index].column = column
            }
        }
        for (field, translation) in members["values"]?.objectValue ?? [:] {
            guard let index = schema.columns.firstIndex(where: { $0.name == field && $0.type == .categorical }) else {
                throw .invalidSchema(source: source, field: "values.\(field)", reason: "\"\(field)\" is not a categorical telco field")
            }
            schema.columns[index].map = (translation.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        if let label = members["label"]?.objectValue {
            schema.label = LabelColumn(
                name: schema.label.name, column: label["column"]?.stringValue ?? schema.label.column,
                positive: label["churned"]?.arrayValue?.compactMap(\.stringValue) ?? schema.label.positive,
                negative: label["stayed"]?.arrayValue?.compactMap(\.stringValue) ?? schema.label.negative)
        }
        if let reason = members["churn_reason"]?.stringValue { schema.reason = FileColumn(name: reason) }
        try schema.check(source: source)
        return schema
    }
}
