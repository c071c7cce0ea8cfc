import ChurnBoosting
import ChurnProtocol

/// The hyperparameters `train` accepts, validated at fit time with messages naming the parameter,
/// and how they are described in the handshake (with the part a tuner searches).
public enum BoostingParameters {
    /// The parameters, their ranges, defaults and search spaces. `n_rounds` is the budget the
    /// tuner's successive halving grows; early stopping keeps the best round of those.
    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            name: "n_rounds", type: "integer", defaultValue: 500, help: "boosting rounds at most (1-100000); early stopping keeps the best",
            minimum: 1, maximum: 100_000, role: .budget),
        ParameterSpec(
            name: "learning_rate", type: "number", defaultValue: 0.1, help: "shrinkage of each tree, in (0, 1]", minimum: 1e-4,
            maximum: 1, scale: .log, search: .range(0.01, 0.2, scale: .log)),
        ParameterSpec(
            name: "growth", type: "string", defaultValue: "leaf_wise",
            help: "leaf_wise (the leaf that gains most splits next, up to max_leaves) or depth_wise (level by level, up to max_depth)",
            choices: ["leaf_wise", "depth_wise"], search: .choices(["leaf_wise", "depth_wise"])),
        ParameterSpec(
            name: "max_depth", type: "integer", defaultValue: 6, help: "deepest split level; 0 for unlimited (leaf_wise only)",
            minimum: 0, maximum: 64, search: .choices([3, 4, 6, 8])),
        ParameterSpec(
            name: "max_leaves", type: "integer", defaultValue: 31, help: "leaves per tree at most (2-4096)", minimum: 2, maximum: 4096,
            scale: .log, search: .choices([7, 15, 31, 63])),
        ParameterSpec(
            name: "min_child_weight", type: "number", defaultValue: 0.001, help: "smallest hessian sum in a leaf", minimum: 0,
            maximum: 10_000, scale: .log, search: .range(0.001, 10, scale: .log)),
        ParameterSpec(
            name: "min_data_in_leaf", type: "integer", defaultValue: 20, help: "fewest rows in a leaf", minimum: 1, maximum: 1_000_000,
            scale: .log, search: .range(5, 200, scale: .log)),
        ParameterSpec(
            name: "lambda_l2", type: "number", defaultValue: 1, help: "L2 penalty on leaf values", minimum: 0, maximum: 10_000,
            scale: .log, search: .range(0.01, 100, scale: .log)),
        ParameterSpec(
            name: "min_split_gain", type: "number", defaultValue: 0, help: "smallest gain a split must bring", minimum: 0, maximum: 10_000),
        ParameterSpec(
            name: "subsample", type: "number", defaultValue: 1, help: "fraction of rows each round draws, in (0, 1]", minimum: 0.01,
            maximum: 1, search: .range(0.5, 1)),
        ParameterSpec(
            name: "colsample_bytree", type: "number", defaultValue: 1, help: "fraction of fields each tree may split on, in (0, 1]",
            minimum: 0.01, maximum: 1, search: .range(0.5, 1)),
        ParameterSpec(
            name: "max_cat_to_onehot", type: "integer", defaultValue: 4,
            help: "a field with at most this many categories is split one category against the rest", minimum: 1, maximum: 255),
        ParameterSpec(
            name: "cat_smooth", type: "number", defaultValue: 10,
            help: "categories with fewer rows in a node stay out of its split; also smooths the category order", minimum: 0,
            maximum: 10_000),
        ParameterSpec(
            name: "cat_l2", type: "number", defaultValue: 10, help: "extra L2 penalty on categorical splits", minimum: 0, maximum: 10_000),
        ParameterSpec(
            name: "max_bins", type: "integer", defaultValue: 255, help: "quantile bins per numeric field (2-254, and one for missing)",
            minimum: 2, maximum: 255),
        ParameterSpec(
            name: "early_stopping_rounds", type: "integer", defaultValue: 20,
            help: "stop after this many rounds without a better validation log loss, keeping the best (0: never)", minimum: 0,
            maximum: 100_000),
        ParameterSpec(
            name: "validation_fraction", type: "number", defaultValue: 0.1,
            help: "without a validation file, the share of training rows held back for early stopping (0: none, every round is kept)",
            minimum: 0, maximum: 0.5),
        ParameterSpec(name: "threads", type: "integer", defaultValue: 0, help: "threads for fitting; 0 for one per core", minimum: 0, maximum: 256),
        ParameterSpec(
            name: "history_window", type: "integer", defaultValue: 12, help: "months of history the aggregates span (1-72)",
            minimum: 1, maximum: 72, search: .choices([3, 6, 12, 24]), role: .history),
    ]

    /// What `train` fits with.
    public struct Parsed: Sendable {
        public var options: BoostingOptions
        public var maxBins: Int
        public var validationFraction: Double
        public var window: Int
    }

    /// The options in `params` (every name checked against the specs, every value against its range).
    public static func parse(_ params: [String: JSONValue], seed: UInt64) throws -> Parsed {
        let values = try ParameterValues(params, specs: specs)
        var options = BoostingOptions()
        options.rounds = try values.integer("n_rounds")
        options.learningRate = try values.number("learning_rate")
        options.growth = try values.string("growth") == "depth_wise" ? .depthWise : .leafWise
        options.maxDepth = try values.integer("max_depth")
        options.maxLeaves = try values.integer("max_leaves")
        options.minChildWeight = try values.number("min_child_weight")
        options.minDataInLeaf = try values.integer("min_data_in_leaf")
        options.lambdaL2 = try values.number("lambda_l2")
        options.minSplitGain = try values.number("min_split_gain")
        options.subsample = try values.number("subsample")
        options.colsampleByTree = try values.number("colsample_bytree")
        options.maxCatToOneHot = try values.integer("max_cat_to_onehot")
        options.catSmooth = try values.number("cat_smooth")
        options.catL2 = try values.number("cat_l2")
        options.earlyStoppingRounds = try values.integer("early_stopping_rounds")
        options.threads = try values.integer("threads")
        options.seed = seed
        if options.growth == .depthWise, options.maxDepth == 0 {
            throw RPCError.invalidParams(field: "params.max_depth", "depth_wise growth needs a max_depth of 1 or more (0 is unlimited, for leaf_wise)")
        }
        do {
            try options.validate()
        } catch {
            throw RPCError.invalidParams(field: "params", "\(error)")
        }
        return Parsed(
            options: options, maxBins: try values.integer("max_bins"), validationFraction: try values.number("validation_fraction"),
            window: try values.integer("history_window"))
    }

    /// The parameters a model was trained with, under the names `train` accepts.
    static func applied(_ parsed: Parsed) -> [String: JSONValue] {
        let options = parsed.options
        return [
            "n_rounds": .number(Double(options.rounds)), "learning_rate": .number(options.learningRate),
            "growth": .string(options.growth == .depthWise ? "depth_wise" : "leaf_wise"), "max_depth": .number(Double(options.maxDepth)),
            "max_leaves": .number(Double(options.maxLeaves)), "min_child_weight": .number(options.minChildWeight),
            "min_data_in_leaf": .number(Double(options.minDataInLeaf)), "lambda_l2": .number(options.lambdaL2),
            "min_split_gain": .number(options.minSplitGain), "subsample": .number(options.subsample),
            "colsample_bytree": .number(options.colsampleByTree), "max_cat_to_onehot": .number(Double(options.maxCatToOneHot)),
            "cat_smooth": .number(options.catSmooth), "cat_l2": .number(options.catL2), "max_bins": .number(Double(parsed.maxBins)),
            "early_stopping_rounds": .number(Double(options.earlyStoppingRounds)),
            "validation_fraction": .number(parsed.validationFraction), "threads": .number(Double(options.threads)),
            "history_window": .number(Double(parsed.window)),
        ]
    }
}
