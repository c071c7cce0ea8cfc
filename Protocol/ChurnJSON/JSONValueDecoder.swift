/// Decodes `Decodable` types from a parsed ``JSONValue`` tree: the typed half of the fast JSON
/// path (``JSONParser`` is the other). Errors are `DecodingError`s with the full coding path,
/// so `fieldAndReason` names the field exactly as Foundation's decoder would.
public enum JSONValueDecoder {
    /// Decodes a `T` from `value`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: TreeDecoder(value: value, codingPath: []))
    }

    /// Parses `bytes` and decodes a `T`.
    public static func decode<T: Decodable, Bytes: Collection>(_ type: T.Type, fromJSON bytes: Bytes) throws -> T
    where Bytes.Element == UInt8 {
        try decode(type, from: try JSONParser.parse(bytes))
    }
}

/// A decoder or encoder backed by a ``JSONValue`` tree. Types whose wire form is any JSON
/// (``JSONValue``, ``FieldValue``, ``CustomerRecord``) read or write the tree directly through
/// it instead of probing with failing `try?` decodes.
public protocol JSONTreeDecoding: Decoder {
    /// The value being decoded.
    var jsonValue: JSONValue { get }
}

struct TreeDecoder: JSONTreeDecoding {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var jsonValue: JSONValue { value }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch(
                [String: Any].self, .init(codingPath: codingPath, debugDescription: "expected an object"))
        }
        return KeyedDecodingContainer(TreeKeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch(
                [Any].self, .init(codingPath: codingPath, debugDescription: "expected an array"))
        }
        return TreeUnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TreeSingleValueContainer(value: value, codingPath: codingPath)
    }
}

/// Scalar conversions shared by the containers.
enum TreeScalar {
    static func mismatch<T>(_ type: T.Type, _ path: [any CodingKey], _ value: JSONValue) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "got null"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "got \(value.brief)"))
    }

    static func bool(_ value: JSONValue, _ path: [any CodingKey]) throws -> Bool {
        if case .bool(let flag) = value { return flag }
        throw mismatch(Bool.self, path, value)
    }

    static func string(_ value: JSONValue, _ path: [any CodingKey]) throws -> String {
        if case .string(let text) = value { return text }
        throw mismatch(String.self, path, value)
    }

    static func double(_ value: JSONValue, _ path: [any CodingKey]) throws -> Double {
        if case .number(let number) = value { return number }
        throw mismatch(Double.self, path, value)
    }

    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        if case .number(let number) = value, number.rounded(.towardZero) == number, let exact = T(exactly: number) {
            return exact
        }
        throw mismatch(type, path, value)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        switch type {
        case is String.Type: return try string(value, path) as! T
        case is Double.Type: return try double(value, path) as! T
        case is Int.Type: return try integer(Int.self, value, path) as! T
        case is Bool.Type: return try bool(value, path) as! T
        default: return try T(from: TreeDecoder(value: value, codingPath: path))
        }
    }
}

struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "required field is missing"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try value(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try TreeScalar.bool(try value(key), codingPath + [key])
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try TreeScalar.string(try value(key), codingPath + [key])
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try TreeScalar.double(try value(key), codingPath + [key])
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try TreeScalar.double(try value(key), codingPath + [key]))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try TreeScalar.integer(type, try value(key), codingPath + [key])
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try TreeScalar.integer(type, try value(key), codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TreeScalar.decode(type, try value(key), codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try TreeScalar.decode(type, value, codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(value: .object(members), codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

struct TreeIndexKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ index: Int) {
        intValue = index
        stringValue = String(index)
    }
    init?(intValue: Int) { self.init(intValue) }
    init?(stringValue: String) { return nil }
}

struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next<T>(_ type: T.Type) throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [TreeIndexKey(currentIndex)], debugDescription: "array too short"))
        }
        let path = codingPath + [TreeIndexKey(currentIndex)]
        let value = elements[currentIndex]
        currentIndex += 1
        return (value, path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next(type)
        return try TreeScalar.decode(type, value, path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let (value, path) = try next([String: Any].self)
        return try TreeDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next([Any].self)
        return try TreeDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next(JSONValue.self)
        return TreeDecoder(value: value, codingPath: path)
    }
}

struct TreeSingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }
    func decode(_ type: Bool.Type) throws -> Bool { try TreeScalar.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try TreeScalar.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try TreeScalar.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try TreeScalar.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try TreeScalar.integer(type, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try TreeScalar.integer(type, value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try TreeScalar.decode(type, value, codingPath) }
}
