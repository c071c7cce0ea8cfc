import Foundation

/// Infers a ``DatasetSchema`` from a CSV file's header and values, and reports what it saw: each
/// column's type and values, blanks, id and label candidates, the label's balance, and suspicious
/// columns (constant, all unique, too many values, or one that alone predicts the label almost
/// perfectly, which is almost always the outcome leaking in under another name).
///
/// Types: a column whose every non-blank value is a number is numeric (whole when all are, with a
/// lower bound of 0 when none is negative); `YYYY-MM-DD` dates are dates; two yes/no-like values
/// are boolean; other text with at most ``maximumCategories`` values is a closed categorical.
/// Blanks in a number column become missing values. Leakage is judged on the first
/// ``leakageRows`` rows by each column's own out-of-fold ROC-AUC.
public enum SchemaInference {
    /// Text columns with more distinct values than this are not inferred as categories.
    public static let maximumCategories = 100
    /// Single-column ROC-AUC at or above which a column is reported as likely leakage.
    public static let leakageAUC = 0.9
    /// Rows kept per column for the leakage check.
    public static let leakageRows = 100_000

    /// One column as inference saw it.
    public struct ColumnReport: Sendable {
        public var name: String
        /// What it became: an input type, or the role it plays.
        public var role: Role
        public var blanks: Int
        /// Distinct non-blank values (capped at a thousand; `manyValues` when more).
        public var distinct: Int
        public var manyValues: Bool
        /// The most frequent values, most frequent first (at most 8).
        public var topValues: [(value: String, count: Int)]
        public var minimum: Double?
        public var maximum: Double?
        /// Its single-column out-of-fold ROC-AUC against the label (folded so that 0.5 is
        /// worthless and 1 perfect), when a label is known.
        public var singleColumnAUC: Double?
        /// Why it was flagged, in words.
        public var notes: [String]
    }

    /// What a column became.
    public enum Role: Sendable, Equatable {
        case id, label, reason, input(ColumnType), ignored, neverInput
    }

    /// Everything inference found.
    public struct Report: Sendable {
        public var file: String
        public var rows: Int
        public var columns: [ColumnReport]
        public var schema: DatasetSchema
        /// Columns that could be the id, best first.
        public var idCandidates: [String]
        /// Columns that could be the label, best first.
        public var labelCandidates: [String]
        /// Rows per label value.
        public var labelBalance: [(value: String, count: Int, churned: Bool)]
        /// Assumptions worth checking (which label value was taken to mean churned, ...).
        public var assumptions: [String]
    }

    /// Reads `path` and infers its schema. `label` names the label column; without it the most
    /// churn-like two-valued column is taken, and none is an error.
    public static func inspect(_ path: String, label: String? = nil) throws(DataError) -> Report {
        var collector = Collector()
        do {
            try CSVReader(path: path).forEachRecord { record in try collector.consume(record, file: path) }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        guard !collector.header.isEmpty else { throw .empty(file: path) }
        guard collector.rows > 0 else { throw .headerOnly(file: path) }
        return try infer(collector, file: path, label: label)
    }

    /// Infers the schema of a monthly panel file: the customer column (`customerColumn`, the
    /// dataset's id column, else `customer_id`, else the first column), the period column (`period`, `month`, else the
    /// second), and each value column's type (numeric, boolean, or categorical with at most
    /// ``maximumCategories`` values; other text is not read).
    public static func inspectPanel(_ path: String, customerColumn: String? = nil) throws(DataError) -> PanelSchema {
        var collector = Collector()
        do {
            try CSVReader(path: path).forEachRecord { record in try collector.consume(record, file: path) }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        let header = collector.header
        guard !header.isEmpty else { throw .empty(file: path) }
        guard collector.rows > 0 else { throw .headerOnly(file: path) }
        guard header.count >= 3 else {
            throw .missingColumns(file: path, columns: ["customer, period and at least one value column"], mapping: "panel")
        }
        let customer = [customerColumn, "customer_id"].compactMap { $0 }.first { header.contains($0) } ?? header[0]
        let period = ["period", "month", "Period", "Month"].first { header.contains($0) } ?? header.first { $0 != customer }!
        var columns: [SchemaColumn] = []
        for (index, name) in header.enumerated() where name != customer && name != period {
            let stats = collector.columns[index]
            var column = inferColumn(name: name, stats, rows: collector.rows)
            if column.type == .date { column.type = .ignored }
            if column.type == .numeric, stats.blanks > 0 { column.blank = .missing }
            columns.append(column)
        }
        let panel = PanelSchema(customer: customer, period: period, columns: columns)
        try panel.check(source: path, path: "history")
        return panel
    }

    // MARK: Decisions

    private static func infer(_ data: Collector, file: String, label requested: String?) throws(DataError) -> Report {
        let header = data.header
        let stats = data.columns
        // The label.
        let labelCandidates = header.indices.filter { stats[$0].distinctValues.count == 2 && stats[$0].blanks == 0 }
            .sorted { labelScore(header[$0]) > labelScore(header[$1]) }
        let labelIndex: Int
        if let requested {
            guard let index = header.firstIndex(of: requested) else {
                throw .missingColumns(file: file, columns: [requested], mapping: "inferred (the label column named with --label)")
            }
            let values = stats[index].distinctValues.keys.sorted()
            guard stats[index].distinctValues.count == 2, !stats[index].manyValues else {
                let shown = stats[index].manyValues ? "more than 1000 values" : "\(values.count) values (\(values.prefix(8).joined(separator: ", ")))"
                throw .unusableLabels(file: file, reason: "label column \(requested) has \(shown): a label needs exactly two, one meaning churned")
            }
            guard stats[index].blanks == 0 else {
                throw .unusableLabels(file: file, reason: "label column \(requested) is blank on \(stats[index].blanks) rows")
            }
            labelIndex = index
        } else {
            guard let best = labelCandidates.first, labelScore(header[best]) > 0 else {
                throw .unusableLabels(
                    file: file,
                    reason: "no column looks like a churn label (two values, a name like Churn or Exited): name it with --label"
                        + (labelCandidates.isEmpty ? "" : "; two-valued columns: \(labelCandidates.map { header[$0] }.joined(separator: ", "))"))
            }
            labelIndex = best
        }
        var assumptions: [String] = []
        let (positive, negative, guessed) = labelValues(stats[labelIndex])
        if guessed {
            assumptions.append(
                "label \(header[labelIndex]): \"\(positive)\" taken to mean churned (the rarer value); swap positive and negative in the schema if not")
        }
        let labels = data.labels(column: labelIndex, positive: positive)

        // The id: all unique, never blank; named like an id when possible.
        let idCandidates = header.indices.filter {
            $0 != labelIndex && stats[$0].blanks == 0 && stats[$0].allUnique(rows: data.rows)
        }.sorted { idScore(header[$0]) > idScore(header[$1]) }
        let idIndex = idCandidates.first { idScore(header[$0]) > 0 || stats[$0].numberCount < data.rows }

        // The reason: text named like a reason, blank for those who stayed.
        let reasonIndex = header.indices.first { index in
            index != labelIndex && index != idIndex && header[index].lowercased().contains("reason")
                && data.blankShareAmongStayers(column: index, labels: labels) >= 0.9
        }

        var reports: [ColumnReport] = []
        var columns: [SchemaColumn] = []
        var neverInputs: [String] = []
        for (index, name) in header.enumerated() {
            let column = stats[index]
            var report = ColumnReport(
                name: name, role: .ignored, blanks: column.blanks, distinct: column.distinctValues.count,
                manyValues: column.manyValues,
                topValues: column.distinctValues.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(8).map { ($0.key, $0.value) },
                minimum: column.minimum, maximum: column.maximum, singleColumnAUC: nil, notes: [])
            defer { reports.append(report) }
            if index == labelIndex {
                report.role = .label
                continue
            }
            if index == idIndex {
                report.role = .id
                continue
            }
            if index == reasonIndex {
                report.role = .reason
                report.notes.append("churn reasons: evidence for the retention page, never an input")
                continue
            }
            if column.blanks == data.rows {
                report.notes.append("always blank: ignored")
                columns.append(SchemaColumn(name: name, type: .ignored))
                continue
            }
            if column.distinctValues.count == 1, !column.manyValues, column.blanks == 0 {
                report.notes.append("constant (\(column.distinctValues.keys.first!)): ignored")
                columns.append(SchemaColumn(name: name, type: .ignored))
                continue
            }
            var inferred = inferColumn(name: name, column, rows: data.rows)
            if let auc = data.singleColumnAUC(column: index, type: inferred.type, labels: labels) {
                report.singleColumnAUC = auc
                if auc >= leakageAUC {
                    report.notes.append(
                        String(format: "likely leakage: alone it predicts the label with ROC-AUC %.3f; declared never an input", auc))
                    report.role = .neverInput
                    neverInputs.append(name)
                    columns.append(SchemaColumn(name: name, type: .ignored))
                    continue
                }
            }
            if inferred.type == .ignored {
                report.notes.append(
                    column.allUnique(rows: data.rows)
                        ? "all values unique and not the id: ignored"
                        : "\(column.manyValues ? "over 1000" : "\(column.distinctValues.count)") text values (too many for a category): ignored; declare it categorical (\"open\": true) to use it")
            } else if column.blanks > 0, inferred.type.isNumber {
                inferred.blank = .missing
                report.notes.append("\(column.blanks) blank: read as missing")
            }
            report.role = inferred.type == .ignored ? .ignored : .input(inferred.type)
            columns.append(inferred)
        }
        let schema = DatasetSchema(
            name: "inferred", id: idIndex.map { IdentifierColumn(name: header[$0]) },
            label: LabelColumn(name: header[labelIndex], positive: [positive], negative: [negative]),
            reason: reasonIndex.map { FileColumn(name: header[$0]) }, columns: columns, neverInputs: neverInputs)
        if idIndex == nil {
            assumptions.append("no id column: rows are named row-<n> by their data row number")
        }
        try schema.check(source: file)
        let counts = stats[labelIndex].distinctValues
        return Report(
            file: file, rows: data.rows, columns: reports, schema: schema, idCandidates: idCandidates.map { header[$0] },
            labelCandidates: labelCandidates.map { header[$0] },
            labelBalance: [(positive, counts[positive] ?? 0, true), (negative, counts[negative] ?? 0, false)],
            assumptions: assumptions)
    }

    private static func inferColumn(name: String, _ column: ColumnStats, rows: Int) -> SchemaColumn {
        let nonBlank = rows - column.blanks
        if column.numberCount == nonBlank {
            return SchemaColumn(
                name: name, type: .numeric, minimum: (column.minimum ?? 0) >= 0 ? 0 : nil, integer: column.allWhole)
        }
        if column.dateCount == nonBlank { return SchemaColumn(name: name, type: .date) }
        let values = Array(column.distinctValues.keys)
        if values.count == 2, !column.manyValues, values.allSatisfy({ booleanToken($0) != nil }),
            Set(values.compactMap(booleanToken)).count == 2
        {
            return SchemaColumn(name: name, type: .boolean)
        }
        if !column.manyValues, values.count <= maximumCategories, !column.allUnique(rows: rows) {
            return SchemaColumn(name: name, type: .categorical, values: values.sorted())
        }
        return SchemaColumn(name: name, type: .ignored)
    }

    static func booleanToken(_ value: String) -> Bool? {
        let lowered = value.lowercased()
        if ["yes", "true", "y", "t"].contains(lowered) { return true }
        if ["no", "false", "n", "f"].contains(lowered) { return false }
        return nil
    }

    /// Which label value means churned; `guessed` when no value says so and the rarer was taken.
    private static func labelValues(_ column: ColumnStats) -> (positive: String, negative: String, guessed: Bool) {
        let values = column.distinctValues.sorted { $0.key < $1.key }
        let churnWords = ["yes", "true", "1", "y", "t", "churned", "churn", "left", "exited", "cancelled", "canceled", "lost", "gone"]
        if let positive = values.first(where: { churnWords.contains($0.key.lowercased()) }),
            let negative = values.first(where: { $0.key != positive.key })
        {
            return (positive.key, negative.key, false)
        }
        let rarer = values.min { ($0.value, $0.key) < ($1.value, $1.key) }!
        let other = values.first { $0.key != rarer.key }!
        return (rarer.key, other.key, true)
    }

    private static func labelScore(_ name: String) -> Int {
        let lowered = name.lowercased()
        if ["churn", "churned", "churn label", "label", "exited", "attrition", "left"].contains(lowered) { return 3 }
        if lowered.contains("churn") || lowered.contains("exited") || lowered.contains("attrition") { return 2 }
        if lowered.contains("cancel") || lowered.contains("label") || lowered.contains("target") { return 1 }
        return 0
    }

    private static func idScore(_ name: String) -> Int {
        let lowered = name.lowercased().replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "_", with: "")
        if lowered == "customerid" || lowered == "id" || lowered == "subscriberid" || lowered == "accountid" { return 3 }
        if lowered.hasSuffix("id") || lowered.hasPrefix("id") { return 2 }
        if lowered.contains("customer") || lowered.contains("account") || lowered.contains("phone") { return 1 }
        return 0
    }

    // MARK: Collection

    /// Per-column facts gathered in one pass.
    struct ColumnStats {
        var blanks = 0
        var numberCount = 0
        var dateCount = 0
        var allWhole = true
        var minimum: Double?
        var maximum: Double?
        var distinctValues: [String: Int] = [:]
        var manyValues = false
        /// The first rows' values, for the leakage check: numbers (NaN when not one) and texts.
        var numbers: [Double] = []
        var texts: [String] = []

        func allUnique(rows: Int) -> Bool { !manyValues ? distinctValues.count == rows : uniqueBeyondCap }
        var uniqueBeyondCap = true
    }

    struct Collector {
        var header: [String] = []
        var columns: [ColumnStats] = []
        var rows = 0

        mutating func consume(_ record: borrowing CSVRecord, file: String) throws {
            guard !header.isEmpty else {
                header = (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }
                columns = Array(repeating: ColumnStats(), count: header.count)
                return
            }
            guard record.count == header.count else {
                throw DataError.malformed(
                    DataIssue(file: file, line: record.line, problem: "row has \(record.count) fields, the header has \(header.count)"))
            }
            rows += 1
            let keep = rows <= SchemaInference.leakageRows
            for index in 0..<record.count {
                let text = record.withField(index) { String(decoding: CellParser.trimmed($0), as: UTF8.self) }
                let number = record.withField(index) { CellParser.number(CellParser.trimmed($0)) }
                // In place: a copy of the stats would copy its collections on every cell.
                Self.count(text, number, into: &columns[index], keep: keep)
            }
        }

        private static func count(_ text: String, _ number: Double?, into stats: inout ColumnStats, keep: Bool) {
            if text.isEmpty {
                stats.blanks += 1
            } else {
                if let number {
                    stats.numberCount += 1
                    if number.rounded() != number { stats.allWhole = false }
                    stats.minimum = min(stats.minimum ?? number, number)
                    stats.maximum = max(stats.maximum ?? number, number)
                } else if CalendarDay.days(text) != nil {
                    stats.dateCount += 1
                }
                if !stats.manyValues {
                    stats.distinctValues[text, default: 0] += 1
                    if stats.distinctValues.count > 1000 {
                        stats.manyValues = true
                        stats.uniqueBeyondCap = stats.distinctValues.values.allSatisfy { $0 == 1 }
                        stats.distinctValues = [:]
                    }
                }
            }
            if keep {
                stats.numbers.append(number ?? (CalendarDay.days(text).map(Double.init) ?? .nan))
                stats.texts.append(text)
            }
        }

        func labels(column: Int, positive: String) -> [Bool] {
            columns[column].texts.map { $0 == positive }
        }

        func blankShareAmongStayers(column: Int, labels: [Bool]) -> Double {
            let texts = columns[column].texts
            let stayers = labels.indices.filter { !labels[$0] }
            guard !stayers.isEmpty else { return 0 }
            return Double(stayers.filter { texts[$0].isEmpty }.count) / Double(stayers.count)
        }

        /// The column's own ROC-AUC against the label, out of fold for categories (each half's
        /// churn rate per value scores the other half), folded so 0.5 is worthless.
        func singleColumnAUC(column: Int, type: ColumnType, labels: [Bool]) -> Double? {
            let stats = columns[column]
            let count = min(labels.count, stats.texts.count)
            guard count >= 20, Set(labels.prefix(count)).count == 2 else { return nil }
            var scores: [Double] = []
            scores.reserveCapacity(count)
            if type == .numeric || type == .date {
                let values = stats.numbers.prefix(count)
                let fill = values.filter { !$0.isNaN }.reduce(0, +) / Double(max(1, values.filter { !$0.isNaN }.count))
                scores = values.map { $0.isNaN ? fill : $0 }
            } else {
                // Blank versus not is itself a signal (a reason only churners have).
                var rates: [[String: (Double, Double)]] = [[:], [:]]
                for row in 0..<count {
                    let fold = row % 2
                    var entry = rates[fold][stats.texts[row]] ?? (0, 0)
                    entry.0 += labels[row] ? 1 : 0
                    entry.1 += 1
                    rates[fold][stats.texts[row]] = entry
                }
                let base = Double(labels.prefix(count).filter { $0 }.count) / Double(count)
                for row in 0..<count {
                    let other = rates[1 - row % 2][stats.texts[row]]
                    scores.append(other.map { ($0.0 + base) / ($0.1 + 1) } ?? base)
                }
            }
            guard let auc = Metrics.rocAUC(Array(labels.prefix(count)), scores) else { return nil }
            return max(auc, 1 - auc)
        }
    }
}
