/// A JSON-RPC request id: a string or a number chosen by the caller and echoed in the response.
///
/// JSON-RPC 2.0 requires the response to carry the same id as the request, so a number is kept
/// as the exact JSON text it arrived as (`7`, `9007199254740993`, `1.0`, `1e2`) and written back
/// byte for byte: it is never turned into a `Double` on the way.
public enum RPCID: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Number)
    case string(String)

    /// A JSON number as its text. Two numeric ids are the same id when their texts are equal:
    /// `1`, `1.0` and `1e0` are three different ids.
    public struct Number: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
        /// The JSON text, e.g. `42` or `1.5e3`.
        public let text: String

        /// An integer id, as this package's clients number their requests.
        public init(_ value: Int64) {
            text = String(value)
        }

        public init(integerLiteral value: Int64) {
            self.init(value)
        }

        /// The id `text` spells, when `text` is exactly one JSON number (RFC 8259 grammar, no
        /// surrounding whitespace); nil otherwise.
        public init?(text: String) {
            let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
            guard !text.utf8.contains(where: whitespace.contains), case .number? = try? JSONParser.parse(Array(text.utf8)) else {
                return nil
            }
            self.text = text
        }

        /// Text the parser has already read as one JSON number.
        init(parsedText: String) {
            text = parsedText
        }

        /// The text JSONWriter gives `value`: how an id read back from a `Double` is spelled.
        init(reading value: Double) {
            var bytes: [UInt8] = []
            JSONWriter.writeNumber(value, into: &bytes)
            text = String(decoding: bytes, as: UTF8.self)
        }

        public var description: String { text }
    }

    /// An id read through a generic decoder. Only the wire path (``JSONParser/parseMessage(_:)``)
    /// sees a number's text; a decoder hands over its value, so an integer keeps its digits and
    /// another number takes the shortest text of its `Double`.
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding {
            switch tree.jsonValue {
            case .string(let text):
                self = .string(text)
                return
            case .number(let value):
                self = .number(Number(reading: value))
                return
            default:
                break
            }
        } else {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                self = .number(Number(number))
                return
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
                return
            } else if let number = try? container.decode(Double.self) {
                self = .number(Number(reading: number))
                return
            }
        }
        throw DecodingError.typeMismatch(
            RPCID.self, .init(codingPath: decoder.codingPath, debugDescription: "id must be a string or a number"))
    }

    /// Encodes a number as the integer or `Double` its text spells: exact for the wire's
    /// writers (``writeJSON(into:)``), as close as a generic encoder allows otherwise.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number):
            if let integer = Int64(number.text) {
                try container.encode(integer)
            } else {
                try container.encode(Double(number.text) ?? 0)  // always a number: the text is JSON
            }
        case .string(let string): try container.encode(string)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): number.text
        case .string(let string): "\"\(string)\""
        }
    }
}

extension RPCID: JSONDirectWriting {
    /// Writes the id as it was sent: a number's text byte for byte.
    public func writeJSON(into output: inout [UInt8]) {
        switch self {
        case .number(let number): output.append(contentsOf: number.text.utf8)
        case .string(let text): JSONWriter.writeString(text, into: &output)
        }
    }
}

extension RPCID {
    /// The id of a parsed message: its `id` member, with the number's exact text from
    /// ``JSONParser/parseMessage(_:)``; nil unless the member is a string or a number.
    public init?(member: JSONValue, numericText: String?) {
        switch member {
        case .string(let text): self = .string(text)
        case .number(let value): self = .number(numericText.map(Number.init(parsedText:)) ?? Number(reading: value))
        default: return nil
        }
    }
}
