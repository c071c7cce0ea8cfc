import ChurnBoosting
import ChurnData
import Synchronization

/// How a boosted model reads customers, on top of the dataset's ``FeatureSchema``: one boosting
/// feature per input field, in ``FeatureSchema/inputFields`` order.
///
/// - A categorical field is one categorical feature whose codes are its values seen in training
///   (then one code for any other value): a field with 51 values is split natively, by sets of
///   values, not one-hot. A field with more than 254 values keeps its first 253 and puts the rest
///   under one code.
/// - A number (and each panel or derived-history aggregate) is one numeric feature cut into
///   quantile bins fitted on the training rows; a missing number is *missing* (code 255), sent
///   down each split the way training found best, never filled in.
///
/// So a SHAP value per feature is a SHAP value per field: nothing to sum back.
struct BoostingInputs: Codable, Sendable, Hashable {
    /// Per categorical field, its codes: the values seen in training, then `unknown`.
    var categories: [Int]
    /// Per numeric input (the schema's numbers, then its history aggregates).
    var binners: [NumericBinner]

    /// The features, categorical fields first.
    var features: [BoostingFeature] {
        categories.map { .categorical(categories: $0) } + binners.map { .numeric(bins: $0.binCount) }
    }

    /// The largest categorical code; values past it share it.
    static let lastCategory = 254

    /// Fits the numeric bins on the training rows `encoded` (encoded by `schema`), one input at
    /// a time on each of up to `threads` threads (each input's bins are the same whoever fits them).
    static func fit(_ schema: FeatureSchema, _ encoded: EncodedFeatures, maxBins: Int, threads: Int = 1) -> BoostingInputs {
        let numbers = NumericColumns(schema: schema)
        let binners = Mutex([NumericBinner?](repeating: nil, count: numbers.count))
        Parallel.forEach(numbers.count, threads: threads) { index in
            let binner = NumericBinner.fit((0..<encoded.rows).map { numbers.value(encoded, row: $0, input: index) }, maxBins: maxBins)
            binners.withLock { $0[index] = binner }
        }
        return BoostingInputs(
            categories: schema.categorical.map { min($0.seen.count + 1, lastCategory + 1) },
            binners: binners.withLock { $0.map { $0! } })
    }

    /// The rows of `encoded` as a column-major boosting matrix.
    func matrix(_ schema: FeatureSchema, _ encoded: EncodedFeatures, threads: Int = 1) -> BoostingMatrix {
        matrix(schema, encoded, numbers: NumericColumns(schema: schema), threads: threads)
    }

    /// The rows of `encoded` as a column-major boosting matrix, with the numeric inputs' places
    /// worked out once (a loaded model keeps them); numeric inputs are binned on up to `threads`
    /// threads when there are many rows.
    func matrix(_ schema: FeatureSchema, _ encoded: EncodedFeatures, numbers: NumericColumns, threads: Int = 1) -> BoostingMatrix {
        let rows = encoded.rows
        var codes = [UInt8](repeating: 0, count: rows * (categories.count + binners.count))
        codes.withUnsafeMutableBufferPointer { output in
            var offset = 0
            for (field, encoding) in schema.categorical.enumerated() {
                for row in 0..<rows {
                    let code = Int(encoded.active[row * encoded.fields + field]) - offset
                    output[field * rows + row] = UInt8(min(code, Self.lastCategory))
                }
                offset += encoding.seen.count + 1
            }
            // Each input's column is its own part of the output.
            nonisolated(unsafe) let output = output
            let first = categories.count
            let binners = binners
            Parallel.forEach(binners.count, threads: rows >= 1 << 16 ? threads : 1) { index in
                let base = (first + index) * rows
                for row in 0..<rows { output[base + row] = binners[index].bin(numbers.value(encoded, row: row, input: index)) }
            }
        }
        return BoostingMatrix(rows: rows, features: features, codes: codes)
    }
}

/// Where each numeric input's value sits in an encoded row: the schema's numbers (standardised,
/// a missing one filled and flagged by its indicator column), then the history aggregates.
struct NumericColumns: Sendable {
    /// Per input: its column among the encoded numbers, and its indicator column when it has one.
    let columns: [NumericColumn]

    struct NumericColumn: Sendable {
        var value: Int
        var indicator: Int?
    }

    init(schema: FeatureSchema) {
        var columns: [NumericColumn] = []
        var indicator = schema.numeric.count
        for (index, encoding) in schema.numeric.enumerated() {
            columns.append(NumericColumn(value: index, indicator: encoding.indicator ? indicator : nil))
            if encoding.indicator { indicator += 1 }
        }
        if schema.history != nil {
            for aggregate in 0..<FeatureSchema.historyNames.count { columns.append(NumericColumn(value: indicator + aggregate, indicator: nil)) }
        }
        self.columns = columns
    }

    var count: Int { columns.count }

    /// The input's value in `row`, NaN when it was missing.
    @inline(__always)
    func value(_ encoded: EncodedFeatures, row: Int, input: Int) -> Float {
        let base = row * encoded.numericCount
        let column = columns[input]
        if let indicator = column.indicator, encoded.numeric[base + indicator] != 0 { return .nan }
        return encoded.numeric[base + column.value]
    }
}
