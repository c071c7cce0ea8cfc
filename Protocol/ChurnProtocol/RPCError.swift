/// The error object of a JSON-RPC response, and the error type every churn method throws.
///
/// `code` is one of ``RPCErrorCode``; `message` is one sentence a person can act on;
/// `data` carries machine-readable context (the offending field, the plugin, the row).
public struct RPCError: Error, Sendable, Codable, Hashable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public init(_ code: RPCErrorCode, _ message: String, data: JSONValue? = nil) {
        self.init(code: code.rawValue, message: message, data: data)
    }

    /// The known code, if `code` is one of ours or JSON-RPC's.
    public var knownCode: RPCErrorCode? { RPCErrorCode(rawValue: code) }

    public var description: String { "\(message) (\(code))" }
}

/// Error codes: JSON-RPC 2.0's standard ones, then the project's own in the
/// implementation-defined range -32000...-32099. `Protocol/PROTOCOL.md` lists them all.
public enum RPCErrorCode: Int, Sendable, CaseIterable {
    // JSON-RPC 2.0
    /// The frame is not valid UTF-8 JSON.
    case parseError = -32700
    /// The JSON is not a request object (or the frame itself is malformed).
    case invalidRequest = -32600
    /// No such method.
    case methodNotFound = -32601
    /// The params do not fit the method; `data.field` names the offending field.
    case invalidParams = -32602
    /// A bug or an unexpected failure inside the server.
    case internalError = -32603

    // churn
    /// No plugin of the needed kind is running (not installed, refused, or restarting).
    case pluginUnavailable = -32000
    /// The plugin process died or closed its socket while handling the request.
    case pluginCrashed = -32001
    /// The request took longer than its deadline.
    case timeout = -32002
    /// The daemon is shutting down and takes no new work.
    case shuttingDown = -32003
    /// A plugin answered with another protocol version or an invalid handshake.
    case protocolMismatch = -32004
    /// The named model, version or alias does not exist.
    case modelNotFound = -32010
    /// No champion is set, so there is nothing to route to.
    case noChampion = -32011
    /// A stored artifact failed its checksum or size check; nothing is served from it.
    case integrityFailure = -32012
    /// Input data (a CSV file or customer records) has errors; `data.errors` lists them with row and column.
    case invalidData = -32013
    /// The request conflicts with the current state (e.g. deleting an aliased version).
    case conflict = -32014
    /// The plugin does not support this operation (see its `capabilities`).
    case notSupported = -32015
    /// A file the request names cannot be read or written.
    case fileError = -32016
    /// The caller's user lacks the role the method needs (changing methods need the admin role).
    case permissionDenied = -32017
}

extension RPCError {
    /// -32700: the payload is not valid UTF-8 JSON.
    public static func parseError(_ detail: String) -> RPCError {
        RPCError(.parseError, "parse error: \(detail)")
    }

    /// -32700 for bytes that are not JSON: the message says what and where, `data.offset` is
    /// the byte where reading stopped and `data.path` the value it was in (`params.customers[2]`;
    /// empty at the top level).
    public static func parseError(_ error: JSONSyntaxError) -> RPCError {
        RPCError(
            .parseError, "parse error: \(error)",
            data: ["offset": .number(Double(error.offset)), "path": .string(error.path)])
    }

    /// -32600: the payload is JSON but not a valid request.
    public static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(.invalidRequest, "invalid request: \(detail)")
    }

    /// -32601: unknown method.
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "unknown method \"\(method)\"", data: ["method": .string(method)])
    }

    /// -32602 naming the offending field by its path inside `params` (e.g. `customers[2].tenure`).
    public static func invalidParams(field: String, _ reason: String) -> RPCError {
        RPCError(
            .invalidParams, field.isEmpty ? "invalid params: \(reason)" : "invalid params: \(field): \(reason)",
            data: ["field": .string(field), "reason": .string(reason)])
    }

    /// -32603: an unexpected failure.
    public static func internalError(_ detail: String) -> RPCError {
        RPCError(.internalError, "internal error: \(detail)")
    }
}

/// An error a domain layer can turn into a protocol error with its context intact.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    public var rpcError: RPCError { self }
}
