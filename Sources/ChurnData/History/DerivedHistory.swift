/// The monthly history derived from a static row (GUIDE section 2), from inputs only: the
/// schema's tenure T, monthly charge M and total charges C (``DerivedHistoryFields``). A named
/// fallback for data without a monthly panel: every place it appears says "derived from tenure
/// and charges", never "observed months". With window L, A = C/T when T > 0 and C is
/// known, else M; the starting price p0 = max(2A − M, 0); step j = 0..L−1 is month
/// m = T − (L−1) + j, real when m ≥ 1, with charge(m) = p0 + (M − p0)(m − 1)/max(T − 1, 1).
/// Each real step carries [1, charge/100, m/72, (charge − M)/100]; padding steps are zeros.
///
/// It takes a ``CustomerTable``, which holds no label: the outcome cannot leak into a sequence.
public enum DerivedHistory {
    /// The default window, in months.
    public static let defaultWindow = 12
    /// Names of the per-step features.
    public static let featureNames = ["valid", "charge/100", "month/72", "(charge-current)/100"]

    /// What explanations and model cards call this history.
    public static let provenance = "derived from tenure and charges"

    /// Sequences for every customer of `table`, from the number columns `fields` names.
    public static func sequences(_ table: CustomerTable, fields: DerivedHistoryFields, window: Int = defaultWindow) -> SequenceBatch {
        var batch = SequenceBatch(count: table.count, steps: window, features: 4, featureNames: featureNames)
        let missing = [Double](repeating: .nan, count: table.count)
        let tenure = table.numberColumn(fields.tenure) ?? missing
        let monthly = table.numberColumn(fields.monthlyCharge) ?? missing
        let total = table.numberColumn(fields.totalCharges) ?? missing
        batch.values.withUnsafeMutableBufferPointer { values in
            batch.mask.withUnsafeMutableBufferPointer { mask in
                batch.months.withUnsafeMutableBufferPointer { months in
                    for row in 0..<table.count {
                        fill(
                            tenure: tenure[row].isNaN ? 0 : tenure[row], monthly: monthly[row], total: total[row], window: window,
                            values: UnsafeMutableBufferPointer(rebasing: values[(row * window * 4)..<((row + 1) * window * 4)]),
                            mask: UnsafeMutableBufferPointer(rebasing: mask[(row * window)..<((row + 1) * window)]),
                            months: UnsafeMutableBufferPointer(rebasing: months[(row * window)..<((row + 1) * window)]))
                    }
                }
            }
        }
        return batch
    }

    /// The charge of month `month` (1-based) for a customer, by the formula above.
    public static func charge(month: Int, tenure: Double, monthly: Double, total: Double) -> Double {
        let average = tenure > 0 && !total.isNaN ? total / tenure : monthly
        let start = max(2 * average - monthly, 0)
        return start + (monthly - start) * Double(month - 1) / max(tenure - 1, 1)
    }

    /// Writes one customer's window.
    static func fill(
        tenure: Double, monthly: Double, total: Double, window: Int, values: UnsafeMutableBufferPointer<Float>,
        mask: UnsafeMutableBufferPointer<Float>, months: UnsafeMutableBufferPointer<Int>
    ) {
        let tenureMonths = tenure.isFinite ? Int(min(max(tenure, 0), 1_000_000)) : 0
        for step in 0..<window {
            let month = tenureMonths - (window - 1) + step
            guard month >= 1 else { continue }
            let charge = charge(month: month, tenure: tenure, monthly: monthly, total: total)
            let base = step * 4
            values[base] = 1
            values[base + 1] = Float(charge / 100)
            values[base + 2] = Float(Double(month) / 72)
            values[base + 3] = Float((charge - monthly) / 100)
            mask[step] = 1
            months[step] = month
        }
    }

    /// Last, mean and slope (per month) of the charge over the real months of the window;
    /// zeros for a customer with no months. The random forest reads these.
    public static func aggregates(tenure: Double, monthly: Double, total: Double, window: Int = defaultWindow)
        -> (last: Double, mean: Double, slope: Double)
    {
        let tenureMonths = tenure.isFinite ? Int(min(max(tenure, 0), 1_000_000)) : 0
        var sum = 0.0, count = 0.0, sumX = 0.0, sumXY = 0.0, sumXX = 0.0, last = 0.0
        for step in 0..<window {
            let month = tenureMonths - (window - 1) + step
            guard month >= 1 else { continue }
            let charge = charge(month: month, tenure: tenure, monthly: monthly, total: total)
            let x = Double(month)
            sum += charge
            count += 1
            sumX += x
            sumXY += x * charge
            sumXX += x * x
            last = charge
        }
        guard count > 0 else { return (0, 0, 0) }
        let denominator = count * sumXX - sumX * sumX
        let slope = denominator == 0 ? 0 : (count * sumXY - sumX * sum) / denominator
        return (last, sum / count, slope)
    }
}
