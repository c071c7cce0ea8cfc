/// A dense Float32 matrix, row-major: `values[row * columns + column]`.
public struct Matrix: Sendable, Hashable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows)x\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix of zeros.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: 0, count: rows * columns))
    }

    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Sets every value to zero, keeping the storage.
    public mutating func zero() {
        values.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// A trainable tensor: its value, its gradient, and Adam's moment estimates.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public var value: Matrix
    public var gradient: Matrix
    var firstMoment: [Float]
    var secondMoment: [Float]

    public init(name: String, value: Matrix) {
        self.name = name
        self.value = value
        self.gradient = Matrix(rows: value.rows, columns: value.columns)
        self.firstMoment = [Float](repeating: 0, count: value.values.count)
        self.secondMoment = [Float](repeating: 0, count: value.values.count)
    }

    /// Glorot (Xavier) uniform initialisation: U(−a, a), a = sqrt(6 / (fan in + fan out)).
    public static func glorot(_ name: String, rows: Int, columns: Int, fanIn: Int? = nil, fanOut: Int? = nil, random: inout ChurnRandom) -> Parameter {
        let limit = (6 / Double((fanIn ?? rows) + (fanOut ?? columns))).squareRoot()
        let values = (0..<(rows * columns)).map { _ in Float((random.unit() * 2 - 1) * limit) }
        return Parameter(name: name, value: Matrix(rows: rows, columns: columns, values: values))
    }

    /// A parameter of zeros (biases).
    public static func zeros(_ name: String, rows: Int, columns: Int) -> Parameter {
        Parameter(name: name, value: Matrix(rows: rows, columns: columns))
    }
}
