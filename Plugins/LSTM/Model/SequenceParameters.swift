import ChurnML
import ChurnProtocol

/// The hyperparameters the LSTM plugins accept, validated with messages naming the parameter.
public enum SequenceParameters {
    /// The parameters, their ranges, defaults and the part a tuner searches (see
    /// `docs/defaults.md`); `attention_units` only for the attention model.
    public static func specs(attention: Bool) -> [ParameterSpec] {
        let units: ParameterSearch = .choices([16, 32, 64])
        var specs = [
            ParameterSpec(
                name: "hidden", type: "integer", defaultValue: 32, help: "LSTM units (1-512)", minimum: 1, maximum: 512, scale: .log,
                search: units),
            ParameterSpec(
                name: "static_units", type: "integer", defaultValue: 32, help: "units of the dense layer over static features (1-512)",
                minimum: 1, maximum: 512, scale: .log, search: units),
            ParameterSpec(
                name: "head_units", type: "integer", defaultValue: 16, help: "units of the dense head (1-512)", minimum: 1, maximum: 512,
                scale: .log, search: .choices([8, 16, 32])),
            ParameterSpec(
                name: "dropout", type: "number", defaultValue: 0.2, help: "dropout before the output, in [0, 0.9]", minimum: 0, maximum: 0.9,
                search: .range(0, 0.4)),
            ParameterSpec(
                name: "learning_rate", type: "number", defaultValue: 0.001, help: "Adam's learning rate, in (0, 1]", minimum: 1e-7,
                maximum: 1, scale: .log, search: .range(0.0003, 0.01, scale: .log)),
            ParameterSpec(
                name: "epochs", type: "integer", defaultValue: 30, help: "passes over the training rows (1-1000)", minimum: 1,
                maximum: 1000, role: .budget),
            ParameterSpec(
                name: "batch_size", type: "integer", defaultValue: 64, help: "rows per update (1-4096)", minimum: 1, maximum: 4096,
                scale: .log, search: .choices([32, 64, 128])),
            ParameterSpec(
                name: "class_weight", type: "string", defaultValue: "none", help: "none or balanced", choices: ["none", "balanced"]),
            ParameterSpec(
                name: "clip_norm", type: "number", defaultValue: 0, help: "clip the global gradient norm to this (0: off)", minimum: 0),
            ParameterSpec(
                name: "patience", type: "integer", defaultValue: 5,
                help: "stop after this many epochs without a better validation ROC-AUC, keeping the best (0: off)", minimum: 0,
                maximum: 1000),
            ParameterSpec(
                name: "history_window", type: "integer", defaultValue: 12, help: "months of history per customer (1-72)", minimum: 1,
                maximum: 72, search: .choices([6, 12, 24]), role: .history),
        ]
        if attention {
            specs.insert(
                ParameterSpec(
                    name: "attention_units", type: "integer", defaultValue: 32, help: "units of the attention scorer (1-512)", minimum: 1,
                    maximum: 512, scale: .log, search: units),
                at: 3)
        }
        return specs
    }

    public static func parse(_ params: [String: JSONValue], attention: Bool) throws -> SequenceModelConfiguration {
        let values = try ParameterValues(params, specs: specs(attention: attention))
        var configuration = SequenceModelConfiguration()
        configuration.attention = attention
        configuration.hidden = try values.integer("hidden")
        configuration.staticUnits = try values.integer("static_units")
        configuration.headUnits = try values.integer("head_units")
        configuration.attentionUnits = attention ? try values.integer("attention_units") : 32
        configuration.epochs = try values.integer("epochs")
        configuration.batchSize = try values.integer("batch_size")
        configuration.patience = try values.integer("patience")
        configuration.window = try values.integer("history_window")
        configuration.dropout = Float(try values.number("dropout"))
        configuration.learningRate = Float(try values.number("learning_rate"))
        configuration.clipNorm = Float(try values.number("clip_norm"))
        configuration.classWeight = try values.string("class_weight")
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
}
