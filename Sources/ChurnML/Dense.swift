/// A fully connected layer: `Y = X · W + b`, with W of shape inputs × outputs.
public final class Dense: @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter
    private var input = Matrix(rows: 0, columns: 0)

    public init(_ name: String, inputs: Int, outputs: Int, random: inout ChurnRandom) {
        weight = .glorot("\(name).weight", rows: inputs, columns: outputs, random: &random)
        bias = .zeros("\(name).bias", rows: 1, columns: outputs)
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// `x` (batch × inputs) → batch × outputs; remembers `x` for ``backward(_:)``.
    public func forward(_ x: Matrix) -> Matrix {
        input = x
        var output = Matrix(rows: x.rows, columns: weight.value.columns)
        for row in 0..<x.rows {
            for column in 0..<output.columns { output.values[row * output.columns + column] = bias.value.values[column] }
        }
        Kernels.multiply(x, weight.value, into: &output, accumulate: true)
        return output
    }

    /// Adds dW and db from `gradient` (batch × outputs); returns the gradient of the input.
    public func backward(_ gradient: Matrix) -> Matrix {
        Kernels.multiply(input, transposeA: true, gradient, into: &weight.gradient, accumulate: true)
        for row in 0..<gradient.rows {
            for column in 0..<gradient.columns { bias.gradient.values[column] += gradient.values[row * gradient.columns + column] }
        }
        var inputGradient = Matrix(rows: gradient.rows, columns: weight.value.rows)
        Kernels.multiply(gradient, weight.value, transposeB: true, into: &inputGradient, accumulate: false)
        return inputGradient
    }
}

/// Matrix-level helpers over ``GEMM``.
enum Kernels {
    /// `C (+)= op(A) · op(B)`.
    static func multiply(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false, into c: inout Matrix, accumulate: Bool
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        precondition(k == (transposeB ? b.columns : b.rows) && c.rows == m && c.columns == n, "shapes do not fit")
        a.values.withUnsafeBufferPointer { a in
            b.values.withUnsafeBufferPointer { bBuffer in
                c.values.withUnsafeMutableBufferPointer { cBuffer in
                    GEMM.multiply(
                        m: m, n: n, k: k, a: a.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA,
                        b: bBuffer.baseAddress!, ldb: transposeB ? k : n, transposeB: transposeB, c: cBuffer.baseAddress!,
                        ldc: n, accumulate: accumulate)
                }
            }
        }
    }
}

/// Elementwise activations, forward and backward.
public enum Activation: String, Codable, Sendable {
    case relu, tanh, sigmoid, linear

    /// Applies the activation in place.
    public func apply(_ matrix: inout Matrix) {
        switch self {
        case .relu: for index in matrix.values.indices where matrix.values[index] < 0 { matrix.values[index] = 0 }
        case .tanh: for index in matrix.values.indices { matrix.values[index] = Activation.tanh(matrix.values[index]) }
        case .sigmoid: for index in matrix.values.indices { matrix.values[index] = Activation.sigmoid(matrix.values[index]) }
        case .linear: break
        }
    }

    /// Multiplies `gradient` by the derivative, given the activation's output.
    public func backward(_ gradient: inout Matrix, output: Matrix) {
        switch self {
        case .relu: for index in gradient.values.indices where output.values[index] <= 0 { gradient.values[index] = 0 }
        case .tanh:
            for index in gradient.values.indices { gradient.values[index] *= 1 - output.values[index] * output.values[index] }
        case .sigmoid:
            for index in gradient.values.indices { gradient.values[index] *= output.values[index] * (1 - output.values[index]) }
        case .linear: break
        }
    }

    @inline(__always) public static func sigmoid(_ x: Float) -> Float {
        let e = Foundation.exp(-Swift.abs(x))
        return x >= 0 ? 1 / (1 + e) : e / (1 + e)
    }

    /// tanh through one `expf` (glibc's `tanhf` goes through the much slower `expm1f`); exact
    /// to a few ulp, and ±1 beyond |x| = 9 where Float cannot tell the difference.
    @inline(__always) public static func tanh(_ x: Float) -> Float {
        let magnitude = Swift.abs(x)
        if magnitude > 9 { return x > 0 ? 1 : -1 }
        if magnitude < 0.004 { return x - x * x * x / 3 }
        let e = Foundation.exp(2 * magnitude)
        let result = (e - 1) / (e + 1)
        return x < 0 ? -result : result
    }
}

/// Inverted dropout: during training each value is zeroed with probability `rate` and the
/// rest scaled by 1 / (1 − rate); at inference it does nothing.
public final class Dropout: @unchecked Sendable {
    public let rate: Float
    private var mask: [Float] = []

    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1)
        self.rate = rate
    }

    public func forward(_ x: Matrix, training: Bool, random: inout ChurnRandom) -> Matrix {
        guard training, rate > 0 else {
            mask = []
            return x
        }
        var output = x
        let keep = 1 / (1 - rate)
        mask = (0..<x.values.count).map { _ in Float(random.unit()) < rate ? 0 : keep }
        for index in output.values.indices { output.values[index] *= mask[index] }
        return output
    }

    public func backward(_ gradient: Matrix) -> Matrix {
        guard !mask.isEmpty else { return gradient }
        var output = gradient
        for index in output.values.indices { output.values[index] *= mask[index] }
        return output
    }
}

import Foundation
