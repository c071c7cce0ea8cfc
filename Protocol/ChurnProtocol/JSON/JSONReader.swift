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

    /// Any value, as a tree.
    public mutating func value() -> JSONValue? {
        parser.skipWhitespace()
        return try? parser.parseValue(depth: 0)
    }

    /// A scalar (string, number, boolean or null); nil for an array, an object or bad input.
    public mutating func scalar() -> FieldValue? {
        switch peek() {
        case UInt8(ascii: "\"")?: return string().map(FieldValue.string)
        case UInt8(ascii: "{")?, UInt8(ascii: "[")?, nil: return nil
        default:
            switch try? parser.parseValue(depth: 0) {
            case .number(let number)?: return .number(number)
            case .bool(let flag)?: return .bool(flag)
            case .null?: return .null
            default: return nil
            }
        }
    }

    /// A number, or nil when the next value is not one.
    public mutating func number() -> Double? {
        guard let next = peek(), next == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) else { return nil }
        return try? parser.parseNumber()
    }

    /// A JSON-RPC id: a string, or a number kept as its exact text.
    public mutating func requestID() -> RPCID? {
        guard let next = peek() else { return nil }
        switch next {
        case UInt8(ascii: "\""): return string().map(RPCID.string)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = parser.position
            guard (try? parser.parseNumber()) != nil else { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: parser.bytes[start..<parser.position]), as: UTF8.self)
            return .number(RPCID.Number(parsedText: text))
        default: return nil
        }
    }

    /// An optional string member's value: `.some(nil)` for null, nil for anything but a string.
    public mutating func optionalString() -> String?? {
        if peek() == UInt8(ascii: "n") { return literalNull() ? .some(nil) : nil }
        return string().map { .some($0) }
    }

    /// An optional boolean member's value: `.some(nil)` for null, nil for anything but a boolean.
    public mutating func optionalBool() -> Bool?? {
        switch scalar() {
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
