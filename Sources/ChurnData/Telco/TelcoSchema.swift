/// The telco churn schema: every input field a model may read, by its Kaggle CSV name, with
/// the values it may take. `Protocol/PROTOCOL.md` ("Customer records") documents the same.
///
/// Label fields (`Churn` and IBM's `Churn Label`, `Churn Value`, `Churn Score`, `Churn Reason`)
/// are not part of it: they can never become inputs.
public enum TelcoSchema {
    /// The identifier column.
    public static let idField = "customerID"
    /// The label column of the canonical schema.
    public static let labelField = "Churn"
    /// Fields that describe the outcome, under any known mapping. Never model inputs.
    public static let labelFields: Set<String> = ["Churn", "Churn Label", "Churn Value", "Churn Score", "Churn Reason"]
}

/// A categorical input field and its values, in canonical order.
public enum CategoricalField: Int, CaseIterable, Sendable, Codable {
    case gender, seniorCitizen, partner, dependents, phoneService, multipleLines, internetService
    case onlineSecurity, onlineBackup, deviceProtection, techSupport, streamingTV, streamingMovies
    case contract, paperlessBilling, paymentMethod

    /// The field's CSV name.
    public var name: String {
        switch self {
        case .gender: "gender"
        case .seniorCitizen: "SeniorCitizen"
        case .partner: "Partner"
        case .dependents: "Dependents"
        case .phoneService: "PhoneService"
        case .multipleLines: "MultipleLines"
        case .internetService: "InternetService"
        case .onlineSecurity: "OnlineSecurity"
        case .onlineBackup: "OnlineBackup"
        case .deviceProtection: "DeviceProtection"
        case .techSupport: "TechSupport"
        case .streamingTV: "StreamingTV"
        case .streamingMovies: "StreamingMovies"
        case .contract: "Contract"
        case .paperlessBilling: "PaperlessBilling"
        case .paymentMethod: "PaymentMethod"
        }
    }

    /// The values it may take; a record's code is an index into this list.
    public var values: [String] {
        switch self {
        case .gender: ["Female", "Male"]
        case .seniorCitizen: ["0", "1"]
        case .partner, .dependents, .phoneService, .paperlessBilling: ["No", "Yes"]
        case .multipleLines: ["No", "Yes", "No phone service"]
        case .internetService: ["DSL", "Fiber optic", "No"]
        case .onlineSecurity, .onlineBackup, .deviceProtection, .techSupport, .streamingTV, .streamingMovies:
            ["No", "Yes", "No internet service"]
        case .contract: ["Month-to-month", "One year", "Two year"]
        case .paymentMethod:
            ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]
        }
    }

    /// The value's code, or nil when it is not one of ``values``.
    public func code(of value: String) -> UInt8? {
        values.firstIndex(of: value).map { UInt8($0) }
    }

    /// The field with this CSV name.
    public init?(name: String) {
        guard let field = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = field
    }

    /// Per field: value → code, for matching record fields without scanning ``values``.
    static let codes: [[String: UInt8]] = allCases.map { field in
        Dictionary(uniqueKeysWithValues: field.values.enumerated().map { ($1, UInt8($0)) })
    }

    /// Byte forms of ``values`` for matching CSV cells without making strings.
    static let valueBytes: [[[UInt8]]] = allCases.map { $0.values.map { Array($0.utf8) } }
}

/// A numeric input field and its accepted range.
public enum NumericField: Int, CaseIterable, Sendable, Codable {
    case tenure, monthlyCharges, totalCharges

    public var name: String {
        switch self {
        case .tenure: "tenure"
        case .monthlyCharges: "MonthlyCharges"
        case .totalCharges: "TotalCharges"
        }
    }

    /// The accepted range; values outside are errors.
    public var range: ClosedRange<Double> {
        switch self {
        case .tenure: 0...1000
        case .monthlyCharges: 0...100_000
        case .totalCharges: 0...100_000_000
        }
    }

    /// Whether the value must be a whole number.
    public var isWhole: Bool { self == .tenure }

    public init?(name: String) {
        guard let field = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = field
    }
}
