import ChurnProtocol

/// The hyperparameters `train` accepts, validated at fit time with messages naming the parameter
/// (scikit-learn's convention), and how they are described in the handshake.
public enum ForestParameters {
    /// The parameters, their ranges, defaults and the part a tuner searches. The defaults
    /// (max_depth 12, min_samples_leaf 10, max_features 0.33) have the smallest worst regret in
    /// 5-fold CV over six dataset shapes (`churn-bench defaults`, `docs/defaults.md`).
    public static let specs: [ParameterSpec] = [
        ParameterSpec(
            name: "n_trees", type: "integer", defaultValue: 300, help: "trees in the forest (1-5000)", minimum: 1, maximum: 5000,
            role: .budget),
        ParameterSpec(
            name: "max_depth", type: "integer", defaultValue: 12, help: "deepest split level; 0 for unlimited", minimum: 0,
            maximum: 1000, search: .choices([0, 8, 12, 20])),
        ParameterSpec(
            name: "min_samples_leaf", type: "integer", defaultValue: 10, help: "fewest distinct rows in a leaf", minimum: 1,
            maximum: 100_000, scale: .log, search: .range(1, 50, scale: .log)),
        ParameterSpec(
            name: "min_samples_split", type: "integer", defaultValue: 2, help: "fewest distinct rows to split a node", minimum: 2,
            maximum: 100_000, scale: .log),
        ParameterSpec(
            name: "max_features", type: "string", defaultValue: 0.33,
            help: "candidates per split: sqrt, log2, all, a count, or a fraction in (0, 1]", choices: ["sqrt", "log2", "all"],
            search: .choices(["sqrt", "log2", 0.33, 0.5])),
        ParameterSpec(
            name: "class_weight", type: "string", defaultValue: "none", help: "none or balanced", choices: ["none", "balanced"],
            search: .choices(["none", "balanced"])),
        ParameterSpec(name: "bins", type: "integer", defaultValue: 256, help: "bins per numeric feature (2-256)", minimum: 2, maximum: 256),
        ParameterSpec(name: "threads", type: "integer", defaultValue: 0, help: "threads for fitting; 0 for one per core", minimum: 0, maximum: 256),
        ParameterSpec(name: "bootstrap", type: "boolean", defaultValue: true, help: "draw each tree's rows with replacement"),
        ParameterSpec(
            name: "history_window", type: "integer", defaultValue: 12, help: "months of history the aggregates span (1-72)",
            minimum: 1, maximum: 72, search: .choices([3, 6, 12, 24]), role: .history),
    ]

    /// Options for a matrix `width` columns wide, plus the history window.
    public static func parse(_ params: [String: JSONValue], width: Int) throws -> (ForestOptions, window: Int) {
        let values = try ParameterValues(params, specs: specs)
        var options = ForestOptions()
        options.trees = try values.integer("n_trees")
        options.maxDepth = try values.integer("max_depth")
        options.minSamplesLeaf = try values.integer("min_samples_leaf")
        options.minSamplesSplit = try values.integer("min_samples_split")
        options.bins = try values.integer("bins")
        options.threads = try values.integer("threads")
        let window = try values.integer("history_window")
        options.classWeight = try values.string("class_weight")
        options.maxFeatures = try maxFeatures(values.raw("max_features"), width: width)
        options.bootstrap = try values.boolean("bootstrap")
        return (options, window)
    }

    /// The parameters a forest was trained with, under the names `train` accepts (so training
    /// again with them gives the same forest).
    static func applied(_ options: ForestOptions, window: Int) -> [String: JSONValue] {
        [
            "n_trees": .number(Double(options.trees)), "max_depth": .number(Double(options.maxDepth)),
            "min_samples_leaf": .number(Double(options.minSamplesLeaf)),
            "min_samples_split": .number(Double(options.minSamplesSplit)),
            "max_features": .number(Double(options.maxFeatures)), "class_weight": .string(options.classWeight),
            "bins": .number(Double(options.bins)), "history_window": .number(Double(window)),
            "threads": .number(Double(options.threads)), "bootstrap": .bool(options.bootstrap),
        ]
    }

    private static func maxFeatures(_ raw: JSONValue, width: Int) throws -> Int {
        switch raw {
        case .string("sqrt"): return max(1, Int(Double(width).squareRoot()))
        case .string("log2"): return max(1, Int(log2(Double(width))))
        case .string("all"): return width
        case .number(let number) where number.rounded() == number && number >= 1 && Int(number) <= width:
            return Int(number)
        case .number(let number) where number > 0 && number < 1:
            return max(1, Int(number * Double(width)))
        default:
            throw RPCError.invalidParams(
                field: "params.max_features",
                "must be sqrt, log2, all, a count from 1 to \(width), or a fraction in (0, 1); got \(raw.brief)")
        }
    }
}

import Foundation
