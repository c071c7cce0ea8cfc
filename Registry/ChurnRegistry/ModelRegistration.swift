import ChurnProtocol

/// A new version, as training or an import describes it, before it has a number.
public struct ModelRegistration: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var pluginVersion: String
    public var protocolVersion: Int
    public var params: [String: JSONValue]
    public var metrics: [String: Double]
    public var lossCurve: [EpochRecord]
    public var rocCurve: [ROCPoint]
    public var importances: [FeatureImportance]
    public var featureSchema: JSONValue?
    public var trainingData: TrainingDataInfo?
    public var notes: String?
    public var tags: [String]

    public init(
        name: String, kind: String, pluginVersion: String, protocolVersion: Int = ChurnProtocolVersion.current,
        params: [String: JSONValue] = [:], metrics: [String: Double] = [:], lossCurve: [EpochRecord] = [],
        rocCurve: [ROCPoint] = [], importances: [FeatureImportance] = [], featureSchema: JSONValue? = nil,
        trainingData: TrainingDataInfo? = nil, notes: String? = nil, tags: [String] = []
    ) {
        self.name = name
        self.kind = kind
        self.pluginVersion = pluginVersion
        self.protocolVersion = protocolVersion
        self.params = params
        self.metrics = metrics
        self.lossCurve = lossCurve
        self.rocCurve = rocCurve
        self.importances = importances
        self.featureSchema = featureSchema
        self.trainingData = trainingData
        self.notes = notes
        self.tags = tags
    }
}

/// One line of the append-only audit log.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var at: String
    public var user: String
    /// `register`, `promote`, `rollback`, `delete`, `import`.
    public var action: String
    public var model: String
    public var fromVersion: Int?
    public var toVersion: Int?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case at, user, action, model, detail
        case fromVersion = "from_version"
        case toVersion = "to_version"
    }
}

/// What `verify` found.
public struct VerificationReport: Sendable, Hashable, Codable {
    /// `ok` or the problems SQLite's integrity check reported.
    public var databaseIntegrity: [String]
    public var artifactsChecked: Int
    /// One line per artifact that failed, naming the version.
    public var artifactProblems: [String]
    /// Aliases pointing at missing versions.
    public var aliasProblems: [String]

    public var isHealthy: Bool {
        databaseIntegrity == ["ok"] && artifactProblems.isEmpty && aliasProblems.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case databaseIntegrity = "database_integrity"
        case artifactsChecked = "artifacts_checked"
        case artifactProblems = "artifact_problems"
        case aliasProblems = "alias_problems"
    }
}
