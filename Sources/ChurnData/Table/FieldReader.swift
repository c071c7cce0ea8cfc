#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ChurnProtocol

/// One input column of a schema, compiled for reading values: the same rules whether a value
/// comes from a CSV cell (bytes) or a JSON record (a ``FieldValue``), with a message for every
/// way it can be wrong. Categorical values become codes into the column's vocabulary (an open
/// column adds values it has not seen); numbers, booleans and dates become `Double`s.
struct FieldReader {
    /// What reading one value gave.
    enum Reading {
        case code(UInt32)
        case number(Double)
        /// Blank, for a column whose blank rule depends on another column of the row.
        case deferredBlank
        case problem(String)
    }

    /// What never changes after the reader is built, shared by its copies (a request's copy of
    /// the readers then costs one reference per field, not a copy of every rule).
    private final class Rules: Sendable {
        let column: SchemaColumn
        /// The column's type as a closed enum, so the per-cell dispatch compares no strings.
        let kind: Kind
        let minimum: Double
        let maximum: Double
        let integer: Bool
        /// Categorical without a map, few values: compared byte by byte, no hashing.
        let smallValues: [[UInt8]]?
        let trueTokens: [[UInt8]]
        let falseTokens: [[UInt8]]

        init(column: SchemaColumn, smallValues: [[UInt8]]?) {
            self.column = column
            kind =
                switch column.type {
                case .categorical: .categorical
                case .boolean: .boolean
                case .date: .date
                default: .numeric
                }
            minimum = column.minimum ?? -.infinity
            maximum = column.maximum ?? .infinity
            integer = column.integer
            self.smallValues = smallValues
            trueTokens = (column.trueValues ?? SchemaColumn.defaultTrue).map { Array($0.lowercased().utf8) }
            falseTokens = (column.falseValues ?? SchemaColumn.defaultFalse).map { Array($0.lowercased().utf8) }
        }
    }

    private let rules: Rules
    /// Its place among the table's categorical or number columns.
    let index: Int
    /// Categorical: canonical values in code order.
    private(set) var vocabulary: [String]
    /// Categorical: value bytes (canonical and mapped) → code.
    private var lookup: [[UInt8]: UInt32]

    private enum Kind { case numeric, categorical, boolean, date }

    var column: SchemaColumn { rules.column }
    private var kind: Kind { rules.kind }
    private var minimum: Double { rules.minimum }
    private var maximum: Double { rules.maximum }
    private var integer: Bool { rules.integer }
    private var smallValues: [[UInt8]]? { rules.smallValues }
    private var trueTokens: [[UInt8]] { rules.trueTokens }
    private var falseTokens: [[UInt8]] { rules.falseTokens }

    init(column: SchemaColumn, index: Int) {
        self.index = index
        var vocabulary = column.values ?? []
        var lookup: [[UInt8]: UInt32] = [:]
        for (code, value) in vocabulary.enumerated() { lookup[Array(value.utf8)] = UInt32(code) }
        for (from, to) in column.map ?? [:] {
            if let code = vocabulary.firstIndex(of: to) {
                lookup[Array(from.utf8)] = UInt32(code)
            } else if column.open {
                lookup[Array(from.utf8)] = UInt32(vocabulary.count)
                vocabulary.append(to)
                lookup[Array(to.utf8)] = UInt32(vocabulary.count - 1)
            }
        }
        self.vocabulary = vocabulary
        self.lookup = lookup
        rules = Rules(
            column: column,
            smallValues: column.map == nil && !column.open && vocabulary.count <= 8 ? vocabulary.map { Array($0.utf8) } : nil)
    }

    // MARK: Cells

    /// Reads a CSV cell (already trimmed of surrounding spaces).
    @inline(__always)
    mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        switch kind {
        case .categorical: return category(bytes)
        case .numeric:
            if bytes.isEmpty { return blank() }
            guard let number = CellParser.number(bytes) else { return .problem("not a number") }
            return checked(number)
        case .boolean: return bytes.isEmpty ? blank() : boolean(bytes)
        case .date:
            if bytes.isEmpty { return blank() }
            guard let days = CalendarDay.days(bytes) else { return .problem("expected a date YYYY-MM-DD") }
            return .number(Double(days))
        }
    }

    private mutating func category(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        if let known = knownCategory(bytes) { return known }
        return learnCategory(bytes)
    }

    /// A categorical value's code, or its problem; nil for a value an open column has not seen.
    private func knownCategory(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading? {
        if let smallValues {
            for (code, candidate) in smallValues.enumerated() where candidate.count == bytes.count {
                if bytes.isEmpty || candidate.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
                    return .code(UInt32(code))
                }
            }
            return .problem(unknownValue)
        }
        if let code = lookup[Array(bytes)] { return .code(code) }
        return column.open ? nil : .problem(unknownValue)
    }

    /// A new value of an open column: added to its vocabulary.
    private mutating func learnCategory(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        let key = Array(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else { return .problem("not valid UTF-8") }
        let code = UInt32(vocabulary.count)
        vocabulary.append(text)
        lookup[key] = code
        return .code(code)
    }

    private func boolean(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        let lowered = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        if trueTokens.contains(lowered) { return .number(1) }
        if falseTokens.contains(lowered) { return .number(0) }
        return .problem("expected one of \(tokenList)")
    }

    // MARK: Record values

    /// Reads a record's value (`nil`: the field is absent from the record); an open column
    /// learns a value it has not seen.
    mutating func read(_ value: FieldValue?) -> Reading {
        if let known = readKnown(value) { return known }
        var text = Self.categoryText(value ?? .null)
        return text.withUTF8 { learnCategory($0) }
    }

    /// Reads a record's value as ``read(_:)`` does, without changing the reader: nil for a value
    /// an open column has not seen (only ``read(_:)`` adds it). Readers shared by many requests
    /// are read this way, so that none is copied for a request that brings nothing new.
    func readKnown(_ value: FieldValue?) -> Reading? {
        guard let value else { return .problem("required field is missing") }
        switch (kind, value) {
        case (.categorical, .string), (.categorical, .number), (.categorical, .bool):
            var text = Self.categoryText(value)
            return text.withUTF8 { knownCategory($0) }
        case (.categorical, .null):
            return .problem(unknownValue + ", got null")
        case (.boolean, .bool(let flag)):
            return .number(flag ? 1 : 0)
        case (.boolean, .number(let number)) where number == 0 || number == 1:
            return .number(number)
        case (.boolean, .string(let text)):
            var text = text.trimmingSpaces
            return text.isEmpty ? blank() : text.withUTF8 { boolean($0) }
        case (.boolean, .null), (.numeric, .null), (.date, .null):
            return blank()
        case (.boolean, _):
            return .problem("expected true or false, got \(value.jsonValue.brief)")
        case (.date, .string(let text)):
            var text = text.trimmingSpaces
            if text.isEmpty { return blank() }
            guard let days = text.withUTF8({ CalendarDay.days($0) }) else {
                return .problem("expected a date YYYY-MM-DD, got \(value.jsonValue.brief)")
            }
            return .number(Double(days))
        case (.date, _):
            return .problem("expected a date YYYY-MM-DD, got \(value.jsonValue.brief)")
        case (_, .number(let number)):
            return checked(number)
        case (_, .string(let text)):
            var text = text.trimmingSpaces
            if text.isEmpty { return blank() }
            guard let number = text.withUTF8({ CellParser.number($0) }) else {
                return .problem("expected a number, got \(value.jsonValue.brief)")
            }
            return checked(number)
        default:
            return .problem("expected a number, got \(value.jsonValue.brief)")
        }
    }

    /// The text a categorical field reads from a record's value.
    private static func categoryText(_ value: FieldValue) -> String {
        if case .string(let text) = value { return text.trimmingSpaces }
        return value.text ?? ""
    }

    // MARK: Rules

    @inline(__always)
    private func checked(_ number: Double) -> Reading {
        if number >= minimum, number <= maximum, !integer || number.rounded() == number, number.isFinite { return .number(number) }
        guard number.isFinite else { return .problem("\(column.name) must be a finite number") }
        if integer, number.rounded() != number { return .problem("\(column.name) must be a whole number") }
        return .problem("\(column.name) must be \(bounds)")
    }

    private func blank() -> Reading {
        switch column.blank {
        case .error: .problem("\(column.name) is blank")
        case .missing: .number(.nan)
        case .when: .deferredBlank
        }
    }

    /// The value of a deferred blank, given the row's numbers (`numbers[i]` for number column i),
    /// or the problem. Only called for a `.when` rule.
    func resolveBlank(conditionValue: Double) -> Reading {
        guard case .when(let other, let equals, let value) = column.blank else { return blank() }
        if conditionValue == equals { return .number(value) }
        let shown = conditionValue.isNaN ? "blank" : FieldValue.number(conditionValue).text ?? "\(conditionValue)"
        return .problem(
            "\(column.name) is blank but \(other) is \(shown): blank is allowed only when \(other) is \(FieldValue.number(equals).text ?? "\(equals)")")
    }

    var unknownValue: String {
        let shown = vocabulary.count <= 30 ? vocabulary.joined(separator: ", ") : vocabulary.prefix(30).joined(separator: ", ") + ", ..."
        return "unknown value for \(column.name): expected one of \(shown)"
    }

    private var tokenList: String {
        let yes = column.trueValues ?? SchemaColumn.defaultTrue
        let no = column.falseValues ?? SchemaColumn.defaultFalse
        return (yes + no).joined(separator: ", ")
    }

    private var bounds: String {
        switch (column.minimum, column.maximum) {
        case (let low?, let high?): "between \(FieldValue.number(low).text ?? "") and \(FieldValue.number(high).text ?? "")"
        case (let low?, nil): "at least \(FieldValue.number(low).text ?? "")"
        case (nil, let high?): "at most \(FieldValue.number(high).text ?? "")"
        default: "a number"
        }
    }
}

/// A schema's input columns compiled for reading rows: where each value goes, and the blank
/// rules that depend on another column.
struct RowReader {
    var fields: [FieldReader]
    /// Whether an open column has learnt a value since this reader was copied.
    private(set) var learned = false
    let layout: TableLayout
    /// Per field with a `.when` blank rule: its field index and the number index of its condition.
    let conditions: [(field: Int, condition: Int)]

    init(schema: DatasetSchema, layout: TableLayout) {
        self.layout = layout
        fields = zip(schema.inputs, layout.fields).map { FieldReader(column: $0, index: $1.index) }
        conditions = schema.inputs.enumerated().compactMap { index, column in
            guard case .when(let other, _, _) = column.blank, let condition = layout.field(other) else { return nil }
            return (index, condition.index)
        }
    }

    /// Reads a record's value into field `field` without copying the readers unless an open
    /// column meets a value it has not seen.
    mutating func read(_ value: FieldValue?, field: Int) -> FieldReader.Reading {
        // Read in place (subscripting the array would copy the reader).
        if let known = fields.withUnsafeBufferPointer({ $0[field].readKnown(value) }) { return known }
        learned = true
        return fields[field].read(value)
    }

    /// The vocabularies as the table keeps them.
    var vocabularies: [[String]] { fields.filter { $0.column.type == .categorical }.map(\.vocabulary) }
}

extension String {
    /// Without surrounding spaces and tabs (itself, uncopied, when it has none).
    var trimmingSpaces: String {
        guard let first = utf8.first, let last = utf8.last,
            first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
        else { return self }
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
