import Foundation

/// Real monthly histories: a CSV of `customer_id, period, <numeric columns>...`, one row per
/// customer and month, in any order. `period` is a month number (`1`, `2`, ...) or `YYYY-MM`.
/// Customers may have different lengths and gaps; sequences mask what is missing.
public struct MonthlyPanel: Sendable, Hashable {
    /// The value columns, in file order.
    public var columns: [String]
    /// Each customer's months, sorted by period.
    public var histories: [String: [Month]]

    /// One month of one customer.
    public struct Month: Sendable, Hashable {
        /// Months since year 0 (for `YYYY-MM`) or the month number given.
        public var period: Int
        public var values: [Double]
    }

    public init(columns: [String], histories: [String: [Month]]) {
        self.columns = columns
        self.histories = histories
    }

    /// Reads a panel file; every bad cell is an issue with line and column.
    public static func read(_ path: String, idColumn: String = "customer_id", periodColumn: String = "period") throws(DataError)
        -> MonthlyPanel
    {
        var header: [String]?
        var idIndex = 0, periodIndex = 0
        var valueIndices: [Int] = []
        var histories: [String: [Month]] = [:]
        var seen: Set<String> = []
        var issues: [DataIssue] = []
        var badRows = 0
        var rows = 0
        do {
            try CSVReader(path: path).forEachRecord { record in
                guard let names = header else {
                    let parsed = (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }
                    guard let id = parsed.firstIndex(of: idColumn), let period = parsed.firstIndex(of: periodColumn) else {
                        throw DataError.missingColumns(
                            file: path, columns: [idColumn, periodColumn].filter { !parsed.contains($0) }, mapping: "panel")
                    }
                    idIndex = id
                    periodIndex = period
                    valueIndices = parsed.indices.filter { $0 != id && $0 != period }
                    guard !valueIndices.isEmpty else {
                        throw DataError.missingColumns(file: path, columns: ["<at least one value column>"], mapping: "panel")
                    }
                    header = parsed
                    return
                }
                rows += 1
                var problems: [DataIssue] = []
                guard record.count == names.count else {
                    badRows += 1
                    if issues.count < 100 {
                        issues.append(DataIssue(file: path, line: record.line, problem: "row has \(record.count) fields, the header has \(names.count)"))
                    }
                    return
                }
                let id = record.withField(idIndex) { String(validating: CellParser.trimmed($0), as: UTF8.self) } ?? ""
                if id.isEmpty { problems.append(DataIssue(file: path, line: record.line, column: idColumn, problem: "customer id is empty or not UTF-8")) }
                let periodText = record.lossyString(periodIndex).trimmingCharacters(in: .whitespaces)
                let period = parsePeriod(periodText)
                if period == nil {
                    problems.append(DataIssue(file: path, line: record.line, column: periodColumn, value: periodText, problem: "expected a month number or YYYY-MM"))
                }
                var values: [Double] = []
                for index in valueIndices {
                    let value = record.withField(index) { CellParser.number(CellParser.trimmed($0)) }
                    if let value, value.isFinite {
                        values.append(value)
                    } else {
                        problems.append(DataIssue(file: path, line: record.line, column: names[index], value: record.lossyString(index), problem: "not a number"))
                    }
                }
                if let period, !id.isEmpty, !seen.insert("\(id)\u{1}\(period)").inserted {
                    problems.append(DataIssue(file: path, line: record.line, column: periodColumn, value: periodText, problem: "customer \(id) already has a row for this period"))
                }
                guard problems.isEmpty, let period else {
                    badRows += 1
                    for problem in problems where issues.count < 100 { issues.append(problem) }
                    return
                }
                histories[id, default: []].append(Month(period: period, values: values))
            }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        guard let names = header else { throw .empty(file: path) }
        guard rows > 0 else { throw .headerOnly(file: path) }
        if badRows > 0 { throw .badRows(issues: issues, total: badRows, rows: rows) }
        for id in histories.keys { histories[id]!.sort { $0.period < $1.period } }
        return MonthlyPanel(columns: valueIndices.map { names[$0] }, histories: histories)
    }

    /// `12` → 12; `2024-03` → 2024 × 12 + 3.
    static func parsePeriod(_ text: String) -> Int? {
        if let number = Int(text), number >= 0 { return number }
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else {
            return nil
        }
        return year * 12 + month
    }

    /// Standardisation of each column, fitted on the months of `ids`.
    public func fitScaling(for ids: [String]) -> PanelScaling {
        var sums = [Double](repeating: 0, count: columns.count)
        var squares = [Double](repeating: 0, count: columns.count)
        var count = 0.0
        for id in ids {
            for month in histories[id] ?? [] {
                for (index, value) in month.values.enumerated() {
                    sums[index] += value
                    squares[index] += value * value
                }
                count += 1
            }
        }
        let means = sums.map { count > 0 ? $0 / count : 0 }
        let deviations = zip(squares, means).map { square, mean -> Double in
            let variance = count > 0 ? square / count - mean * mean : 1
            return variance > 1e-12 ? variance.squareRoot() : 1
        }
        return PanelScaling(columns: columns, means: means, standardDeviations: deviations)
    }

    /// Sequences of the last `window` months of each of `ids` (in that order), scaled; a
    /// customer's window ends at their latest month, and missing months are masked.
    /// Per step: [1, scaled values...]; padding steps are zeros.
    public func sequences(for ids: [String], window: Int, scaling: PanelScaling) -> SequenceBatch {
        let features = columns.count + 1
        var batch = SequenceBatch(count: ids.count, steps: window, features: features, featureNames: ["valid"] + columns)
        for (row, id) in ids.enumerated() {
            guard let months = histories[id], let last = months.last?.period else { continue }
            var position = months.count - 1
            for step in stride(from: window - 1, through: 0, by: -1) {
                let period = last - (window - 1 - step)
                while position >= 0, months[position].period > period { position -= 1 }
                guard position >= 0, months[position].period == period else { continue }
                let base = (row * window + step) * features
                batch.values[base] = 1
                for (index, value) in months[position].values.enumerated() {
                    batch.values[base + 1 + index] = Float((value - scaling.means[index]) / scaling.standardDeviations[index])
                }
                batch.mask[row * window + step] = 1
                batch.months[row * window + step] = months[position].period
            }
        }
        return batch
    }
}

/// Per-column standardisation of a panel, stored with the model that was fitted with it.
public struct PanelScaling: Codable, Sendable, Hashable {
    public var columns: [String]
    public var means: [Double]
    public var standardDeviations: [Double]

    public init(columns: [String], means: [Double], standardDeviations: [Double]) {
        self.columns = columns
        self.means = means
        self.standardDeviations = standardDeviations
    }

    enum CodingKeys: String, CodingKey {
        case columns, means
        case standardDeviations = "stds"
    }
}
