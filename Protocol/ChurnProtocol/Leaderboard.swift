/// What a tuned training run (`models.train` with `tune`, or `kind` `auto`) tried and found,
/// kept with the version it registered: every configuration's cross-validated scores on the
/// training rows (never the held-back ones), the blend it considered, and why it stopped.
public struct Leaderboard: Codable, Sendable, Hashable {
    /// Cross-validation folds (stratified, on the training rows).
    public var folds: Int
    /// Training rows the search cross-validated on (the held-back test rows are not among them).
    public var rows: Int
    public var seed: UInt64
    /// The time budget of the whole run, in seconds.
    public var budgetSeconds: Double
    /// Seconds the search took (the final fit and evaluation came after).
    public var searchSeconds: Double
    /// Trials the plan held, at most (every rung of every kind, the defaults carried to each rung).
    public var planned: Int
    /// `budget` (the budget ran out first), `cancelled` (the client went away), or absent (the
    /// plan was completed).
    public var stopped: String?
    /// Kinds searched, in order.
    public var kinds: [String]
    /// Every configuration tried, best cross-validated ROC-AUC first.
    public var entries: [LeaderboardEntry]
    /// The trial registered as the version (absent when a blend was).
    public var chosenTrial: Int?
    /// The best blend of different kinds' best configurations, when more than one kind was
    /// searched; `chosen` when it was registered because it beat the best single model.
    public var blend: BlendSummary?

    public init(
        folds: Int, rows: Int, seed: UInt64, budgetSeconds: Double, searchSeconds: Double, planned: Int, stopped: String?,
        kinds: [String], entries: [LeaderboardEntry], chosenTrial: Int?, blend: BlendSummary?
    ) {
        self.folds = folds
        self.rows = rows
        self.seed = seed
        self.budgetSeconds = budgetSeconds
        self.searchSeconds = searchSeconds
        self.planned = planned
        self.stopped = stopped
        self.kinds = kinds
        self.entries = entries
        self.chosenTrial = chosenTrial
        self.blend = blend
    }

    enum CodingKeys: String, CodingKey {
        case folds, rows, seed, planned, stopped, kinds, entries, blend
        case budgetSeconds = "budget_seconds"
        case searchSeconds = "search_seconds"
        case chosenTrial = "chosen_trial"
    }
}

/// One configuration's cross-validation.
public struct LeaderboardEntry: Codable, Sendable, Hashable {
    /// The trial's number in the order trials ran (1 = first).
    public var trial: Int
    public var kind: String
    /// The hyperparameters as sent to `train` (the budget parameter at this rung's amount).
    public var params: [String: JSONValue]
    /// The successive-halving rung (0 = the first, cheapest comparison).
    public var rung: Int
    /// Whether these are the kind's default hyperparameters.
    public var isDefault: Bool
    /// Mean and standard deviation over the folds of the ROC-AUC on each fold's rows.
    public var rocAUC: Double
    public var rocAUCStd: Double
    public var foldROCAUC: [Double]
    /// Log loss of the out-of-fold probabilities, all folds pooled.
    public var logLoss: Double
    /// Mean seconds to fit and score one fold.
    public var fitSeconds: Double

    public init(
        trial: Int, kind: String, params: [String: JSONValue], rung: Int, isDefault: Bool, rocAUC: Double, rocAUCStd: Double,
        foldROCAUC: [Double], logLoss: Double, fitSeconds: Double
    ) {
        self.trial = trial
        self.kind = kind
        self.params = params
        self.rung = rung
        self.isDefault = isDefault
        self.rocAUC = rocAUC
        self.rocAUCStd = rocAUCStd
        self.foldROCAUC = foldROCAUC
        self.logLoss = logLoss
        self.fitSeconds = fitSeconds
    }

    enum CodingKeys: String, CodingKey {
        case trial, kind, params, rung
        case isDefault = "default"
        case rocAUC = "cv_roc_auc"
        case rocAUCStd = "cv_roc_auc_std"
        case foldROCAUC = "fold_roc_auc"
        case logLoss = "cv_log_loss"
        case fitSeconds = "fit_seconds"
    }
}

/// A weighted mean of several configurations' probabilities, judged by nested cross-validation:
/// for each fold, the weights are chosen on the other folds' out-of-fold probabilities and scored
/// on this fold's.
public struct BlendSummary: Codable, Sendable, Hashable {
    /// The members: a trial of the leaderboard each, with its weight (weights sum to 1).
    public var members: [BlendWeight]
    public var rocAUC: Double
    public var rocAUCStd: Double
    public var foldROCAUC: [Double]
    /// Whether the blend was registered (it beat the best single configuration).
    public var chosen: Bool

    public init(members: [BlendWeight], rocAUC: Double, rocAUCStd: Double, foldROCAUC: [Double], chosen: Bool) {
        self.members = members
        self.rocAUC = rocAUC
        self.rocAUCStd = rocAUCStd
        self.foldROCAUC = foldROCAUC
        self.chosen = chosen
    }

    enum CodingKeys: String, CodingKey {
        case members, chosen
        case rocAUC = "cv_roc_auc"
        case rocAUCStd = "cv_roc_auc_std"
        case foldROCAUC = "fold_roc_auc"
    }
}

/// One member of a blend in a leaderboard.
public struct BlendWeight: Codable, Sendable, Hashable {
    public var trial: Int
    public var kind: String
    public var weight: Double

    public init(trial: Int, kind: String, weight: Double) {
        self.trial = trial
        self.kind = kind
        self.weight = weight
    }
}

/// One member of a registered blend version: another version of the same model, and its weight.
public struct BlendMember: Codable, Sendable, Hashable {
    public var version: Int
    public var kind: String
    public var weight: Double
    /// The member's artifact sha256 (the blend's artifact names its members by it).
    public var sha256: String

    public init(version: Int, kind: String, weight: Double, sha256: String) {
        self.version = version
        self.kind = kind
        self.weight = weight
        self.sha256 = sha256
    }

    /// A blend version's `params`: its members' versions, kinds and weights.
    public static func params(_ members: [BlendMember]) -> [String: JSONValue] {
        [
            "members": .array(members.map { member in
                .object(["version": .number(Double(member.version)), "kind": .string(member.kind), "weight": .number(member.weight)])
            })
        ]
    }
}
