import ChurnProtocol
import Foundation

/// Writes RFC 4180 CSV (LF line ends; fields quoted only when they must be), buffered.
public struct CSVWriter: ~Copyable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    public let path: String
    /// Bytes in the file once what is buffered is flushed.
    public private(set) var offset: UInt64 = 0

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(DataError) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .unreadable(file: path, reason: "cannot create the file")
        }
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    /// Opens the existing file at `path`, cut to its first `offset` bytes, to append after them
    /// (continuing an interrupted write).
    public init(path: String, truncatingTo offset: UInt64) throws(DataError) {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw .unreadable(file: path, reason: "cannot open the file to continue it") }
        do {
            let size = try handle.seekToEnd()
            guard size >= offset else {
                throw DataError.unreadable(file: path, reason: "it holds \(size) bytes, fewer than the \(offset) written before: it was changed")
            }
            try handle.truncate(atOffset: offset)
            try handle.seek(toOffset: offset)
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(file: path, reason: "cannot continue it: \(error.localizedDescription)")
        }
        self.handle = handle
        self.path = path
        self.offset = offset
        buffer.reserveCapacity(1 << 16)
    }

    /// Writes to standard output; `name` is what errors call it.
    public init(standardOutputNamed name: String) {
        handle = FileHandle.standardOutput
        path = name
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends one row.
    public mutating func write(_ fields: [String]) throws(DataError) {
        let before = buffer.count
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            Self.appendField(field, to: &buffer)
        }
        buffer.append(UInt8(ascii: "\n"))
        offset += UInt64(buffer.count - before)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Appends one row whose fields `body` adds, straight into the buffer (no array of
    /// strings per row: for writers of millions of rows).
    public mutating func writeRow(_ body: (inout CSVRow) -> Void) throws(DataError) {
        var row = CSVRow(bytes: buffer)
        buffer = []
        let before = row.bytes.count
        body(&row)
        row.bytes.append(UInt8(ascii: "\n"))
        offset += UInt64(row.bytes.count - before)
        buffer = row.bytes
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
        var field = field
        field.withUTF8 { bytes in
            var needsQuotes = false
            for byte in bytes where byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0A || byte == 0x0D {
                needsQuotes = true
                break
            }
            guard needsQuotes else {
                output.append(contentsOf: bytes)
                return
            }
            output.append(UInt8(ascii: "\""))
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { output.append(byte) }
                output.append(byte)
            }
            output.append(UInt8(ascii: "\""))
        }
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

/// One row being written by ``CSVWriter/writeRow(_:)``.
public struct CSVRow {
    var bytes: [UInt8]
    private var first = true

    init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func separate() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    /// Adds a text field (quoted when it must be).
    public mutating func field(_ text: String) {
        separate()
        CSVWriter.appendField(text, to: &bytes)
    }

    /// Adds a number in [0, 1] (or any non-negative number) with six decimals, `0.042517`.
    public mutating func fixed6(_ value: Double) {
        separate()
        guard value.isFinite, value >= 0, value < 1e12 else {
            CSVWriter.appendField(String(value), to: &bytes)
            return
        }
        let scaled = Int((value * 1_000_000).rounded())
        DecimalText.append(scaled / 1_000_000, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        DecimalText.append(scaled % 1_000_000, minimum: 6, to: &bytes)
    }
}
