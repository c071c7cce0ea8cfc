import ChurnProtocol
import Foundation

/// One month of one customer's history: its period and a value per panel column (in the panel
/// schema's column order).
public struct PanelMonth: Sendable, Hashable {
    /// `YYYY-MM` as year × 12 + month, or the month number given.
    public var period: Int
    public var values: [PanelValue]

    public init(period: Int, values: [PanelValue]) {
        self.period = period
        self.values = values
    }
}

/// A panel cell: a number (numeric, or boolean as 1/0), a category's value, or missing.
public enum PanelValue: Sendable, Hashable {
    case number(Double)
    case category(String)
    case missing

    /// As a record carries it.
    public var fieldValue: FieldValue {
        switch self {
        case .number(let number): .number(number)
        case .category(let text): .string(text)
        case .missing: .null
        }
    }
}

/// Real monthly histories: a CSV of `customer_id, period, <columns>...`, one row per customer and
/// month, in any order, read under a ``PanelSchema`` (every cell checked with the rules of its
/// column type; a customer with two rows for one period is an error naming both lines).
/// Customers may have different lengths and gaps; sequences mask what is missing.
public struct MonthlyPanel: Sendable, Hashable {
    public var schema: PanelSchema
    /// Each customer's months, sorted by period.
    public var histories: [String: [PanelMonth]]

    public init(schema: PanelSchema, histories: [String: [PanelMonth]]) {
        self.schema = schema
        self.histories = histories
    }

    /// The value column names, in order.
    public var columns: [String] { schema.inputs.map(\.name) }

    /// Reads a panel file under `schema`.
    public static func read(_ path: String, schema: PanelSchema) throws(DataError) -> MonthlyPanel {
        var state = PanelReadState(file: path, schema: schema)
        do {
            try CSVReader(path: path).forEachRecord { record in try state.consume(record) }
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        guard state.header != nil else { throw .empty(file: path) }
        guard state.rows > 0 else { throw .headerOnly(file: path) }
        if state.badRows > 0 { throw .badPanelRows(issues: state.issues, total: state.badRows, rows: state.rows) }
        var histories = state.histories
        for id in histories.keys { histories[id]!.sort { $0.period < $1.period } }
        return MonthlyPanel(schema: schema.canonical, histories: histories)
    }

    /// `12` → 12; `2024-03` → 2024 × 12 + 3.
    public static func parsePeriod(_ text: String) -> Int? {
        if let number = Int(text), number >= 0 { return number }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
            (1...12).contains(month)
        else {
            return nil
        }
        return year * 12 + month
    }

    /// A period as text: `YYYY-MM` for calendar months, the number for month numbers.
    public static func periodText(_ period: Int) -> String {
        guard period > 12 * 1000 else { return String(period) }
        let year = (period - 1) / 12
        let month = (period - 1) % 12 + 1
        return String(year) + "-" + (month < 10 ? "0" : "") + String(month)
    }

    /// The months of `ids`, in that order (empty for a customer the panel lacks).
    public func months(for ids: [String]) -> [[PanelMonth]] {
        ids.map { histories[$0] ?? [] }
    }

    /// The panel as canonical CSV rows for `ids` (what the daemon hands plugins): the customer and
    /// period columns, then the value columns by name.
    public func writeCSV(to path: String, ids: [String]) throws(DataError) {
        var writer = try CSVWriter(path: path)
        try writer.write([schema.customer, schema.period] + columns)
        for id in ids {
            for month in histories[id] ?? [] {
                let cells = month.values.map { value -> String in
                    switch value {
                    case .number(let number): Dataset.format(number)
                    case .category(let text): text
                    case .missing: ""
                    }
                }
                try writer.write([id, Self.periodText(month.period)] + cells)
            }
        }
        try writer.close()
    }
}

extension PanelSchema {
    /// A customer's months as records carry them (`{"period": "2026-10", "<column>": value}`, a
    /// column named as a field or as in the file), checked: the problem of the first bad month
    /// names it (`history[3].data_gb`).
    public func months(from records: [[String: FieldValue]]) throws(FieldProblem) -> [PanelMonth] {
        var readers = inputs.enumerated().map { FieldReader(column: $1, index: $0) }
        var months: [PanelMonth] = []
        var seen: Set<Int> = []
        for (index, record) in records.enumerated() {
            let path = "history[\(index)]"
            guard let raw = record["period"] ?? record[period] else {
                throw FieldProblem(field: "\(path).period", reason: "required field is missing")
            }
            guard let text = raw.text, let parsed = MonthlyPanel.parsePeriod(text.trimmingSpaces) else {
                throw FieldProblem(field: "\(path).period", reason: "expected a month number or YYYY-MM, got \(raw.jsonValue.brief)")
            }
            guard seen.insert(parsed).inserted else {
                throw FieldProblem(field: "\(path).period", reason: "\(text) appears twice in this customer's history")
            }
            var values: [PanelValue] = []
            for position in readers.indices {
                let column = readers[position].column
                switch readers[position].read(record[column.name] ?? record[column.fileColumn]) {
                case .code(let code): values.append(.category(readers[position].vocabulary[Int(code)]))
                case .number(let number): values.append(number.isNaN ? .missing : .number(number))
                case .deferredBlank: values.append(.missing)
                case .problem(let reason): throw FieldProblem(field: "\(path).\(column.name)", reason: reason)
                }
            }
            months.append(PanelMonth(period: parsed, values: values))
        }
        return months.sorted { $0.period < $1.period }
    }

    /// Months as records carry them (`period` and each column by field name), the inverse of
    /// ``months(from:)``.
    public func records(of months: [PanelMonth]) -> [[String: FieldValue]] {
        months.map { month in
            var record = values(of: month)
            record["period"] = .string(MonthlyPanel.periodText(month.period))
            return record
        }
    }

    /// A month's values by column field name (a missing value is null).
    public func values(of month: PanelMonth) -> [String: FieldValue] {
        var values: [String: FieldValue] = [:]
        for (column, value) in zip(inputs, month.values) { values[column.name] = value.fieldValue }
        return values
    }
}

extension DatasetSchema {
    /// The months of `records` (their `history` members) under the schema's panel, one entry per
    /// record; a bad month is named by its record and month (`customers[2].history[0].data_gb`).
    public func months(of records: [CustomerRecord]) throws(FieldProblem) -> [[PanelMonth]] {
        guard let panel = history else { return Array(repeating: [], count: records.count) }
        var months: [[PanelMonth]] = []
        months.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            guard let rows = record.history else {
                months.append([])
                continue
            }
            do {
                months.append(try panel.months(from: rows))
            } catch {
                throw FieldProblem(field: "customers[\(index)].\(error.field)", reason: error.reason)
            }
        }
        return months
    }
}

/// The panel reader's running state.
private struct PanelReadState {
    let file: String
    let schema: PanelSchema
    var header: [String]?
    var customerIndex = 0
    var periodIndex = 0
    var valueIndices: [Int] = []
    var readers: [FieldReader]
    var histories: [String: [PanelMonth]] = [:]
    var seen: [String: Int] = [:]
    var issues: [DataIssue] = []
    var badRows = 0
    var rows = 0
    /// Set when the file is streamed (``PanelStream``): each good month goes here, with its line,
    /// instead of into ``histories``; a bad row is thrown at once.
    var deliver: ((String, PanelMonth, Int) throws -> Void)?

    init(file: String, schema: PanelSchema) {
        self.file = file
        self.schema = schema
        readers = schema.inputs.enumerated().map { FieldReader(column: $1, index: $0) }
    }

    mutating func consume(_ record: borrowing CSVRecord) throws {
        guard let names = header else {
            let parsed = (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }
            var missing: [String] = []
            func position(_ column: String, or name: String) -> Int {
                if let index = parsed.firstIndex(of: column) ?? parsed.firstIndex(of: name) { return index }
                missing.append(column)
                return -1
            }
            customerIndex = position(schema.customer, or: schema.customer)
            periodIndex = position(schema.period, or: schema.period)
            valueIndices = schema.inputs.map { position($0.fileColumn, or: $0.name) }
            guard missing.isEmpty else { throw DataError.missingColumns(file: file, columns: missing, mapping: "panel") }
            header = parsed
            return
        }
        rows += 1
        let line = record.line
        guard record.count == names.count else {
            report([DataIssue(file: file, line: line, problem: "row has \(record.count) fields, the header has \(names.count)")])
            return
        }
        var problems: [DataIssue] = []
        func issue(_ column: Int, _ problem: String) {
            problems.append(DataIssue(file: file, line: line, column: names[column], value: record.lossyString(column), problem: problem))
        }
        let id = record.withField(customerIndex) { String(validating: CellParser.trimmed($0), as: UTF8.self) } ?? ""
        if id.isEmpty { issue(customerIndex, "customer id is empty or not UTF-8") }
        let periodText = record.lossyString(periodIndex).trimmingCharacters(in: .whitespaces)
        let period = MonthlyPanel.parsePeriod(periodText)
        if period == nil { issue(periodIndex, "expected a month number or YYYY-MM") }
        var values: [PanelValue] = []
        for (position, column) in valueIndices.enumerated() {
            switch record.withField(column, { readers[position].read(CellParser.trimmed($0)) }) {
            case .code(let code): values.append(.category(readers[position].vocabulary[Int(code)]))
            case .number(let number): values.append(number.isNaN ? .missing : .number(number))
            case .deferredBlank: values.append(.missing)
            case .problem(let problem): issue(column, problem)
            }
        }
        if let period, !id.isEmpty, deliver == nil {
            let key = "\(id)\u{1}\(period)"
            if let first = seen[key] {
                issue(periodIndex, "customer \(id) already has a row for this period (line \(first))")
            } else if problems.isEmpty {
                seen[key] = line
            }
        }
        guard problems.isEmpty, let period else {
            report(problems)
            if deliver != nil, let first = problems.first { throw DataError.malformed(first) }
            return
        }
        if let deliver {
            try deliver(id, PanelMonth(period: period, values: values), line)
            return
        }
        histories[id, default: []].append(PanelMonth(period: period, values: values))
    }

    private mutating func report(_ problems: [DataIssue]) {
        badRows += 1
        for problem in problems where issues.count < 100 { issues.append(problem) }
    }
}

/// A panel file read as it streams, one customer's months at a time, for a customer file sorted
/// the same way (`churn score --history`): the rows must be sorted by customer id (byte order,
/// as `sort` in the C locale and `ORDER BY` on a text key give), each customer's rows together.
/// Only the customer being read and the next few are in memory, whatever the file's size.
///
/// The file is read on a thread of its own into a short queue; ``months(of:)`` is called with
/// ascending ids and passes over customers the caller does not ask for.
public final class PanelStream: @unchecked Sendable {
    public let schema: PanelSchema
    public let file: String
    private let condition = NSCondition()
    /// Guarded by `condition`: customers read and not yet taken, oldest first.
    private var queue: [(id: String, months: [PanelMonth])] = []
    private var finished = false
    private var failure: DataError?
    private var closed = false
    private static let capacity = 1024
    /// The caller's side: the customer at the head, once taken from the queue.
    private var head: (id: String, months: [PanelMonth])?
    private var lastAsked: String?

    /// Starts reading the panel file at `path` under `schema`.
    public init(path: String, schema: PanelSchema) {
        self.schema = schema.canonical
        self.file = path
        let thread = Thread { [self] in read(path, schema: schema) }
        thread.name = "churn panel stream"
        thread.start()
    }

    deinit { close() }

    /// Stops the reader (it ends at its next customer).
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The months of customer `id` (sorted by period; empty when the file has none), for ids
    /// asked in ascending order. Throws the panel file's first bad row, a panel file not sorted
    /// by customer, or ids asked out of order (naming the customer file's `line`).
    public func months(of id: String, line: Int, in customerFile: String) throws(DataError) -> [PanelMonth] {
        if let lastAsked, !(lastAsked < id) {
            throw .malformed(
                DataIssue(
                    file: customerFile, line: line, value: id,
                    problem: lastAsked == id
                        ? "customer \(id) appears twice: --history needs each customer once, the file sorted by customer id"
                        : "the file is not sorted by customer id (\(id) comes after \(lastAsked)): --history reads it and \(file) in one pass and needs both sorted by id (sort -t, -k1,1 with LC_ALL=C)"))
        }
        lastAsked = id
        while true {
            if head == nil { head = try take() }
            guard let current = head else { return [] }
            if current.id < id {
                head = nil
                continue
            }
            guard current.id == id else { return [] }
            head = nil
            return current.months.sorted { $0.period < $1.period }
        }
    }

    /// The next customer from the reader, waiting for it; nil at the end of the file.
    private func take() throws(DataError) -> (id: String, months: [PanelMonth])? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, !finished, failure == nil { condition.wait() }
        if let failure { throw failure }
        guard !queue.isEmpty else { return nil }
        let next = queue.removeFirst()
        condition.broadcast()
        return next
    }

    private func put(_ customer: (id: String, months: [PanelMonth])) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.capacity, !closed { condition.wait() }
        if closed { throw CancellationError() }
        queue.append(customer)
        condition.broadcast()
    }

    private func read(_ path: String, schema: PanelSchema) {
        var state = PanelReadState(file: path, schema: schema)
        var current: (id: String, months: [PanelMonth], line: Int)?
        var previous: String?
        var outcome: DataError?
        do {
            state.deliver = { id, month, line in
                if let open = current, open.id == id {
                    if let clash = open.months.first(where: { $0.period == month.period }) {
                        throw DataError.malformed(
                            DataIssue(
                                file: path, line: line, column: schema.period, value: MonthlyPanel.periodText(clash.period),
                                problem: "customer \(id) already has a row for this period"))
                    }
                    current!.months.append(month)
                    return
                }
                if let open = current {
                    try self.put((open.id, open.months))
                    previous = open.id
                }
                if let previous, !(previous < id) {
                    let problem = previous == id
                        ? "customer \(id) has rows apart from each other: --history needs each customer's months together, the file sorted by customer id"
                        : "the file is not sorted by customer id (\(id) comes after \(previous)): sort it by customer id (sort -t, -k1,1 with LC_ALL=C)"
                    throw DataError.malformed(DataIssue(file: path, line: line, column: schema.customer, value: id, problem: problem))
                }
                current = (id, [month], line)
            }
            try CSVReader(path: path).forEachRecord { record in try state.consume(record) }
            if state.header == nil { throw DataError.empty(file: path) }
            if let open = current { try put((open.id, open.months)) }
        } catch let error as DataError {
            outcome = error
        } catch is CancellationError {
            outcome = nil
        } catch {
            outcome = .unreadable(file: path, reason: "\(error)")
        }
        state.deliver = nil
        condition.lock()
        finished = true
        failure = outcome
        condition.broadcast()
        condition.unlock()
    }
}
