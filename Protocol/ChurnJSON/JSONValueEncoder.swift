/// Encodes `Encodable` values into a ``JSONValue`` tree (then ``JSONWriter`` writes it): the
/// fast JSON path's encoding half. Optional properties that are nil are left out, as
/// Foundation's encoder does with synthesized conformances.
public enum JSONValueEncoder {
    /// The tree of `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = TreeNode()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        return root.resolved
    }

    /// The compact JSON text of `value`.
    public static func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let direct = value as? any JSONDirectWriting {
            var output: [UInt8] = []
            output.reserveCapacity(256)
            direct.writeJSON(into: &output)
            return output
        }
        return JSONWriter.bytes(try encode(value))
    }
}

/// A value that writes its own compact JSON text, with no ``JSONValue`` tree in between: the
/// messages of the predict path, which are framed millions of times. Its text must equal what
/// its `Encodable` conformance produces.
public protocol JSONDirectWriting {
    /// Appends the value's JSON text to `output`.
    func writeJSON(into output: inout [UInt8])
}

/// An encoder that builds a ``JSONValue`` tree; see ``JSONTreeDecoding``.
public protocol JSONTreeEncoding: Encoder {
    /// Sets the value being encoded to `value` outright.
    func setJSONValue(_ value: JSONValue)
}

/// A node under construction: a finished value, or an object or array still being filled.
/// Members live in the node itself (not in an enum payload) so filling them never copies.
final class TreeNode {
    enum Kind { case empty, value, object, array }

    var kind: Kind = .empty
    var value: JSONValue = .null
    var members: [String: TreeNode] = [:]
    var elements: [TreeNode] = []

    var resolved: JSONValue {
        switch kind {
        case .empty: .object([:])
        case .value: value
        case .object: .object(members.mapValues(\.resolved))
        case .array: .array(elements.map(\.resolved))
        }
    }

    func setValue(_ newValue: JSONValue) {
        kind = .value
        value = newValue
    }

    func makeObject() {
        if kind != .object { kind = .object }
    }

    func makeArray() {
        if kind != .array { kind = .array }
    }

    func child(forKey key: String) -> TreeNode {
        makeObject()
        if let existing = members[key] { return existing }
        let node = TreeNode()
        members[key] = node
        return node
    }

    func set(_ value: JSONValue, forKey key: String) {
        child(forKey: key).setValue(value)
    }

    func appendChild() -> TreeNode {
        makeArray()
        let node = TreeNode()
        elements.append(node)
        return node
    }

    var count: Int { elements.count }
}

struct TreeEncoder: JSONTreeEncoding {
    let node: TreeNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func setJSONValue(_ value: JSONValue) {
        node.setValue(value)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(TreeKeyedEncodingContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return TreeUnkeyedEncodingContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        TreeSingleValueEncodingContainer(node: node, codingPath: codingPath)
    }
}

/// Scalars straight to values; everything else through its own `encode(to:)`.
enum TreeEncoding {
    static func value<T: Encodable>(_ value: T, into node: TreeNode, path: [any CodingKey]) throws {
        switch value {
        case let text as String: node.setValue(.string(text))
        case let number as Double: node.setValue(.number(number))
        case let number as Int: node.setValue(.number(Double(number)))
        case let flag as Bool: node.setValue(.bool(flag))
        default: try value.encode(to: TreeEncoder(node: node, codingPath: path))
        }
    }
}

struct TreeKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: TreeNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.set(.null, forKey: key.stringValue) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.set(.bool(value), forKey: key.stringValue) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.set(.string(value), forKey: key.stringValue) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.set(.number(value), forKey: key.stringValue) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.set(.number(Double(value)), forKey: key.stringValue) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try TreeEncoding.value(value, into: node.child(forKey: key.stringValue), path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = node.child(forKey: key.stringValue)
        child.makeObject()
        return KeyedEncodingContainer(TreeKeyedEncodingContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(forKey: key.stringValue)
        child.makeArray()
        return TreeUnkeyedEncodingContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

struct TreeUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let node: TreeNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.appendChild().setValue(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try TreeEncoding.value(value, into: node.appendChild(), path: codingPath + [TreeIndexKey(count)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = node.appendChild()
        child.makeObject()
        return KeyedEncodingContainer(TreeKeyedEncodingContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = node.appendChild()
        child.makeArray()
        return TreeUnkeyedEncodingContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.appendChild(), codingPath: codingPath)
    }
}

struct TreeSingleValueEncodingContainer: SingleValueEncodingContainer {
    let node: TreeNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.setValue(.null) }
    mutating func encode(_ value: Bool) throws { node.setValue(.bool(value)) }
    mutating func encode(_ value: String) throws { node.setValue(.string(value)) }
    mutating func encode(_ value: Double) throws { node.setValue(.number(value)) }
    mutating func encode(_ value: Float) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: Int) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: Int8) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: Int16) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: Int32) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: Int64) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: UInt) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: UInt8) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: UInt16) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: UInt32) throws { node.setValue(.number(Double(value))) }
    mutating func encode(_ value: UInt64) throws { node.setValue(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoding.value(value, into: node, path: codingPath) }
}
