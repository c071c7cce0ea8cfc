/// One customer as it travels on the wire: telco fields by their CSV names
/// (`customerID`, `tenure`, `Contract`, ...), each a string, number, boolean or null.
///
/// The protocol keeps records open so that clients may send any mapped column set;
/// `ChurnData` validates a record into a typed customer and names every bad field.
public struct CustomerRecord: Sendable, Hashable {
    /// The fields by name, as received.
    public var fields: [String: FieldValue]

    public init(_ fields: [String: FieldValue]) {
        self.fields = fields
    }

    public subscript(name: String) -> FieldValue? {
        get { fields[name] }
        set { fields[name] = newValue }
    }

    /// The `customerID` field as text, when present.
    public var customerID: String? {
        switch fields["customerID"] {
        case .string(let id): id
        case .number(let number): FieldValue.number(number).text
        default: nil
        }
    }
}

extension CustomerRecord: Codable {
    public init(from decoder: any Decoder) throws {
        self.fields = try decoder.singleValueContainer().decode([String: FieldValue].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(fields)
    }
}

extension CustomerRecord: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self.fields = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }
}

/// A scalar field value of a customer record.
public enum FieldValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// The value as it would appear in a CSV cell (`nil` for null).
    public var text: String? {
        switch self {
        case .string(let text): return text
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return nil
        }
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            throw DecodingError.typeMismatch(
                FieldValue.self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected a string, a number, true/false or null"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .null: try container.encodeNil()
        }
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}
