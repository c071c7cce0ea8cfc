import Foundation

/// Additive attention pooling over masked hidden states: score_t = v · tanh(W h_t + b), weights
/// the softmax of the scores over real steps only (0 on padding), output Σ_t weight_t · h_t.
public final class AttentionPooling: @unchecked Sendable {
    public let hidden: Int
    public let units: Int
    public let weight: Parameter
    public let bias: Parameter
    public let vector: Parameter

    private var states = Matrix(rows: 0, columns: 0)
    private var projections = Matrix(rows: 0, columns: 0)
    private var batch = 0
    private var length = 0
    /// The last forward pass's weights, `weights[row * steps + step]`.
    public private(set) var weights: [Float] = []

    public init(_ name: String, hidden: Int, units: Int, random: inout ChurnRandom) {
        self.hidden = hidden
        self.units = units
        weight = .glorot("\(name).weight", rows: hidden, columns: units, random: &random)
        bias = .zeros("\(name).bias", rows: 1, columns: units)
        vector = .glorot("\(name).vector", rows: units, columns: 1, random: &random)
    }

    public var parameters: [Parameter] { [weight, bias, vector] }

    public func forward(_ sequence: SequenceStates, mask: [Float]) -> Matrix {
        batch = sequence.batch
        length = sequence.length
        states = sequence.values
        let batch = self.batch, length = self.length, hidden = self.hidden, units = self.units
        projections = Matrix(rows: batch * length, columns: units)
        projections.values.withUnsafeMutableBufferPointer { p in
            bias.value.values.withUnsafeBufferPointer { b in
                for row in 0..<(batch * length) { (p.baseAddress! + row * units).update(from: b.baseAddress!, count: units) }
            }
        }
        Kernels.multiply(states, weight.value, into: &projections, accumulate: true)
        Activation.tanh.apply(&projections)
        weights = [Float](repeating: 0, count: batch * length)
        var output = Matrix(rows: batch, columns: hidden)
        var scores = [Float](repeating: 0, count: length)
        projections.values.withUnsafeBufferPointer { p in
            states.values.withUnsafeBufferPointer { h in
                vector.value.values.withUnsafeBufferPointer { v in
                    weights.withUnsafeMutableBufferPointer { alpha in
                        output.values.withUnsafeMutableBufferPointer { context in
                            for row in 0..<batch {
                                var best = -Float.infinity
                                for step in 0..<length where mask[row * length + step] > 0 {
                                    let base = (step * batch + row) * units
                                    var score: Float = 0
                                    for unit in 0..<units { score += p[base + unit] * v[unit] }
                                    scores[step] = score
                                    best = max(best, score)
                                }
                                guard best > -.infinity else { continue }  // no real step: zero context
                                var total: Float = 0
                                for step in 0..<length where mask[row * length + step] > 0 {
                                    let value = Foundation.exp(scores[step] - best)
                                    alpha[row * length + step] = value
                                    total += value
                                }
                                for step in 0..<length where alpha[row * length + step] > 0 {
                                    let a = alpha[row * length + step] / total
                                    alpha[row * length + step] = a
                                    let base = (step * batch + row) * hidden
                                    for unit in 0..<hidden { context[row * hidden + unit] += a * h[base + unit] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Adds the parameter gradients; returns the gradient of every step's hidden state (stacked).
    public func backward(_ gradient: Matrix) -> Matrix {
        let batch = self.batch, length = self.length, hidden = self.hidden, units = self.units
        var stateGradients = Matrix(rows: batch * length, columns: hidden)
        var projectionGradients = Matrix(rows: batch * length, columns: units)
        var alphaGradients = [Float](repeating: 0, count: length)
        gradient.values.withUnsafeBufferPointer { g in
            states.values.withUnsafeBufferPointer { h in
                projections.values.withUnsafeBufferPointer { p in
                    vector.value.values.withUnsafeBufferPointer { v in
                        vector.gradient.values.withUnsafeMutableBufferPointer { dv in
                            weights.withUnsafeBufferPointer { alpha in
                                stateGradients.values.withUnsafeMutableBufferPointer { dh in
                                    projectionGradients.values.withUnsafeMutableBufferPointer { dp in
                                        for row in 0..<batch {
                                            // Softmax: dscore_t = alpha_t (dalpha_t − Σ_s alpha_s dalpha_s), dalpha_s = g · h_s.
                                            var weighted: Float = 0
                                            for step in 0..<length where alpha[row * length + step] > 0 {
                                                let base = (step * batch + row) * hidden
                                                var dot: Float = 0
                                                for unit in 0..<hidden { dot += g[row * hidden + unit] * h[base + unit] }
                                                alphaGradients[step] = dot
                                                weighted += alpha[row * length + step] * dot
                                            }
                                            for step in 0..<length where alpha[row * length + step] > 0 {
                                                let a = alpha[row * length + step]
                                                let stateBase = (step * batch + row) * hidden
                                                for unit in 0..<hidden { dh[stateBase + unit] = a * g[row * hidden + unit] }
                                                let scoreGradient = a * (alphaGradients[step] - weighted)
                                                let projectionBase = (step * batch + row) * units
                                                for unit in 0..<units {
                                                    let projection = p[projectionBase + unit]
                                                    dv[unit] += scoreGradient * projection
                                                    dp[projectionBase + unit] = scoreGradient * v[unit] * (1 - projection * projection)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Kernels.multiply(states, transposeA: true, projectionGradients, into: &weight.gradient, accumulate: true)
        projectionGradients.values.withUnsafeBufferPointer { dp in
            bias.gradient.values.withUnsafeMutableBufferPointer { db in
                for row in 0..<(batch * length) { for unit in 0..<units { db[unit] += dp[row * units + unit] } }
            }
        }
        Kernels.multiply(projectionGradients, weight.value, transposeB: true, into: &stateGradients, accumulate: true)
        return stateGradients
    }
}
