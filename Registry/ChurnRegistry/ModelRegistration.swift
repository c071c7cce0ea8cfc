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
    /// What ``lossCurve`` counts along: `epoch` (the default) or `trees`.
    public var lossCurveUnit: String?
    public var rocCurve: [ROCPoint]
    public var importances: [FeatureImportance]
    public var featureSchema: JSONValue?
    /// The dataset schema the version reads (``DatasetSchema``'s JSON).
    public var datasetSchema: JSONValue?
    /// The history the version reads: `panel`, `derived` or `none`.
    public var historySource: String?
    /// How its probabilities are calibrated (``CalibrationRecord``'s JSON), when they are.
    public var calibration: JSONValue?
    public var trainingData: TrainingDataInfo?
    public var notes: String?
    public var tags: [String]
    /// What the tuning search tried, for a tuned version.
    public var leaderboard: Leaderboard?
    /// For a blend: its member versions (of the same model) and their weights.
    public var members: [BlendMember]?

    public init(
        name: String, kind: String, pluginVersion: String, protocolVersion: Int = ChurnProtocolVersion.current,
        params: [String: JSONValue] = [:], metrics: [String: Double] = [:], lossCurve: [EpochRecord] = [],
        rocCurve: [ROCPoint] = [], importances: [FeatureImportance] = [], featureSchema: JSONValue? = nil,
        trainingData: TrainingDataInfo? = nil, notes: String? = nil, tags: [String] = [], lossCurveUnit: String? = nil,
        datasetSchema: JSONValue? = nil, historySource: String? = nil, calibration: JSONValue? = nil,
        leaderboard: Leaderboard? = nil, members: [BlendMember]? = nil
    ) {
        self.leaderboard = leaderboard
        self.members = members
        self.calibration = calibration
        self.historySource = historySource
        self.lossCurveUnit = lossCurveUnit
        self.datasetSchema = datasetSchema
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

