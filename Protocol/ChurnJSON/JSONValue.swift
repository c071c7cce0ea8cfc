/// Any JSON value, for the parts of a message whose shape is open
/// (model parameters, metrics, error data, notification params).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding {
            self = tree.jsonValue
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            tree.setJSONValue(self)
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// The string, if this is a JSON string.
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    /// The number, if this is a JSON number.
    public var numberValue: Double? { if case .number(let value) = self { value } else { nil } }
    /// The members, if this is a JSON object.
    public var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    /// The elements, if this is a JSON array.
    public var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }

    /// A short rendering for error messages: strings quoted, long values cut.
    public var brief: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let value): text = String(value)
        case .number(let value):
            text = value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): text = "\"\(value)\""
        case .array(let value): text = "[\(value.count) values]"
        case .object(let value): text = "{\(value.count) fields}"
        }
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}
