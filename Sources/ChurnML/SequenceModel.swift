import Foundation

/// Hyperparameters of the sequence models.
public struct SequenceModelConfiguration: Codable, Sendable, Hashable {
    /// Pool the LSTM states with additive attention instead of taking the last state.
    public var attention = false
    public var hidden = 32
    public var staticUnits = 32
    public var headUnits = 16
    public var attentionUnits = 32
    /// 0 here (no dropout unless asked); the plugins default to 0.2 (`SequenceParameters`).
    public var dropout: Float = 0
    public var learningRate: Float = 1e-3
    public var epochs = 30
    public var batchSize = 64
    /// `none` or `balanced`.
    public var classWeight = "none"
    /// Clip the global gradient norm (0: never).
    public var clipNorm: Float = 0
    /// Stop after this many epochs without a better validation ROC-AUC, keeping the best (0: never).
    public var patience = 0
    /// Months of history per customer.
    public var window = 12

    public init() {}

    enum CodingKeys: String, CodingKey {
        case attention, hidden, dropout, epochs, patience, window
        case staticUnits = "static_units", headUnits = "head_units", attentionUnits = "attention_units"
        case learningRate = "learning_rate", batchSize = "batch_size", classWeight = "class_weight", clipNorm = "clip_norm"
    }
}

/// The churn sequence model: an LSTM over the monthly history (its last state, or its states
/// pooled by attention) beside a dense layer over the static features, concatenated, a dense
/// head, and one output logit. With no history (`stepFeatures` 0: data with neither a monthly
/// panel nor fields to derive one from) the network is the static branch and the head alone.
public final class SequenceModel: @unchecked Sendable {
    public let configuration: SequenceModelConfiguration
    public let staticFeatures: Int
    public let stepFeatures: Int
    let lstm: LSTM?
    let pooling: AttentionPooling?
    let staticLayer: Dense
    let headLayer: Dense
    let outputLayer: Dense
    let dropout: Dropout
    private var staticOutput = Matrix(rows: 0, columns: 0)
    private var headOutput = Matrix(rows: 0, columns: 0)
    private var states: SequenceStates?
    private var mask: [Float] = []

    public init(configuration: SequenceModelConfiguration, staticFeatures: Int, stepFeatures: Int, seed: UInt64) {
        self.configuration = configuration
        self.staticFeatures = staticFeatures
        self.stepFeatures = stepFeatures
        var random = ChurnRandom(seed: seed)
        let hasHistory = stepFeatures > 0
        lstm = hasHistory ? LSTM("lstm", inputs: stepFeatures, hidden: configuration.hidden, random: &random) : nil
        pooling = hasHistory && configuration.attention
            ? AttentionPooling("attention", hidden: configuration.hidden, units: configuration.attentionUnits, random: &random) : nil
        staticLayer = Dense("static", inputs: staticFeatures, outputs: configuration.staticUnits, random: &random)
        headLayer = Dense(
            "head", inputs: (hasHistory ? configuration.hidden : 0) + configuration.staticUnits, outputs: configuration.headUnits,
            random: &random)
        outputLayer = Dense("output", inputs: configuration.headUnits, outputs: 1, random: &random)
        dropout = Dropout(rate: configuration.dropout)
    }

    /// Every trainable parameter, in a fixed order.
    public var parameters: [Parameter] {
        (lstm?.parameters ?? []) + (pooling?.parameters ?? []) + staticLayer.parameters + headLayer.parameters + outputLayer.parameters
    }

    /// Whether the model reads a monthly history.
    public var hasHistory: Bool { lstm != nil }

    /// Width of the history summary in the head's input (0 without history).
    private var hidden: Int { hasHistory ? configuration.hidden : 0 }

    /// Logits (batch × 1).
    public func forward(static staticInput: Matrix, sequence: SequenceInput, training: Bool, random: inout ChurnRandom) -> Matrix {
        let batch = staticInput.rows
        var summary = Matrix(rows: batch, columns: 0)
        if let lstm {
            let states = lstm.forward(sequence)
            self.states = states
            mask = sequence.mask
            summary = pooling?.forward(states, mask: sequence.mask) ?? states.step(states.length - 1)
        }
        staticOutput = staticLayer.forward(staticInput)
        Activation.relu.apply(&staticOutput)
        let hidden = self.hidden
        let width = hidden + configuration.staticUnits
        var joined = Matrix(rows: batch, columns: width)
        for row in 0..<batch {
            for unit in 0..<hidden { joined.values[row * width + unit] = summary.values[row * hidden + unit] }
            for unit in 0..<configuration.staticUnits {
                joined.values[row * width + hidden + unit] = staticOutput.values[row * configuration.staticUnits + unit]
            }
        }
        headOutput = headLayer.forward(joined)
        Activation.relu.apply(&headOutput)
        let dropped = dropout.forward(headOutput, training: training, random: &random)
        return outputLayer.forward(dropped)
    }

    /// Back-propagates the gradient of the logits, adding into every parameter's gradient.
    public func backward(_ logitGradient: Matrix) {
        var headGradient = dropout.backward(outputLayer.backward(logitGradient))
        Activation.relu.backward(&headGradient, output: headOutput)
        let joinedGradient = headLayer.backward(headGradient)
        let batch = logitGradient.rows
        let hidden = self.hidden
        let width = hidden + configuration.staticUnits
        var summaryGradient = Matrix(rows: batch, columns: hidden)
        var staticGradient = Matrix(rows: batch, columns: configuration.staticUnits)
        for row in 0..<batch {
            for unit in 0..<hidden { summaryGradient.values[row * hidden + unit] = joinedGradient.values[row * width + unit] }
            for unit in 0..<configuration.staticUnits {
                staticGradient.values[row * configuration.staticUnits + unit] = joinedGradient.values[row * width + hidden + unit]
            }
        }
        Activation.relu.backward(&staticGradient, output: staticOutput)
        _ = staticLayer.backward(staticGradient)
        guard let lstm else { return }
        let stateGradients: Matrix
        if let pooling {
            stateGradients = pooling.backward(summaryGradient)
        } else {
            // Only the last step's state feeds the head.
            let states = self.states!
            var gradients = Matrix(rows: states.values.rows, columns: hidden)
            let offset = (states.length - 1) * batch * hidden
            gradients.values.replaceSubrange(offset..<(offset + batch * hidden), with: summaryGradient.values)
            stateGradients = gradients
        }
        lstm.backward(stateGradients)
    }

    /// Churn probabilities, without dropout.
    public func probabilities(static staticInput: Matrix, sequence: SequenceInput) -> [Float] {
        var random = ChurnRandom(seed: 0)
        return forward(static: staticInput, sequence: sequence, training: false, random: &random).values.map(Activation.sigmoid)
    }

    /// The attention weights of the last forward pass (`[row * steps + step]`), if the model pools by attention.
    public var lastAttentionWeights: [Float]? { pooling?.weights }

    // MARK: Weights

    /// Every parameter's values, concatenated in ``parameters`` order.
    public func weightValues() -> [Float] {
        parameters.flatMap(\.value.values)
    }

    /// Sets every parameter from ``weightValues()`` output; false when the count differs.
    @discardableResult
    public func load(weights: [Float]) -> Bool {
        let parameters = self.parameters
        guard weights.count == parameters.reduce(0, { $0 + $1.value.values.count }) else { return false }
        var offset = 0
        for parameter in parameters {
            let count = parameter.value.values.count
            parameter.value.values = Array(weights[offset..<(offset + count)])
            offset += count
        }
        return true
    }
}
