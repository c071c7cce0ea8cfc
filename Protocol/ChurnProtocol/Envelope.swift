/// A method of the churn protocol: its wire name and the types of its params and result.
///
/// Both the daemon and plugins declare their methods this way (one file per family in the
/// `DaemonMethods/` and `PluginMethods/` folders), so servers and clients share one definition.
public protocol RPCMethod: Sendable {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    /// The `method` string on the wire, e.g. `"predict"` or `"models.list"`.
    static var name: String { get }

    /// A smaller answer meaning the same, for a method whose work is done by the time it
    /// answers (a registration, recorded feedback), used when the full answer would exceed the
    /// frame limit: the caller must learn that the work happened. Nil (the default) for
    /// methods whose oversized answer can simply be refused.
    static func compacted(_ result: Result) -> Result?
}

extension RPCMethod {
    public static func compacted(_ result: Result) -> Result? { nil }
}

/// A notification the receiver does not answer (no `id`): how progress is streamed.
public protocol RPCNotificationMethod: Sendable {
    associatedtype Params: Codable & Sendable
    static var name: String { get }
}

/// Params of methods that take none. Encodes as `{}`; decoding ignores any members.
public struct NoParams: Codable, Sendable, Hashable {
    public init() {}
}

/// A JSON-RPC 2.0 request.
public struct RPCRequest<Params: Encodable & Sendable>: Encodable, Sendable {
    public let jsonrpc = "2.0"
    public var id: RPCID
    public var method: String
    public var params: Params

    public init(id: RPCID, method: String, params: Params) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A JSON-RPC 2.0 notification: a request without an id, never answered.
public struct RPCNotification<Params: Encodable & Sendable>: Encodable, Sendable {
    public let jsonrpc = "2.0"
    public var method: String
    public var params: Params

    public init(method: String, params: Params) {
        self.method = method
        self.params = params
    }
}

/// A successful JSON-RPC 2.0 response.
public struct RPCSuccessResponse<Result: Encodable & Sendable>: Encodable, Sendable {
    public let jsonrpc = "2.0"
    public var id: RPCID
    public var result: Result

    public init(id: RPCID, result: Result) {
        self.id = id
        self.result = result
    }
}

/// A failed JSON-RPC 2.0 response. `id` is null when the request's id could not be read.
public struct RPCErrorResponse: Encodable, Sendable {
    public let jsonrpc = "2.0"
    public var id: RPCID?
    public var error: RPCError

    public init(id: RPCID?, error: RPCError) {
        self.id = id
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        try container.encode(id, forKey: .id)  // explicit null, as JSON-RPC requires
        try container.encode(error, forKey: .error)
    }

    private enum CodingKeys: String, CodingKey { case jsonrpc, id, error }
}

/// The member names of a JSON-RPC envelope.
public enum EnvelopeKey: String, CodingKey, Sendable {
    case jsonrpc, id, method, params, result, error
}

extension Array where Element == any CodingKey {
    /// A coding path as a field path: `customers[2].tenure`.
    public var fieldPath: String {
        var path = ""
        for key in self {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path
    }
}

extension DecodingError {
    /// The field path and reason of a decoding failure, phrased for a person.
    public var fieldAndReason: (field: String, reason: String) {
        switch self {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).fieldPath
            return (path, "required field is missing")
        case .typeMismatch(let type, let context):
            return (context.codingPath.fieldPath, "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return (context.codingPath.fieldPath, "expected \(Self.describe(type)), got null")
        case .dataCorrupted(let context):
            return (context.codingPath.fieldPath, context.debugDescription)
        @unknown default:
            return ("", String(describing: self))
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}
