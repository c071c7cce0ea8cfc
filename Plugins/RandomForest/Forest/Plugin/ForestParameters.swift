import ChurnProtocol

/// The hyperparameters `train` accepts, validated at fit time with messages naming the parameter
/// (scikit-learn's convention), and how they are described in the handshake.
public enum ForestParameters {
    public static let specs: [ParameterSpec] = [
        ParameterSpec(name: "n_trees", type: "integer", defaultValue: 300, help: "trees in the forest (1-5000)"),
        ParameterSpec(name: "max_depth", type: "integer", defaultValue: 10, help: "deepest split level; 0 for unlimited"),
        ParameterSpec(name: "min_samples_leaf", type: "integer", defaultValue: 20, help: "fewest distinct rows in a leaf"),
        ParameterSpec(name: "min_samples_split", type: "integer", defaultValue: 2, help: "fewest distinct rows to split a node"),
        ParameterSpec(name: "max_features", type: "string", defaultValue: "sqrt", help: "candidates per split: sqrt, log2, all, a count, or a fraction in (0, 1]"),
        ParameterSpec(name: "class_weight", type: "string", defaultValue: "none", help: "none or balanced"),
        ParameterSpec(name: "bins", type: "integer", defaultValue: 256, help: "bins per numeric feature (2-256)"),
        ParameterSpec(name: "threads", type: "integer", defaultValue: 0, help: "threads for fitting; 0 for one per core"),
        ParameterSpec(name: "bootstrap", type: "boolean", defaultValue: true, help: "draw each tree's rows with replacement"),
        ParameterSpec(name: "history_window", type: "integer", defaultValue: 12, help: "months of derived history the aggregates span (1-72)"),
    ]

    /// Options for a matrix `width` columns wide, plus the history window.
    public static func parse(_ params: [String: JSONValue], width: Int) throws -> (ForestOptions, window: Int) {
        let known = Set(specs.map(\.name))
        for name in params.keys.sorted() where !known.contains(name) {
            throw RPCError.invalidParams(
                field: "params.\(name)", "unknown parameter; this plugin takes \(specs.map(\.name).joined(separator: ", "))")
        }
        var options = ForestOptions()
        options.trees = try integer(params, "n_trees", default: 300, in: 1...5000)
        options.maxDepth = try integer(params, "max_depth", default: 10, in: 0...1000)
        options.minSamplesLeaf = try integer(params, "min_samples_leaf", default: 20, in: 1...100_000)
        options.minSamplesSplit = try integer(params, "min_samples_split", default: 2, in: 2...100_000)
        options.bins = try integer(params, "bins", default: 256, in: 2...256)
        options.threads = try integer(params, "threads", default: 0, in: 0...256)
        let window = try integer(params, "history_window", default: 12, in: 1...72)
        switch params["class_weight"] ?? "none" {
        case .string("none"), .null: options.classWeight = "none"
        case .string("balanced"): options.classWeight = "balanced"
        case let other:
            throw RPCError.invalidParams(field: "params.class_weight", "must be \"none\" or \"balanced\", got \(other.brief)")
        }
        options.maxFeatures = try maxFeatures(params["max_features"] ?? "sqrt", width: width)
        switch params["bootstrap"] ?? true {
        case .bool(let flag): options.bootstrap = flag
        case let other: throw RPCError.invalidParams(field: "params.bootstrap", "must be true or false, got \(other.brief)")
        }
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

    private static func integer(_ params: [String: JSONValue], _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = params[name], raw != .null else { return value }
        guard case .number(let number) = raw, number.rounded() == number else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be a whole number, got \(raw.brief)")
        }
        guard range.contains(Int(number)) else {
            throw RPCError.invalidParams(
                field: "params.\(name)", "must be between \(range.lowerBound) and \(range.upperBound), got \(Int(number))")
        }
        return Int(number)
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
