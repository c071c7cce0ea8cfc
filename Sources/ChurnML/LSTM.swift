import Foundation

/// A batch of sequences for the recurrent layers, stacked by step: `inputs` has `steps × batch`
/// rows, step `t`'s rows at `t·batch ..< (t+1)·batch`; `mask[row * steps + step]` is 1 for a real
/// step and 0 for padding.
public struct SequenceInput: Sendable {
    public var inputs: Matrix
    public var mask: [Float]
    public let batch: Int
    public let length: Int

    public init(inputs: Matrix, mask: [Float], batch: Int, length: Int) {
        precondition(inputs.rows == batch * length && mask.count == batch * length)
        self.inputs = inputs
        self.mask = mask
        self.batch = batch
        self.length = length
    }

    /// Stacks one matrix per step (each batch × features).
    public init(steps: [Matrix], mask: [Float]) {
        let batch = steps.first?.rows ?? 0
        let features = steps.first?.columns ?? 0
        self.init(
            inputs: Matrix(rows: batch * steps.count, columns: features, values: steps.flatMap(\.values)), mask: mask,
            batch: batch, length: steps.count)
    }

    @inline(__always) public func isReal(_ row: Int, _ step: Int) -> Bool { mask[row * length + step] > 0 }
}

/// Hidden states of every step, stacked like ``SequenceInput``: step `t`'s rows at `t·batch ..< (t+1)·batch`.
public struct SequenceStates: Sendable {
    public var values: Matrix
    public let batch: Int
    public let length: Int

    public init(values: Matrix, batch: Int, length: Int) {
        precondition(values.rows == batch * length)
        self.values = values
        self.batch = batch
        self.length = length
    }

    /// Stacks one matrix per step (each batch × hidden).
    public init(steps: [Matrix]) {
        let batch = steps.first?.rows ?? 0
        self.init(
            values: Matrix(rows: batch * steps.count, columns: steps.first?.columns ?? 0, values: steps.flatMap(\.values)),
            batch: batch, length: steps.count)
    }

    /// Step `t` as its own matrix.
    public func step(_ t: Int) -> Matrix {
        let width = values.columns
        return Matrix(rows: batch, columns: width, values: Array(values.values[(t * batch * width)..<((t + 1) * batch * width)]))
    }
}

/// A long short-term memory layer (gates in Keras order: input, forget, cell, output) over
/// masked sequences: at a padding step a row keeps its previous state, so padding changes
/// nothing and gradients flow straight through it.
///
/// The input projections of all steps are one matrix product, and so are the weight gradients;
/// only the recurrent product runs step by step.
public final class LSTM: @unchecked Sendable {
    public let inputs: Int
    public let hidden: Int
    public let kernel: Parameter
    public let recurrent: Parameter
    public let bias: Parameter

    // Cached by forward for backward, all stacked by step.
    private var input = Matrix(rows: 0, columns: 0)
    private var gates = Matrix(rows: 0, columns: 0)
    private var states = Matrix(rows: 0, columns: 0)
    private var cells = Matrix(rows: 0, columns: 0)
    private var cellTanh = Matrix(rows: 0, columns: 0)
    private var mask: [Float] = []
    private var batch = 0
    private var length = 0

    public init(_ name: String, inputs: Int, hidden: Int, random: inout ChurnRandom) {
        self.inputs = inputs
        self.hidden = hidden
        kernel = .glorot("\(name).kernel", rows: inputs, columns: 4 * hidden, random: &random)
        recurrent = .glorot("\(name).recurrent", rows: hidden, columns: 4 * hidden, random: &random)
        bias = .zeros("\(name).bias", rows: 1, columns: 4 * hidden)
        // Forget-gate bias starts at 1, as Keras does, so early gradients flow through time.
        for unit in hidden..<(2 * hidden) { bias.value.values[unit] = 1 }
    }

    public var parameters: [Parameter] { [kernel, recurrent, bias] }

    /// The hidden state after every step.
    public func forward(_ sequence: SequenceInput) -> SequenceStates {
        batch = sequence.batch
        length = sequence.length
        mask = sequence.mask
        input = sequence.inputs
        let hidden = self.hidden, width = 4 * hidden, batch = self.batch, length = self.length
        gates = Matrix(rows: batch * length, columns: width)
        states = Matrix(rows: batch * length, columns: hidden)
        cells = Matrix(rows: batch * length, columns: hidden)
        cellTanh = Matrix(rows: batch * length, columns: hidden)
        gates.values.withUnsafeMutableBufferPointer { g in
            bias.value.values.withUnsafeBufferPointer { b in
                for row in 0..<(batch * length) { (g.baseAddress! + row * width).update(from: b.baseAddress!, count: width) }
            }
        }
        Kernels.multiply(input, kernel.value, into: &gates, accumulate: true)
        let mask = self.mask
        recurrent.value.values.withUnsafeBufferPointer { recurrentWeights in
            gates.values.withUnsafeMutableBufferPointer { g in
                states.values.withUnsafeMutableBufferPointer { h in
                    cells.values.withUnsafeMutableBufferPointer { c in
                        cellTanh.values.withUnsafeMutableBufferPointer { squashedBuffer in
                            for step in 0..<length {
                                let rows = step * batch
                                if step > 0 {
                                    GEMM.multiply(
                                        m: batch, n: width, k: hidden, a: h.baseAddress! + (rows - batch) * hidden, lda: hidden,
                                        transposeA: false, b: recurrentWeights.baseAddress!, ldb: width, transposeB: false,
                                        c: g.baseAddress! + rows * width, ldc: width, accumulate: true)
                                }
                                for row in 0..<batch {
                                    let index = (rows + row) * hidden
                                    let previous = index - batch * hidden
                                    guard mask[row * length + step] > 0 else {
                                        if step > 0 {
                                            for unit in 0..<hidden {
                                                h[index + unit] = h[previous + unit]
                                                c[index + unit] = c[previous + unit]
                                            }
                                        }
                                        continue
                                    }
                                    let base = (rows + row) * width
                                    for unit in 0..<hidden {
                                        let i = Activation.sigmoid(g[base + unit])
                                        let f = Activation.sigmoid(g[base + hidden + unit])
                                        let candidate = Activation.tanh(g[base + 2 * hidden + unit])
                                        let o = Activation.sigmoid(g[base + 3 * hidden + unit])
                                        g[base + unit] = i
                                        g[base + hidden + unit] = f
                                        g[base + 2 * hidden + unit] = candidate
                                        g[base + 3 * hidden + unit] = o
                                        let state = f * (step > 0 ? c[previous + unit] : 0) + i * candidate
                                        let squashed = Activation.tanh(state)
                                        c[index + unit] = state
                                        squashedBuffer[index + unit] = squashed
                                        h[index + unit] = o * squashed
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return SequenceStates(values: states, batch: batch, length: length)
    }

    /// Adds the weight gradients from the gradients of every step's hidden state (stacked like
    /// the states).
    public func backward(_ stateGradients: Matrix) {
        let hidden = self.hidden, width = 4 * hidden, batch = self.batch, length = self.length
        guard length > 0 else { return }
        var gateGradients = Matrix(rows: batch * length, columns: width)
        var hiddenCarry = [Float](repeating: 0, count: batch * hidden)
        var cellCarry = [Float](repeating: 0, count: batch * hidden)
        var recurrentGradient = [Float](repeating: 0, count: batch * hidden)
        let mask = self.mask
        recurrent.value.values.withUnsafeBufferPointer { recurrentWeights in
            gateGradients.values.withUnsafeMutableBufferPointer { dz in
                gates.values.withUnsafeBufferPointer { g in
                    cells.values.withUnsafeBufferPointer { c in
                        cellTanh.values.withUnsafeBufferPointer { squashedBuffer in
                            stateGradients.values.withUnsafeBufferPointer { external in
                                hiddenCarry.withUnsafeMutableBufferPointer { dhCarry in
                                    cellCarry.withUnsafeMutableBufferPointer { dcCarry in
                                        recurrentGradient.withUnsafeMutableBufferPointer { dhRecurrent in
                                            for step in stride(from: length - 1, through: 0, by: -1) {
                                                let rows = step * batch
                                                for row in 0..<batch {
                                                    let carry = row * hidden
                                                    let index = (rows + row) * hidden
                                                    if mask[row * length + step] == 0 {
                                                        // Padding: the state passed through, and so does its gradient.
                                                        for unit in 0..<hidden { dhCarry[carry + unit] += external[index + unit] }
                                                        continue
                                                    }
                                                    let base = (rows + row) * width
                                                    for unit in 0..<hidden {
                                                        let i = g[base + unit], f = g[base + hidden + unit]
                                                        let candidate = g[base + 2 * hidden + unit], o = g[base + 3 * hidden + unit]
                                                        let squashed = squashedBuffer[index + unit]
                                                        let dh = dhCarry[carry + unit] + external[index + unit]
                                                        let dc = dcCarry[carry + unit] + dh * o * (1 - squashed * squashed)
                                                        let previousCell = step > 0 ? c[index - batch * hidden + unit] : 0
                                                        dz[base + unit] = dc * candidate * i * (1 - i)
                                                        dz[base + hidden + unit] = dc * previousCell * f * (1 - f)
                                                        dz[base + 2 * hidden + unit] = dc * i * (1 - candidate * candidate)
                                                        dz[base + 3 * hidden + unit] = dh * squashed * o * (1 - o)
                                                        dcCarry[carry + unit] = dc * f
                                                        dhCarry[carry + unit] = 0
                                                    }
                                                }
                                                guard step > 0 else { break }
                                                // dh_{t-1} += dz_t · Wᵀ for the rows that were real at t.
                                                GEMM.multiply(
                                                    m: batch, n: hidden, k: width, a: dz.baseAddress! + rows * width, lda: width,
                                                    transposeA: false, b: recurrentWeights.baseAddress!, ldb: width, transposeB: true,
                                                    c: dhRecurrent.baseAddress!, ldc: hidden, accumulate: false)
                                                for index in 0..<(batch * hidden) { dhCarry[index] += dhRecurrent[index] }
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
        // Weight gradients in three products over all steps at once.
        Kernels.multiply(input, transposeA: true, gateGradients, into: &kernel.gradient, accumulate: true)
        if length > 1 {
            states.values.withUnsafeBufferPointer { h in
                gateGradients.values.withUnsafeBufferPointer { dz in
                    recurrent.gradient.values.withUnsafeMutableBufferPointer { dW in
                        // Σ_t h_{t-1}ᵀ dz_t: the states of steps 0..<T-1 against the gate gradients of 1..<T.
                        GEMM.multiply(
                            m: hidden, n: width, k: (length - 1) * batch, a: h.baseAddress!, lda: hidden, transposeA: true,
                            b: dz.baseAddress! + batch * width, ldb: width, transposeB: false, c: dW.baseAddress!, ldc: width,
                            accumulate: true)
                    }
                }
            }
        }
        gateGradients.values.withUnsafeBufferPointer { dz in
            bias.gradient.values.withUnsafeMutableBufferPointer { db in
                for row in 0..<(batch * length) { for unit in 0..<width { db[unit] += dz[row * width + unit] } }
            }
        }
    }
}
