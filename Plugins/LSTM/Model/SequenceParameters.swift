import ChurnML
import ChurnProtocol

/// The hyperparameters the LSTM plugins accept, validated with messages naming the parameter.
public enum SequenceParameters {
    public static func specs(attention: Bool) -> [ParameterSpec] {
        var specs = [
            ParameterSpec(name: "hidden", type: "integer", defaultValue: 32, help: "LSTM units (1-512)"),
            ParameterSpec(name: "static_units", type: "integer", defaultValue: 32, help: "units of the dense layer over static features (1-512)"),
            ParameterSpec(name: "head_units", type: "integer", defaultValue: 16, help: "units of the dense head (1-512)"),
            ParameterSpec(name: "dropout", type: "number", defaultValue: 0, help: "dropout before the output, in [0, 0.9]"),
            ParameterSpec(name: "learning_rate", type: "number", defaultValue: 0.001, help: "Adam's learning rate, in (0, 1]"),
            ParameterSpec(name: "epochs", type: "integer", defaultValue: 30, help: "passes over the training rows (1-1000)"),
            ParameterSpec(name: "batch_size", type: "integer", defaultValue: 64, help: "rows per update (1-4096)"),
            ParameterSpec(name: "class_weight", type: "string", defaultValue: "none", help: "none or balanced"),
            ParameterSpec(name: "clip_norm", type: "number", defaultValue: 0, help: "clip the global gradient norm to this (0: off)"),
            ParameterSpec(name: "patience", type: "integer", defaultValue: 5, help: "stop after this many epochs without a better validation ROC-AUC, keeping the best (0: off)"),
            ParameterSpec(name: "history_window", type: "integer", defaultValue: 12, help: "months of history per customer (1-72)"),
        ]
        if attention {
            specs.insert(ParameterSpec(name: "attention_units", type: "integer", defaultValue: 32, help: "units of the attention scorer (1-512)"), at: 3)
        }
        return specs
    }

    public static func parse(_ params: [String: JSONValue], attention: Bool) throws -> SequenceModelConfiguration {
        let known = Set(specs(attention: attention).map(\.name))
        for name in params.keys.sorted() where !known.contains(name) {
            throw RPCError.invalidParams(
                field: "params.\(name)", "unknown parameter; this plugin takes \(specs(attention: attention).map(\.name).joined(separator: ", "))")
        }
        var configuration = SequenceModelConfiguration()
        configuration.attention = attention
        configuration.hidden = try integer(params, "hidden", 32, 1...512)
        configuration.staticUnits = try integer(params, "static_units", 32, 1...512)
        configuration.headUnits = try integer(params, "head_units", 16, 1...512)
        configuration.attentionUnits = try integer(params, "attention_units", 32, 1...512)
        configuration.epochs = try integer(params, "epochs", 30, 1...1000)
        configuration.batchSize = try integer(params, "batch_size", 64, 1...4096)
        configuration.patience = try integer(params, "patience", 5, 0...1000)
        configuration.window = try integer(params, "history_window", 12, 1...72)
        configuration.dropout = Float(try number(params, "dropout", 0, { $0 >= 0 && $0 <= 0.9 }, "in [0, 0.9]"))
        configuration.learningRate = Float(try number(params, "learning_rate", 0.001, { $0 > 0 && $0 <= 1 }, "in (0, 1]"))
        configuration.clipNorm = Float(try number(params, "clip_norm", 0, { $0 >= 0 }, "0 or more"))
        switch params["class_weight"] ?? "none" {
        case .string("none"), .null: configuration.classWeight = "none"
        case .string("balanced"): configuration.classWeight = "balanced"
        case let other:
            throw RPCError.invalidParams(field: "params.class_weight", "must be \"none\" or \"balanced\", got \(other.brief)")
        }
        return configuration
    }

    /// The hyperparameters a configuration was trained with, under the names ``parse`` accepts,
    /// so a version's recorded params train it again (`models.train` with the same params).
    public static func applied(_ configuration: SequenceModelConfiguration) -> [String: JSONValue] {
        var params: [String: JSONValue] = [
            "hidden": .number(Double(configuration.hidden)), "static_units": .number(Double(configuration.staticUnits)),
            "head_units": .number(Double(configuration.headUnits)), "dropout": .number(Double(configuration.dropout)),
            "learning_rate": .number(Double(configuration.learningRate)), "epochs": .number(Double(configuration.epochs)),
            "batch_size": .number(Double(configuration.batchSize)), "class_weight": .string(configuration.classWeight),
            "clip_norm": .number(Double(configuration.clipNorm)), "patience": .number(Double(configuration.patience)),
            "history_window": .number(Double(configuration.window)),
        ]
        if configuration.attention { params["attention_units"] = .number(Double(configuration.attentionUnits)) }
        return params
    }

    private static func integer(_ params: [String: JSONValue], _ name: String, _ value: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let raw = params[name], raw != .null else { return value }
        guard case .number(let number) = raw, number.rounded() == number else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be a whole number, got \(raw.brief)")
        }
        guard range.contains(Int(number)) else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be between \(range.lowerBound) and \(range.upperBound), got \(Int(number))")
        }
        return Int(number)
    }

    private static func number(
        _ params: [String: JSONValue], _ name: String, _ value: Double, _ valid: (Double) -> Bool, _ rule: String
    ) throws -> Double {
        guard let raw = params[name], raw != .null else { return value }
        guard case .number(let number) = raw, number.isFinite else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be a number, got \(raw.brief)")
        }
        guard valid(number) else { throw RPCError.invalidParams(field: "params.\(name)", "must be \(rule), got \(number)") }
        return number
    }
}
