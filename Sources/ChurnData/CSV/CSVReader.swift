#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A streaming RFC 4180 CSV reader over bytes: reads a file in fixed chunks (memory stays flat
/// however large the file), handles a UTF-8 BOM, CRLF or LF line ends, quoted fields holding
/// commas, quotes and line breaks, and reports the physical line of every record.
///
/// Fields are handed out as byte slices valid only during the callback; nothing is copied
/// unless a quoted field needs its doubled quotes removed.
public struct CSVReader {
    public let file: String
    private let source: Source
    private let chunkSize: Int
    /// The longest record accepted; a longer one is an error naming its line.
    public let maximumRecordBytes: Int

    private enum Source {
        case path(String)
        case bytes([UInt8])
    }

    /// The size of the file being read, when it is a file.
    public var fileBytes: Int? {
        guard case .path(let path) = source else { return nil }
        return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    }

    /// Reads the file at `path`; `name` is what errors call it (default: the path).
    public init(path: String, name: String? = nil, chunkSize: Int = 1 << 20, maximumRecordBytes: Int = 1 << 20) {
        self.file = name ?? path
        self.source = .path(path)
        self.chunkSize = max(chunkSize, 64)
        self.maximumRecordBytes = maximumRecordBytes
    }

    /// Reads bytes in memory; `name` is what errors call them.
    public init(bytes: [UInt8], name: String, maximumRecordBytes: Int = 1 << 20) {
        self.file = name
        self.source = .bytes(bytes)
        self.chunkSize = max(bytes.count, 64)
        self.maximumRecordBytes = maximumRecordBytes
    }

    /// Calls `body` with every non-blank record, in order. Throws ``DataError/malformed(_:)``
    /// naming the line for broken CSV, or ``DataError/unreadable(file:reason:)``.
    public func forEachRecord(_ body: (borrowing CSVRecord) throws -> Void) throws {
        var parser = RecordParser(file: file, maximumRecordBytes: maximumRecordBytes)
        switch source {
        case .bytes(let bytes):
            try bytes.withUnsafeBufferPointer { try parser.feed($0, final: true, body) }
        case .path(let path):
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw DataError.unreadable(file: file, reason: String(cString: strerror(errno)))
            }
            defer { close(descriptor) }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw DataError.unreadable(file: file, reason: "it is a folder, not a file")
            }
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            var carried = 0
            while true {
                if carried == buffer.count {
                    // A record larger than the chunk: grow, bounded by the record limit.
                    buffer += [UInt8](repeating: 0, count: buffer.count)
                }
                let count = buffer.withUnsafeMutableBytes { raw in
                    read(descriptor, raw.baseAddress! + carried, raw.count - carried)
                }
                guard count >= 0 else {
                    throw DataError.unreadable(file: file, reason: String(cString: strerror(errno)))
                }
                let filled = carried + count
                let final = count == 0
                let consumed = try buffer.withUnsafeBufferPointer {
                    try parser.feed(UnsafeBufferPointer(rebasing: $0[0..<filled]), final: final, body)
                }
                if final { break }
                carried = filled - consumed
                if carried > 0, consumed > 0 {
                    buffer.withUnsafeMutableBytes { raw in
                        raw.baseAddress!.copyMemory(from: raw.baseAddress! + consumed, byteCount: carried)
                    }
                }
            }
        }
    }
}

extension CSVReader {
    /// The header of the file at `path` (its first record, trimmed), read without the rest; empty
    /// when the file cannot be read.
    public static func header(of path: String) -> [String] {
        struct Stop: Error {}
        var header: [String] = []
        try? CSVReader(path: path, chunkSize: 1 << 16).forEachRecord { record in
            header = (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }
            throw Stop()
        }
        return header
    }
}

/// One record during ``CSVReader/forEachRecord(_:)``.
public struct CSVRecord: ~Copyable {
    /// 1-based physical line where the record starts.
    public let line: Int
    let bytes: UnsafeBufferPointer<UInt8>
    let starts: UnsafeBufferPointer<Int>
    let ends: UnsafeBufferPointer<Int>
    let unescaped: [Int: [UInt8]]

    /// Fields in this record.
    public var count: Int { starts.count }

    /// Bytes the record spans, separators included (close to its length in the file).
    public var byteCount: Int { (ends.last ?? 0) - (starts.first ?? 0) + 1 }

    /// The raw bytes of field `index` (doubled quotes already removed).
    public func withField<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        if let copy = unescaped[index] { return try copy.withUnsafeBufferPointer(body) }
        return try body(UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]]))
    }

    /// Field `index` as text, or nil when its bytes are not valid UTF-8.
    public func string(_ index: Int) -> String? {
        withField(index) { String(validating: $0, as: UTF8.self) }
    }

    /// Field `index` as text, with invalid bytes replaced (for error messages).
    public func lossyString(_ index: Int) -> String {
        withField(index) { String(decoding: $0, as: UTF8.self) }
    }
}

/// The byte-level state machine behind ``CSVReader``.
struct RecordParser {
    let file: String
    let maximumRecordBytes: Int
    private var line = 1
    private var atFileStart = true
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var unescaped: [Int: [UInt8]] = [:]

    init(file: String, maximumRecordBytes: Int) {
        self.file = file
        self.maximumRecordBytes = maximumRecordBytes
        starts.reserveCapacity(64)
        ends.reserveCapacity(64)
    }

    private static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"),
        carriageReturn = UInt8(ascii: "\r")

    /// Parses complete records in `buffer`; returns how many bytes were consumed. With `final`,
    /// the rest is the last record (or an error if it is an unclosed quote).
    mutating func feed(
        _ buffer: UnsafeBufferPointer<UInt8>, final: Bool, _ body: (borrowing CSVRecord) throws -> Void
    ) throws -> Int {
        var position = 0
        if atFileStart {
            if buffer.count < 3, !final { return 0 }
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
            atFileStart = false
        }
        let count = buffer.count
        while position < count {
            let recordStart = position
            let recordLine = line
            var linesInRecord = 0
            starts.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            unescaped.removeAll(keepingCapacity: true)
            var cursor = position
            var complete = false
            var sawQuote = false
            fieldLoop: while true {
                if cursor < count, buffer[cursor] == Self.quote {
                    sawQuote = true
                    // Quoted field.
                    let fieldStart = cursor + 1
                    var scan = fieldStart
                    var hasDoubledQuote = false
                    while true {
                        guard scan < count else {
                            if final {
                                throw DataError.malformed(
                                    DataIssue(
                                        file: file, line: recordLine, column: "field \(starts.count + 1)",
                                        problem: "quoted field is never closed"))
                            }
                            break fieldLoop
                        }
                        let byte = buffer[scan]
                        if byte == Self.quote {
                            if scan + 1 < count, buffer[scan + 1] == Self.quote {
                                hasDoubledQuote = true
                                scan += 2
                                continue
                            }
                            if scan + 1 >= count, !final { break fieldLoop }
                            break
                        }
                        if byte == Self.newline { linesInRecord += 1 }
                        scan += 1
                    }
                    let fieldIndex = starts.count
                    starts.append(fieldStart)
                    ends.append(scan)
                    if hasDoubledQuote {
                        var copy: [UInt8] = []
                        copy.reserveCapacity(scan - fieldStart)
                        var index = fieldStart
                        while index < scan {
                            copy.append(buffer[index])
                            index += buffer[index] == Self.quote ? 2 : 1
                        }
                        unescaped[fieldIndex] = copy
                    }
                    cursor = scan + 1
                    // After a closing quote: a comma, a line end, or the end of input.
                    if cursor >= count {
                        if !final { break fieldLoop }
                        complete = true
                        break fieldLoop
                    }
                    switch buffer[cursor] {
                    case Self.comma:
                        cursor += 1
                        continue fieldLoop
                    case Self.newline:
                        cursor += 1
                        complete = true
                        break fieldLoop
                    case Self.carriageReturn:
                        if cursor + 1 >= count, !final { break fieldLoop }
                        cursor += (cursor + 1 < count && buffer[cursor + 1] == Self.newline) ? 2 : 1
                        complete = true
                        break fieldLoop
                    default:
                        throw DataError.malformed(
                            DataIssue(
                                file: file, line: recordLine, column: "field \(fieldIndex + 1)",
                                value: String(decoding: UnsafeBufferPointer(rebasing: buffer[fieldStart..<min(cursor + 1, count)]), as: UTF8.self),
                                problem: "unexpected character after a closing quote (quotes inside a field must be doubled)"))
                    }
                } else {
                    // Unquoted field: up to the next comma or line end.
                    var scan = cursor
                    while scan < count {
                        let byte = buffer[scan]
                        if byte == Self.comma || byte == Self.newline || byte == Self.carriageReturn { break }
                        scan += 1
                    }
                    if scan >= count, !final { break fieldLoop }
                    starts.append(cursor)
                    ends.append(scan)
                    if scan >= count {
                        cursor = scan
                        complete = true
                        break fieldLoop
                    }
                    let byte = buffer[scan]
                    if byte == Self.comma {
                        cursor = scan + 1
                        if cursor >= count, final {
                            starts.append(cursor)
                            ends.append(cursor)
                            complete = true
                            break fieldLoop
                        }
                        continue fieldLoop
                    }
                    if byte == Self.carriageReturn {
                        if scan + 1 >= count, !final { break fieldLoop }
                        cursor = scan + ((scan + 1 < count && buffer[scan + 1] == Self.newline) ? 2 : 1)
                    } else {
                        cursor = scan + 1
                    }
                    complete = true
                    break fieldLoop
                }
            }
            let seen = complete ? cursor - recordStart : count - recordStart
            if seen > maximumRecordBytes {
                throw DataError.malformed(
                    DataIssue(
                        file: file, line: recordLine,
                        problem: "record is longer than \(maximumRecordBytes) bytes (an unclosed quote, or not a CSV file?)"))
            }
            guard complete else { return recordStart }
            line += linesInRecord + 1
            position = cursor
            // Blank lines are skipped.
            if starts.count == 1, starts[0] == ends[0], !sawQuote { continue }
            try starts.withUnsafeBufferPointer { startPointer in
                try ends.withUnsafeBufferPointer { endPointer in
                    try body(
                        CSVRecord(
                            line: recordLine, bytes: buffer, starts: startPointer, ends: endPointer,
                            unescaped: unescaped))
                }
            }
        }
        return position
    }
}

extension CSVReader {
    /// The values of one column of the file at `path` by the physical line their record starts
    /// on (the `lines` of a ``Dataset`` read from the same file), trimmed. Throws
    /// ``DataError/missingColumns(file:columns:mapping:)`` when the header lacks the column.
    public static func column(_ name: String, of path: String) throws -> [Int: String] {
        var index: Int?
        var values: [Int: String] = [:]
        var isHeader = true
        try CSVReader(path: path).forEachRecord { record in
            if isHeader {
                isHeader = false
                index = (0..<record.count).first { record.lossyString($0).trimmingCharacters(in: .whitespaces) == name }
                if index == nil { throw DataError.missingColumns(file: path, columns: [name], mapping: "uplift") }
                return
            }
            if let index, index < record.count {
                values[record.line] = record.lossyString(index).trimmingCharacters(in: .whitespaces)
            }
        }
        if isHeader { throw DataError.empty(file: path) }
        return values
    }
}
