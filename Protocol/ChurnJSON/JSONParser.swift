/// Why bytes are not JSON, with the byte offset where parsing stopped and the path of the
/// value it was in (`params.customers[2]`; empty at the top level).
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    /// Where in the document: member names and array indices from the top, as in
    /// `params.customers[2].tenure`; empty for the top-level value.
    public var path: String = ""

    public var description: String { path.isEmpty ? "\(reason) at byte \(offset)" : "\(path): \(reason) at byte \(offset)" }

    /// The longest path kept, and the longest member name in it: a hostile frame (deep nesting,
    /// long names) must not make its error cost more than the frame. Past them the outer levels
    /// are left out (`….inner[3].name`) and a name is cut (`averyl...`).
    static let maximumPathLength = 300
    static let maximumNameLength = 60
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes, producing ``JSONValue``.
///
/// It exists because the protocol's hot path (a frame per request, three processes per
/// prediction) cannot afford Foundation's decoder: see `Protocol/PROTOCOL.md` and the `rpc`
/// benchmark. Strings are checked to be valid UTF-8; nesting is limited to 512 levels so hostile
/// input cannot exhaust the stack. A member name that appears twice in one object is refused
/// (RFC 8259 leaves its meaning open: one reader takes the first, another the last), naming the
/// member and where it is.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 512

    /// Parses one JSON value that must span all of `bytes` (whitespace aside).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self))
        return try parser.parseDocument()
    }

    /// Parses a JSON-RPC message as `parse(_:)` does, and keeps the exact text of its
    /// top-level `id` member when that is a number: the answer must carry the id as it was sent,
    /// and a `Double` would turn `9007199254740993` into `9007199254740992` and `1.0` into `1`.
    public static func parseMessage(
        _ bytes: UnsafeRawBufferPointer
    ) throws(JSONSyntaxError) -> (message: JSONValue, numericIDText: String?) {
        var parser = JSONParser(bytes: bytes.bindMemory(to: UInt8.self))
        parser.keepsIDText = true
        let message = try parser.parseDocument()
        return (message, parser.idText)
    }

    /// Parses one JSON value from a byte collection.
    public static func parse<Bytes: Collection>(_ bytes: Bytes) throws(JSONSyntaxError) -> JSONValue
    where Bytes.Element == UInt8 {
        let result: Result<JSONValue, JSONSyntaxError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        let parsed = copy.withUnsafeBytes { raw in Result { () throws(JSONSyntaxError) in try parse(raw) } }
        return try parsed.get()
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Members of the objects being parsed, innermost last: an object's members are collected
    /// here and put into a dictionary sized for them once, instead of growing one (and
    /// rehashing every key) member by member.
    private var pendingMembers: [(key: String, value: JSONValue, keyOffset: Int)] = []

    /// Whether to keep the text of the top-level `id` member when it is a number (in ``idText``).
    private var keepsIDText = false
    private var idText: String?

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses the whole input; an error says the path of the value it is in.
    private mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        do throws(JSONSyntaxError) {
            skipWhitespace()
            let value = try parseValue(depth: 0)
            skipWhitespace()
            guard position == bytes.count else { throw fail("unexpected text after the JSON value") }
            return value
        } catch {
            var located = error
            located.path = Self.path(to: error.offset, in: bytes)
            throw located
        }
    }

    /// The path (`params.customers[2]`) of the value being read at `offset`, found by scanning
    /// the input up to there once more. Only an error needs it, so valid input pays nothing for
    /// paths (noting them while parsing cost the predict path 8%). At a member name (a repeated
    /// one) it is the path of the object.
    static func path(to offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        /// An object, with where the name of the member whose value is being read is (nil
        /// before its colon), or an array, with the index of the element being read.
        enum Container {
            case object(member: ClosedRange<Int>?)
            case array(index: Int)
        }
        var stack: [Container] = []
        var name = 0...0  // where the last string read where a member name goes is, quotes included
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < end, bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                if case .object(member: nil)? = stack.last, index < end { name = start...index }
            case UInt8(ascii: ":"):
                if case .object? = stack.last { stack[stack.count - 1] = .object(member: name) }
            case UInt8(ascii: ","):
                switch stack.last {
                case .object?: stack[stack.count - 1] = .object(member: nil)
                case .array(let element)?: stack[stack.count - 1] = .array(index: element + 1)
                case nil: break
                }
            case UInt8(ascii: "{"): stack.append(.object(member: nil))
            case UInt8(ascii: "["): stack.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            default: break
            }
            index += 1
        }
        // Innermost first, so that a long path keeps its inner end.
        var path = ""
        for container in stack.reversed() {
            let component: String
            switch container {
            case .object(member: nil): continue
            case .object(member: let quoted?):
                var reader = JSONParser(bytes: UnsafeBufferPointer(rebasing: bytes[quoted]))
                let member = (try? reader.parseString()) ?? "?"
                component =
                    member.utf8.count > JSONSyntaxError.maximumNameLength
                    ? String(decoding: member.utf8.prefix(JSONSyntaxError.maximumNameLength - 3), as: UTF8.self) + "..." : member
            case .array(let element): component = "[\(element)]"
            }
            let joined = component + (path.isEmpty || path.hasPrefix("[") ? path : "." + path)
            guard joined.utf8.count <= JSONSyntaxError.maximumPathLength else {
                return "…" + (path.hasPrefix("[") ? path : "." + path)
            }
            path = joined
        }
        return path
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: reason)
    }

    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end of input") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != start[offset] {
            throw fail("invalid literal")
        }
        position += count
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object([:])
        }
        let first = pendingMembers.count
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw fail("expected a member name in quotes")
            }
            let keyOffset = position
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            skipWhitespace()
            let valueOffset = position
            let value = try parseValue(depth: depth)
            if depth == 1, keepsIDText, case .number = value, key == "id" {
                idText = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueOffset..<position]), as: UTF8.self)
            }
            pendingMembers.append((key, value, keyOffset))
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input in an object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if bytes[position] == UInt8(ascii: "}") {
                position += 1
                var members = [String: JSONValue](minimumCapacity: pendingMembers.count - first)
                for index in first..<pendingMembers.count {
                    let (key, value, keyOffset) = pendingMembers[index]
                    if members.updateValue(value, forKey: key) != nil {
                        throw JSONSyntaxError(
                            offset: keyOffset,
                            reason: "member \(JSONValue.string(key).brief) appears twice in one object (send each name once)")
                    }
                }
                pendingMembers.removeSubrange(first...)
                return .object(members)
            }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input in an array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes.
        var highBits: UInt8 = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                // ASCII is valid UTF-8 as it stands: skip the (generic, slower) validation.
                if highBits < 0x80 { return String(decoding: slice, as: UTF8.self) }
                if let text = String(validating: slice, as: UTF8.self) { return text }
                position = start
                throw fail("string is not valid UTF-8")
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("control character in a string") }
            highBits |= byte
            position += 1
        }
        // Slow path: unescape.
        var buffer: [UInt8] = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    position = start
                    throw fail("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw fail("unexpected end of input in a string") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u")
                        else { throw fail("unpaired surrogate in a \\u escape") }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate in a \\u escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    buffer.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("invalid escape")
                }
            default:
                if byte < 0x20 { throw fail("control character in a string") }
                buffer.append(byte)
                position += 1
            }
        }
        throw fail("unexpected end of input in a string")
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("unexpected end of input in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> Double {
        let start = position
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid number") }
        var mantissa: UInt64 = 0
        var digits = 0
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, isDigit(bytes[position]) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[position] - 48) }
                digits += 1
                position += 1
            }
        }
        var exponent = 0
        var simple = digits <= 15
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) {
                if digits < 15 {
                    mantissa = mantissa * 10 + UInt64(bytes[position] - 48)
                    exponent -= 1
                    if mantissa != 0 || digits > 0 { digits += 1 }
                } else {
                    simple = false
                }
                position += 1
            }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            simple = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw fail("invalid number") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if simple, exponent >= -22 {
            // Exact: a mantissa under 2^53 and a power of ten that Double holds exactly.
            let value = exponent == 0 ? Double(mantissa) : Double(mantissa) / Self.powersOfTen[-exponent]
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw fail("number out of range") }
        return value
    }

    @inline(__always) private func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}
