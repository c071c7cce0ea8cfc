/// How a customer's real months become a sequence, fitted on the training customers' months and
/// stored inside every artifact that reads a panel: the last `window` months of each customer
/// (the window ends at the customer's own latest month, so a calendar gap never says who left),
/// one step per month; per step `[1, standardised numbers..., one-hot categories...]`; months
/// before the customer's first, and gaps, masked as zeros. A missing number in a present month is
/// the training mean (0 after standardising).
public struct HistoryEncoding: Codable, Sendable, Hashable {
    public var window: Int
    public var columns: [Column]

    /// One panel column's scaling or values.
    public struct Column: Codable, Sendable, Hashable {
        public var name: String
        /// Numbers: the training mean and standard deviation.
        public var mean: Double?
        public var standardDeviation: Double?
        /// Categories: the values seen in training (each a feature; others fall in `unknown`).
        public var values: [String]?

        public init(name: String, mean: Double? = nil, standardDeviation: Double? = nil, values: [String]? = nil) {
            self.name = name
            self.mean = mean
            self.standardDeviation = standardDeviation
            self.values = values
        }

        enum CodingKeys: String, CodingKey {
            case name, mean, values
            case standardDeviation = "std"
        }
    }

    public init(window: Int, columns: [Column]) {
        self.window = window
        self.columns = columns
    }

    /// Fits the scaling on `months` (the training customers' histories) of a `panel`.
    public static func fit(_ months: [[PanelMonth]], panel: PanelSchema, window: Int? = nil) -> HistoryEncoding {
        let inputs = panel.inputs
        var sums = [Double](repeating: 0, count: inputs.count)
        var squares = [Double](repeating: 0, count: inputs.count)
        var counts = [Double](repeating: 0, count: inputs.count)
        var seen = [Set<String>](repeating: [], count: inputs.count)
        for history in months {
            for month in history {
                for (index, value) in month.values.enumerated() {
                    switch value {
                    case .number(let number):
                        sums[index] += number
                        squares[index] += number * number
                        counts[index] += 1
                    case .category(let text): seen[index].insert(text)
                    case .missing: break
                    }
                }
            }
        }
        let columns = inputs.enumerated().map { index, column -> Column in
            if column.type == .categorical {
                let ordered = (column.values ?? []).filter { seen[index].contains($0) } + seen[index].subtracting(column.values ?? []).sorted()
                return Column(name: column.name, values: ordered)
            }
            let mean = counts[index] > 0 ? sums[index] / counts[index] : 0
            let variance = counts[index] > 0 ? squares[index] / counts[index] - mean * mean : 1
            return Column(name: column.name, mean: mean, standardDeviation: variance > 1e-12 ? variance.squareRoot() : 1)
        }
        return HistoryEncoding(window: window ?? panel.window, columns: columns)
    }

    /// Features per step.
    public var stepFeatures: Int {
        1 + columns.reduce(0) { $0 + ($1.values.map { $0.count + 1 } ?? 1) }
    }

    /// A name per step feature: `valid`, `data_gb`, `plan=basic`, `plan=unknown`.
    public var featureNames: [String] {
        var names = ["valid"]
        for column in columns {
            if let values = column.values {
                names += values.map { "\(column.name)=\($0)" } + ["\(column.name)=unknown"]
            } else {
                names.append(column.name)
            }
        }
        return names
    }

    /// The panel column each step feature comes from (`valid` for the first).
    public var featureColumns: [String] {
        var names = ["valid"]
        for column in columns { names += Array(repeating: column.name, count: column.values.map { $0.count + 1 } ?? 1) }
        return names
    }

    /// Sequences of the last ``window`` months of each customer (one entry of `months` per row).
    /// `months` of a step is its period (0 for a masked step).
    public func sequences(_ months: [[PanelMonth]]) -> SequenceBatch {
        let features = stepFeatures
        var batch = SequenceBatch(count: months.count, steps: window, features: features, featureNames: featureNames)
        let lookups = columns.map { column in column.values.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) } }
        for (row, history) in months.enumerated() {
            guard let last = history.last?.period else { continue }
            var position = history.count - 1
            for step in stride(from: window - 1, through: 0, by: -1) {
                let period = last - (window - 1 - step)
                while position >= 0, history[position].period > period { position -= 1 }
                guard position >= 0, history[position].period == period else { continue }
                let base = (row * window + step) * features
                batch.values[base] = 1
                var offset = base + 1
                for (index, column) in columns.enumerated() {
                    let value = index < history[position].values.count ? history[position].values[index] : .missing
                    if let values = column.values {
                        if case .category(let text) = value {
                            batch.values[offset + (lookups[index]?[text] ?? values.count)] = 1
                        }
                        offset += values.count + 1
                    } else {
                        if case .number(let number) = value {
                            batch.values[offset] = Float((number - column.mean!) / column.standardDeviation!)
                        }
                        offset += 1
                    }
                }
                batch.mask[row * window + step] = 1
                batch.months[row * window + step] = period
            }
        }
        return batch
    }
}

/// The random forest's view of a panel: per numeric column of the last `window` months, the last
/// value, the mean, the change of the last 3 months against the earlier months of the window,
/// and the slope per month (least squares over the months present); per categorical column, the
/// last value; and how many months are present. They become fields of the customer table
/// (`history.data_gb.last`, ..., `history.months`), encoded like any other field.
public enum PanelAggregates {
    /// The aggregate names of a numeric column.
    static let numericSuffixes = ["last", "mean", "recent_change", "slope"]

    /// The field names the aggregates of `panel` add.
    public static func fieldNames(_ panel: PanelSchema) -> [String] {
        var names: [String] = []
        for column in panel.inputs {
            if column.type == .categorical {
                names.append("history.\(column.name).last")
            } else {
                names += numericSuffixes.map { "history.\(column.name).\($0)" }
            }
        }
        return names + ["history.months"]
    }

    /// `table` with the aggregates of each row's `months` (same order) added as fields.
    public static func augment(_ table: CustomerTable, months: [[PanelMonth]], panel: PanelSchema, window: Int) -> CustomerTable {
        precondition(months.count == table.count)
        var numbers: [(String, [Double])] = []
        var categories: [(String, [String?])] = []
        for (index, column) in panel.inputs.enumerated() {
            let name = "history.\(column.name)"
            if column.type == .categorical {
                categories.append(("\(name).last", months.map { history in
                    for month in recent(history, window).reversed() {
                        if case .category(let text) = month.values[index] { return text }
                    }
                    return nil
                }))
                continue
            }
            var columns = [[Double]](repeating: [], count: 4)
            for history in months {
                let aggregate = numeric(recent(history, window), column: index)
                for (slot, value) in aggregate.enumerated() { columns[slot].append(value) }
            }
            for (slot, suffix) in numericSuffixes.enumerated() { numbers.append(("\(name).\(suffix)", columns[slot])) }
        }
        numbers.append(("history.months", months.map { Double(recent($0, window).count) }))
        return table.adding(numbers: numbers, categories: categories)
    }

    /// The months of the window ending at the customer's latest month.
    static func recent(_ history: [PanelMonth], _ window: Int) -> ArraySlice<PanelMonth> {
        guard let last = history.last?.period else { return [] }
        let start = history.firstIndex { $0.period > last - window } ?? history.endIndex
        return history[start...]
    }

    /// Last, mean, recent change and slope of one numeric column; NaN when the customer has no
    /// value of it (the encoder then fills and marks it).
    static func numeric(_ months: ArraySlice<PanelMonth>, column: Int) -> [Double] {
        var points: [(x: Double, y: Double)] = []
        for month in months {
            if case .number(let value) = month.values[column] { points.append((Double(month.period), value)) }
        }
        guard let last = points.last else { return [.nan, .nan, .nan, .nan] }
        let mean = points.reduce(0) { $0 + $1.y } / Double(points.count)
        let lastPeriod = last.x
        let recent = points.filter { $0.x > lastPeriod - 3 }
        let earlier = points.filter { $0.x <= lastPeriod - 3 }
        let change = earlier.isEmpty ? 0 : recent.reduce(0) { $0 + $1.y } / Double(recent.count) - earlier.reduce(0) { $0 + $1.y } / Double(earlier.count)
        var slope = 0.0
        if points.count >= 2 {
            let meanX = points.reduce(0) { $0 + $1.x } / Double(points.count)
            let covariance = points.reduce(0) { $0 + ($1.x - meanX) * ($1.y - mean) }
            let variance = points.reduce(0) { $0 + ($1.x - meanX) * ($1.x - meanX) }
            slope = variance > 0 ? covariance / variance : 0
        }
        return [last.y, mean, change, slope]
    }
}

extension CustomerTable {
    /// The table with more fields: number columns (NaN: missing) and categorical columns (nil:
    /// missing, read as a `missing` value).
    public func adding(numbers added: [(String, [Double])], categories: [(String, [String?])]) -> CustomerTable {
        var schema = DatasetSchema(
            name: "augmented", id: nil, label: LabelColumn(name: "_", positive: ["1"], negative: ["0"]),
            columns: layout.fields.map { SchemaColumn(name: $0.name, type: $0.type, open: true) })
        for (name, _) in added { schema.columns.append(SchemaColumn(name: name, type: .numeric, blank: .missing)) }
        for (name, _) in categories { schema.columns.append(SchemaColumn(name: name, type: .categorical, open: true)) }
        var table = CustomerTable(schema: schema)
        table.ids = ids
        table.vocabularies = vocabularies
        table.codes = codes
        table.numbers = numbers + added.map(\.1)
        for (_, values) in categories {
            var vocabulary: [String] = []
            var position: [String: UInt32] = [:]
            let column = values.map { value -> UInt32 in
                let text = value ?? "missing"
                if let code = position[text] { return code }
                position[text] = UInt32(vocabulary.count)
                vocabulary.append(text)
                return UInt32(vocabulary.count - 1)
            }
            table.vocabularies.append(vocabulary)
            table.codes.append(column)
        }
        return table
    }
}
