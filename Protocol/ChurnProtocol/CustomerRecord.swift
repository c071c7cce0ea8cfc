/// One customer as it travels on the wire: the fields of a model's dataset schema by name (its
/// id field and its input fields), each a string, number, boolean or null.
///
/// The protocol keeps records open: which fields a record needs is the model's schema's
/// business (`models.get` returns it); `ChurnData` checks a record against it and names every
/// bad field.
public struct CustomerRecord: Sendable, Hashable {
    /// The fields by name, as received.
    public var fields: [String: FieldValue]
    /// The customer's months, given inline (the `history` member: an array of objects of a
    /// `period` and the panel's columns), for models that read a monthly panel.
    public var history: [[String: FieldValue]]?

    /// The member of a record that holds its months (never a field name).
    public static let historyKey = "history"

    public init(_ fields: [String: FieldValue], history: [[String: FieldValue]]? = nil) {
        self.fields = fields
        self.history = history
    }

    public subscript(name: String) -> FieldValue? {
        get { fields[name] }
        set { fields[name] = newValue }
    }

}

extension CustomerRecord: Codable {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding {
            guard case .object(let members) = tree.jsonValue else {
                throw DecodingError.typeMismatch(
                    [String: Any].self, .init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
            }
            if let record = Self.records(fromJSON: [.object(members)])?.first {
                self = record
                return
            }
            // Some member is an array or object: name it.
            for (name, value) in members where name != Self.historyKey {
                switch value {
                case .array, .object:
                    throw DecodingError.typeMismatch(
                        FieldValue.self,
                        .init(
                            codingPath: decoder.codingPath + [FieldKey(name)],
                            debugDescription: "expected a string, a number, true/false or null"))
                case .string, .number, .bool, .null: continue
                }
            }
        }
        let container = try decoder.container(keyedBy: FieldKey.self)
        var fields: [String: FieldValue] = [:]
        var history: [[String: FieldValue]]?
        for key in container.allKeys {
            if key.stringValue == Self.historyKey {
                history = try container.decode([[String: FieldValue]].self, forKey: key)
            } else {
                fields[key.stringValue] = try container.decode(FieldValue.self, forKey: key)
            }
        }
        self.fields = fields
        self.history = history
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            tree.setJSONValue(jsonValue)
            return
        }
        var container = encoder.container(keyedBy: FieldKey.self)
        for (name, value) in fields { try container.encode(value, forKey: FieldKey(name)) }
        if let history { try container.encode(history, forKey: FieldKey(Self.historyKey)) }
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

/// A field name as a coding key, for error paths.
struct FieldKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension FieldValue {
    /// The value as JSON.
    public var jsonValue: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .number(let number): .number(number)
        case .bool(let flag): .bool(flag)
        case .null: .null
        }
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding {
            switch tree.jsonValue {
            case .string(let text): self = .string(text)
            case .number(let number): self = .number(number)
            case .bool(let flag): self = .bool(flag)
            case .null: self = .null
            case .array, .object:
                throw DecodingError.typeMismatch(
                    FieldValue.self,
                    .init(codingPath: decoder.codingPath, debugDescription: "expected a string, a number, true/false or null"))
            }
            return
        }
        let container = try decoder.singleValueContainer()
        // Most telco fields are strings, then numbers: try them in that order, since every
        // failed attempt costs a thrown error.
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
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
