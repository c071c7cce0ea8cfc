/// Reads a JSON document front to back, one piece at a time, for the messages the hot path reads
/// straight into their own types (``JSONDirectReading``) instead of through a ``JSONValue``
/// tree. Every read answers nil when the input is not what it expects, and the caller then gives
/// up and reads the message the ordinary way (``JSONParser``), which is where exact errors come
/// from: a direct reader only ever takes input the ordinary path would accept the same way.
public struct JSONReader {
    private var parser: JSONParser

    /// A reader at the start of `bytes`, which must stay valid while it is used.
    public init(_ bytes: UnsafeRawBufferPointer) {
        parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self))
    }

    /// True when only whitespace is left.
    public mutating func isAtEnd() -> Bool {
        parser.skipWhitespace()
        return parser.position == parser.bytes.count
    }

    /// Skips whitespace, then `byte` if it comes next (true) or nothing (false).
    public mutating func take(_ byte: UInt8) -> Bool {
        parser.skipWhitespace()
        guard parser.position < parser.bytes.count, parser.bytes[parser.position] == byte else { return false }
        parser.position += 1
        return true
    }

    /// The next byte after whitespace, without taking it.
    public mutating func peek() -> UInt8? {
        parser.skipWhitespace()
        return parser.position < parser.bytes.count ? parser.bytes[parser.position] : nil
    }

    /// A string, or nil when the next value is not one (or is not valid).
    public mutating func string() -> String? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        return try? parser.parseString()
    }

    /// A member name and its colon.
    public mutating func memberName() -> String? {
        guard let name = string(), take(UInt8(ascii: ":")) else { return nil }
        return name
    }

    /// A scalar (string, number, boolean or null) as a leaf of a tree; nil for an array, an
    /// object or bad input.
    public mutating func scalarValue() -> JSONValue? {
        switch peek() {
        case UInt8(ascii: "\"")?: return string().map(JSONValue.string)
        case UInt8(ascii: "{")?, UInt8(ascii: "[")?, nil: return nil
        default: return try? parser.parseValue(depth: 0)
        }
    }

    /// A number and the exact text it was written with (a JSON-RPC id is answered with its
    /// text); nil when the next value is not a number.
    public mutating func numberWithText() -> (value: Double, text: String)? {
        guard let next = peek(), next == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) else { return nil }
        let start = parser.position
        guard let value = try? parser.parseNumber() else { return nil }
        return (value, String(decoding: UnsafeBufferPointer(rebasing: parser.bytes[start..<parser.position]), as: UTF8.self))
    }

    /// A number, or nil when the next value is not one.
    public mutating func number() -> Double? {
        guard let next = peek(), next == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) else { return nil }
        return try? parser.parseNumber()
    }

    /// An optional string member's value: `.some(nil)` for null, nil for anything but a string.
    public mutating func optionalString() -> String?? {
        if peek() == UInt8(ascii: "n") { return literalNull() ? .some(nil) : nil }
        return string().map { .some($0) }
    }

    /// An optional boolean member's value: `.some(nil)` for null, nil for anything but a boolean.
    public mutating func optionalBool() -> Bool?? {
        switch scalarValue() {
        case .bool(let flag)?: .some(flag)
        case .null?: .some(nil)
        default: nil
        }
    }

    private mutating func literalNull() -> Bool {
        if case .null? = try? parser.parseValue(depth: 0) { return true }
        return false
    }
}

/// A type read straight from a message's bytes by a ``JSONReader``, with no tree in between.
/// `read(from:)` answers nil for anything it does not take exactly as the ordinary decoder
/// would; the message is then decoded the ordinary way, errors and all.
public protocol JSONDirectReading: Sendable {
    static func read(from reader: inout JSONReader) -> Self?
}
