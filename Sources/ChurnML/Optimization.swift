import Foundation

/// Binary cross-entropy on logits, with optional class weights, averaged over the batch.
public enum BinaryCrossEntropy {
    /// The loss and its gradient with respect to each logit. `count` is the batch size the mean
    /// is over (default: these logits; more when they are one shard of a batch).
    public static func lossAndGradient(
        logits: [Float], labels: [Bool], weights: (stayed: Float, churned: Float) = (1, 1), count batchSize: Int? = nil
    ) -> (loss: Float, gradient: [Float]) {
        let count = Float(batchSize ?? logits.count)
        var loss: Float = 0
        var gradient = [Float](repeating: 0, count: logits.count)
        for index in logits.indices {
            let z = logits[index]
            let y: Float = labels[index] ? 1 : 0
            let weight = labels[index] ? weights.churned : weights.stayed
            // Stable: max(z, 0) − z·y + log(1 + e^−|z|).
            loss += weight * (max(z, 0) - z * y + log1p(exp(-abs(z))))
            gradient[index] = weight * (Activation.sigmoid(z) - y) / count
        }
        return (loss / count, gradient)
    }
}

/// Adam (Kingma & Ba) with Keras's defaults, and optional clipping of the global gradient norm.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    /// Rescale gradients whose global L2 norm exceeds this (0: never).
    public var clipNorm: Float = 0
    private var step = 0

    public init(learningRate: Float = 1e-3, clipNorm: Float = 0) {
        self.learningRate = learningRate
        self.clipNorm = clipNorm
    }

    /// Updates every parameter from its gradient, then zeroes the gradients.
    public mutating func update(_ parameters: [Parameter]) {
        step += 1
        var scale: Float = 1
        if clipNorm > 0 {
            var squared: Float = 0
            for parameter in parameters { for value in parameter.gradient.values { squared += value * value } }
            let norm = squared.squareRoot()
            if norm > clipNorm { scale = clipNorm / norm }
        }
        let correction = learningRate * (1 - pow(beta2, Float(step))).squareRoot() / (1 - pow(beta1, Float(step)))
        for parameter in parameters {
            let count = parameter.value.values.count
            parameter.value.values.withUnsafeMutableBufferPointer { value in
                parameter.gradient.values.withUnsafeMutableBufferPointer { gradient in
                    parameter.firstMoment.withUnsafeMutableBufferPointer { first in
                        parameter.secondMoment.withUnsafeMutableBufferPointer { second in
                            for index in 0..<count {
                                let g = gradient[index] * scale
                                first[index] = beta1 * first[index] + (1 - beta1) * g
                                second[index] = beta2 * second[index] + (1 - beta2) * g * g
                                value[index] -= correction * first[index] / (second[index].squareRoot() + epsilon)
                                gradient[index] = 0
                            }
                        }
                    }
                }
            }
        }
    }
}
