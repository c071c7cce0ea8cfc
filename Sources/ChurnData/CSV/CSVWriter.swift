import Foundation

/// Writes RFC 4180 CSV (LF line ends; fields quoted only when they must be), buffered.
public struct CSVWriter: ~Copyable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    public let path: String

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(DataError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .unreadable(file: path, reason: "cannot create the file")
        }
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends one row.
    public mutating func write(_ fields: [String]) throws(DataError) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            Self.appendField(field, to: &buffer)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered.
    public mutating func flush() throws(DataError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw .unreadable(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    public consuming func close() throws(DataError) {
        try flush()
        try? handle.close()
    }

    static func appendField(_ field: String, to output: inout [UInt8]) {
        let needsQuotes = field.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            output.append(contentsOf: field.utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension Dataset {
    /// The header of ``writeCSV(to:)``: the id field, the inputs, and the label when labelled.
    public var canonicalHeader: [String] {
        [idField] + customers.layout.fields.map(\.name) + (churned == nil ? [] : [schema.label.name])
    }

    /// Writes the rows as a canonical CSV, the form the daemon hands plugins: columns named as
    /// the schema's fields, values already translated, missing numbers blank, booleans `true` or
    /// `false`, dates `YYYY-MM-DD`, and the label (when labelled) as the schema's first positive
    /// or negative value. ``DatasetSchema/canonical`` reads it back. `extra` adds one more
    /// column after them (a value per row), which the schema does not read: an uplift training
    /// file's treatment column.
    public func writeCSV(to path: String, extra: (column: String, values: [String])? = nil) throws(DataError) {
        precondition(extra.map { $0.values.count == customers.count } ?? true, "one extra value per row")
        var writer = try CSVWriter(path: path)
        try writer.write(canonicalHeader + (extra.map { [$0.column] } ?? []))
        let fields = customers.layout.fields
        var row: [String] = []
        row.reserveCapacity(fields.count + 2)
        for index in 0..<customers.count {
            row.removeAll(keepingCapacity: true)
            row.append(customers.ids[index])
            for field in fields {
                if field.isCategorical {
                    row.append(customers.category(field.index, index))
                } else {
                    let number = customers.numbers[field.index][index]
                    if number.isNaN {
                        row.append("")
                    } else {
                        switch field.type {
                        case .boolean: row.append(number != 0 ? "true" : "false")
                        case .date: row.append(CalendarDay.text(days: Int(number)))
                        default: row.append(Self.format(number))
                        }
                    }
                }
            }
            if let churned { row.append(churned[index] ? schema.label.positive[0] : schema.label.negative[0]) }
            if let extra { row.append(extra.values[index]) }
            try writer.write(row)
        }
        try writer.close()
    }

    /// A number as files write it: whole numbers without a fraction.
    public static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
