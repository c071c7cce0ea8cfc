import ChurnData
import Foundation
import Testing

@testable import ChurnML

/// A random matrix with values in (−scale, scale).
private func randomMatrix(_ rows: Int, _ columns: Int, _ random: inout ChurnRandom, scale: Double = 1) -> Matrix {
    Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Float((random.unit() * 2 - 1) * scale) })
}

/// Checks analytic gradients against central finite differences of a scalar loss:
/// `loss()` runs a forward pass and returns Σ output·coefficient; `analytic()` runs the backward
/// pass and leaves gradients in the parameters.
private func checkGradients(
    _ parameters: [Parameter], loss: () -> Double, analytic: () -> Void, samples: Int = 12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for parameter in parameters { parameter.gradient.zero() }
    analytic()
    var random = ChurnRandom(seed: 99)
    for parameter in parameters {
        let count = parameter.value.values.count
        for _ in 0..<min(samples, count) {
            let index = random.below(count)
            let original = parameter.value.values[index]
            let epsilon: Float = 2e-3
            parameter.value.values[index] = original + epsilon
            let plus = loss()
            parameter.value.values[index] = original - epsilon
            let minus = loss()
            parameter.value.values[index] = original
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let computed = Double(parameter.gradient.values[index])
            let tolerance = 2e-2 * max(1, abs(numeric), abs(computed))
            #expect(abs(numeric - computed) <= tolerance, "\(parameter.name)[\(index)]: analytic \(computed), numeric \(numeric)", sourceLocation: sourceLocation)
        }
    }
}

private func weightedSum(_ matrices: [Matrix], _ coefficients: [[Float]]) -> Double {
    var total = 0.0
    for (matrix, weights) in zip(matrices, coefficients) {
        for (value, weight) in zip(matrix.values, weights) { total += Double(value) * Double(weight) }
    }
    return total
}

@Suite("ChurnML: every backward pass against finite differences")
struct GradientTests {
    @Test func gemmMatchesTheNaiveProductInEveryLayout() {
        var random = ChurnRandom(seed: 1)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 33, 9), (64, 128, 36), (70, 19, 300)] {
            let a = randomMatrix(m, k, &random), b = randomMatrix(k, n, &random)
            var expected = Matrix(rows: m, columns: n)
            for i in 0..<m { for j in 0..<n { var sum: Float = 0; for p in 0..<k { sum += a[i, p] * b[p, j] }; expected[i, j] = sum } }
            let transposedA = Matrix(rows: k, columns: m, values: (0..<(k * m)).map { a[$0 % m, $0 / m] })
            let transposedB = Matrix(rows: n, columns: k, values: (0..<(n * k)).map { b[$0 % k, $0 / k] })
            for product in [
                GEMM.multiply(a, b), GEMM.multiply(transposedA, transposeA: true, b),
                GEMM.multiply(a, transposedB, transposeB: true), GEMM.multiply(transposedA, transposeA: true, transposedB, transposeB: true),
            ] {
                let worst = zip(product.values, expected.values).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-3 * Float(k), "\(m)x\(n)x\(k): \(worst)")
            }
        }
    }

    @Test func dense() {
        var random = ChurnRandom(seed: 2)
        let layer = Dense("dense", inputs: 5, outputs: 4, random: &random)
        let input = randomMatrix(6, 5, &random)
        let coefficients = [randomMatrix(6, 4, &random).values]
        checkGradients(layer.parameters, loss: { weightedSum([layer.forward(input)], coefficients) }) {
            _ = layer.forward(input)
            _ = layer.backward(Matrix(rows: 6, columns: 4, values: coefficients[0]))
        }
        // And the input gradient.
        _ = layer.forward(input)
        let inputGradient = layer.backward(Matrix(rows: 6, columns: 4, values: coefficients[0]))
        var perturbed = input
        perturbed.values[7] += 1e-2
        let plus = weightedSum([layer.forward(perturbed)], coefficients)
        perturbed.values[7] -= 2e-2
        let minus = weightedSum([layer.forward(perturbed)], coefficients)
        #expect(abs((plus - minus) / 2e-2 - Double(inputGradient.values[7])) < 1e-2)
    }

    @Test(arguments: [Activation.relu, .tanh, .sigmoid])
    func activations(_ activation: Activation) {
        var random = ChurnRandom(seed: 3)
        let input = randomMatrix(4, 5, &random, scale: 2)
        let coefficients = randomMatrix(4, 5, &random)
        var output = input
        activation.apply(&output)
        var gradient = coefficients
        activation.backward(&gradient, output: output)
        for index in [0, 3, 7, 11, 19] where abs(input.values[index]) > 0.05 {
            var plus = input, minus = input
            plus.values[index] += 1e-3
            minus.values[index] -= 1e-3
            activation.apply(&plus)
            activation.apply(&minus)
            let numeric = Double(plus.values[index] - minus.values[index]) / 2e-3 * Double(coefficients.values[index])
            #expect(abs(numeric - Double(gradient.values[index])) < 1e-2)
        }
    }

    @Test func lstmWithMaskedSteps() {
        var random = ChurnRandom(seed: 4)
        let layer = LSTM("lstm", inputs: 3, hidden: 5, random: &random)
        let steps = (0..<4).map { _ in randomMatrix(3, 3, &random) }
        // Row 0 is fully real; row 1 has padding first; row 2 has a gap in the middle.
        let mask: [Float] = [1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1]
        let sequence = SequenceInput(steps: steps, mask: mask)
        let coefficients = (0..<4).map { _ in randomMatrix(3, 5, &random).values }
        let stacked = [coefficients.flatMap { $0 }]
        checkGradients(layer.parameters, loss: { weightedSum([layer.forward(sequence).values], stacked) }) {
            _ = layer.forward(sequence)
            layer.backward(Matrix(rows: 12, columns: 5, values: stacked[0]))
        }
    }

    @Test func attentionPooling() {
        var random = ChurnRandom(seed: 5)
        let layer = AttentionPooling("attention", hidden: 4, units: 3, random: &random)
        let states = SequenceStates(steps: (0..<5).map { _ in randomMatrix(3, 4, &random) })
        let mask: [Float] = [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0]
        let coefficients = [randomMatrix(3, 4, &random).values]
        checkGradients(layer.parameters, loss: { weightedSum([layer.forward(states, mask: mask)], coefficients) }) {
            _ = layer.forward(states, mask: mask)
            _ = layer.backward(Matrix(rows: 3, columns: 4, values: coefficients[0]))
        }
    }

    @Test(arguments: [false, true])
    func theWholeModelThroughTheLoss(attention: Bool) {
        var configuration = SequenceModelConfiguration()
        configuration.attention = attention
        configuration.hidden = 6
        configuration.staticUnits = 5
        configuration.headUnits = 4
        configuration.attentionUnits = 3
        let model = SequenceModel(configuration: configuration, staticFeatures: 7, stepFeatures: 4, seed: 6)
        var random = ChurnRandom(seed: 7)
        let staticInput = randomMatrix(5, 7, &random)
        let steps = (0..<3).map { _ in randomMatrix(5, 4, &random) }
        let sequence = SequenceInput(steps: steps, mask: [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0])
        let labels = [true, false, true, false, false]
        let loss = { () -> Double in
            var unused = ChurnRandom(seed: 0)
            let logits = model.forward(static: staticInput, sequence: sequence, training: false, random: &unused)
            return Double(BinaryCrossEntropy.lossAndGradient(logits: logits.values, labels: labels, weights: (1, 2)).loss)
        }
        checkGradients(model.parameters, loss: loss) {
            var unused = ChurnRandom(seed: 0)
            let logits = model.forward(static: staticInput, sequence: sequence, training: false, random: &unused)
            let gradient = BinaryCrossEntropy.lossAndGradient(logits: logits.values, labels: labels, weights: (1, 2)).gradient
            model.backward(Matrix(rows: 5, columns: 1, values: gradient))
        }
    }
}

@Suite("ChurnML: behaviour")
struct BehaviourTests {
    private func toyModel(attention: Bool) -> (SequenceModel, SequenceDataset, [Bool]) {
        var configuration = SequenceModelConfiguration()
        configuration.attention = attention
        configuration.epochs = 300
        configuration.batchSize = 32
        configuration.learningRate = 1e-2
        let model = SequenceModel(configuration: configuration, staticFeatures: 6, stepFeatures: 4, seed: 11)
        var random = ChurnRandom(seed: 12)
        var sequences = SequenceBatch(count: 32, steps: 5, features: 4, featureNames: ["a", "b", "c", "d"])
        for index in sequences.values.indices { sequences.values[index] = Float(random.unit() * 2 - 1) }
        for index in sequences.mask.indices { sequences.mask[index] = 1 }
        let staticFeatures = randomStatic(32, 6, &random)
        let labels = (0..<32).map { $0 % 3 == 0 || $0 % 5 == 1 }
        return (model, SequenceDataset(staticFeatures: staticFeatures, sequences: sequences), labels)
    }

    private func randomStatic(_ rows: Int, _ columns: Int, _ random: inout ChurnRandom) -> Matrix {
        Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Float(random.unit() * 2 - 1) })
    }

    @Test(arguments: [false, true])
    func overfitsA32RowToySet(attention: Bool) {
        let (model, data, labels) = toyModel(attention: attention)
        let (history, _) = SequenceTrainer.fit(model, train: data, labels: labels, validation: nil, seed: 1)
        #expect(history.last!.trainLoss < 0.05, "final loss \(history.last!.trainLoss)")
    }

    @Test(arguments: [false, true])
    func paddingMonthsChangeNothing(attention: Bool) {
        var configuration = SequenceModelConfiguration()
        configuration.attention = attention
        let model = SequenceModel(configuration: configuration, staticFeatures: 3, stepFeatures: 2, seed: 3)
        var random = ChurnRandom(seed: 4)
        let staticInput = randomStatic(2, 3, &random)
        let real = (0..<3).map { _ in randomStatic(2, 2, &random) }
        let short = SequenceInput(steps: real, mask: [1, 1, 1, 1, 1, 1])
        // The same months behind two padding months full of noise.
        let noise = (0..<2).map { _ in randomStatic(2, 2, &random) }
        let padded = SequenceInput(steps: noise + real, mask: [0, 0, 1, 1, 1, 0, 0, 1, 1, 1])
        #expect(model.probabilities(static: staticInput, sequence: short) == model.probabilities(static: staticInput, sequence: padded))
    }

    @Test func attentionWeightsSumToOneOverRealMonthsAndAreZeroOnPadding() {
        var configuration = SequenceModelConfiguration()
        configuration.attention = true
        let model = SequenceModel(configuration: configuration, staticFeatures: 3, stepFeatures: 2, seed: 5)
        var random = ChurnRandom(seed: 6)
        let mask: [Float] = [0, 0, 1, 1, 1, /**/ 1, 1, 1, 1, 1, /**/ 0, 0, 0, 0, 0]
        let sequence = SequenceInput(steps: (0..<5).map { _ in randomStatic(3, 2, &random) }, mask: mask)
        _ = model.probabilities(static: randomStatic(3, 3, &random), sequence: sequence)
        let weights = model.lastAttentionWeights!
        for row in 0..<3 {
            let rowWeights = weights[(row * 5)..<(row * 5 + 5)]
            let real = zip(rowWeights, mask[(row * 5)..<(row * 5 + 5)])
            #expect(real.allSatisfy { $1 > 0 || $0 == 0 }, "zero on padding")
            let sum = rowWeights.reduce(0, +)
            #expect(row == 2 ? sum == 0 : abs(sum - 1) < 1e-5, "row \(row) sums to \(sum)")
        }
    }

    @Test func theSameSeedTrainsTheSameModel() {
        let (first, data, labels) = toyModel(attention: true)
        let (second, _, _) = toyModel(attention: true)
        var configurationFirst = first.configuration
        configurationFirst.epochs = 3
        _ = SequenceTrainer.fit(first, train: data, labels: labels, validation: nil, seed: 9)
        _ = SequenceTrainer.fit(second, train: data, labels: labels, validation: nil, seed: 9)
        #expect(first.weightValues() == second.weightValues())
    }
}
