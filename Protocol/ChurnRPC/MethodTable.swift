import ChurnProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// The methods a server answers, each with typed params and result.
///
/// Registering a method with its ``RPCMethod`` type makes the server decode the request's
/// `params` straight into `M.Params` in one pass over the frame, answer -32602 naming the
/// field when they do not fit, and encode `M.Result` into the response.
public struct RPCMethodTable: Sendable {
    fileprivate var handlers: [String: AnyMethodHandler] = [:]

    public init() {}

    /// Adds (or replaces) the handler of `method`.
    public mutating func register<M: RPCMethod>(
        _ method: M.Type,
        _ handler: @escaping @Sendable (M.Params, RPCCallContext) async throws -> M.Result
    ) {
        handlers[M.name] = AnyMethodHandler(method: method, handler: handler)
    }

    /// The registered method names, sorted.
    public var methodNames: [String] { handlers.keys.sorted() }
}

/// What a handler knows about the call it serves.
public struct RPCCallContext: Sendable {
    /// The request's id (nil for a notification).
    public let requestID: RPCID?
    /// The method name.
    public let method: String
    /// Who is on the other end of the socket, when the OS tells.
    public let peer: PeerCredentials?
    public let logger: Logger
    let sendNotification: @Sendable (ByteBuffer) async -> Void

    public init(
        requestID: RPCID?, method: String, peer: PeerCredentials?, logger: Logger,
        sendNotification: @escaping @Sendable (ByteBuffer) async -> Void
    ) {
        self.requestID = requestID
        self.method = method
        self.peer = peer
        self.logger = logger
        self.sendNotification = sendNotification
    }

    /// Sends a notification to the caller on the same connection, ahead of the response.
    public func notify<N: RPCNotificationMethod>(_ notification: N.Type, _ params: N.Params) async {
        guard
            let frame = try? JSONEncoder().encodeAsByteBuffer(
                RPCNotification(method: N.name, params: params), allocator: ByteBufferAllocator())
        else { return }
        await sendNotification(frame)
    }

    /// Sends a `progress` notification tagged with this request's id.
    public func progress(
        stage: String, step: Int, total: Int? = nil, message: String, metrics: [String: Double]? = nil
    ) async {
        guard let requestID else { return }
        await notify(
            ProgressNotification.self,
            ProgressUpdate(request: requestID, stage: stage, step: step, total: total, message: message, metrics: metrics))
    }
}

// MARK: - Type erasure

struct AnyMethodHandler: Sendable {
    /// Decodes `params` (or `{}` when absent) into the method's params type.
    let decodeParams: @Sendable (KeyedDecodingContainer<EnvelopeKey>) throws -> any Sendable
    /// Runs the handler and encodes the whole response frame.
    let invoke: @Sendable (any Sendable, RPCCallContext) async -> Result<ByteBuffer, RPCError>

    init<M: RPCMethod>(
        method: M.Type,
        handler: @escaping @Sendable (M.Params, RPCCallContext) async throws -> M.Result
    ) {
        decodeParams = { container in
            guard container.contains(.params) else {
                do {
                    return try JSONDecoder().decode(M.Params.self, from: Data("{}".utf8))
                } catch let error as DecodingError {
                    throw RPCError.invalidParams(
                        field: error.fieldAndReason.field, "params are required (\(error.fieldAndReason.reason))")
                }
            }
            do {
                return try container.decode(M.Params.self, forKey: .params)
            } catch let error as DecodingError {
                var (field, reason) = error.fieldAndReason
                if field == "params" {
                    field = ""
                    if case .typeMismatch = error { reason = "params must be a JSON object" }
                } else if field.hasPrefix("params.") {
                    field.removeFirst("params.".count)
                }
                throw RPCError.invalidParams(field: field, reason)
            }
        }
        invoke = { params, context in
            do {
                let result = try await handler(params as! M.Params, context)
                guard let id = context.requestID else { return .success(ByteBuffer()) }
                let frame = try JSONEncoder().encodeAsByteBuffer(
                    RPCSuccessResponse(id: id, result: result), allocator: ByteBufferAllocator())
                return .success(frame)
            } catch let error as RPCErrorConvertible {
                return .failure(error.rpcError)
            } catch is CancellationError {
                return .failure(RPCError(.shuttingDown, "the request was cancelled"))
            } catch {
                context.logger.error(
                    "unexpected error", metadata: ["method": "\(context.method)", "error": "\(error)"])
                return .failure(.internalError(String(describing: error)))
            }
        }
    }
}

/// A decoded incoming message: a call to dispatch, or an error to answer.
struct IncomingMessage: Decodable {
    enum Kind {
        case call(id: RPCID?, method: String, params: any Sendable, handler: AnyMethodHandler)
        case rejected(id: RPCID?, error: RPCError, isNotification: Bool)
    }

    let kind: Kind

    static let tableKey = CodingUserInfoKey(rawValue: "churn.methodTable")!

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: EnvelopeKey.self) else {
            kind = .rejected(
                id: nil,
                error: .invalidRequest("expected a JSON-RPC request object (batch arrays are not supported; pipeline requests instead)"),
                isNotification: false)
            return
        }
        let isNotification = !container.contains(.id)
        var id: RPCID?
        if !isNotification, !((try? container.decodeNil(forKey: .id)) ?? false) {
            guard let decoded = try? container.decode(RPCID.self, forKey: .id) else {
                kind = .rejected(
                    id: nil, error: .invalidRequest("\"id\" must be a string or an integer"), isNotification: false)
                return
            }
            id = decoded
        }
        guard (try? container.decode(String.self, forKey: .jsonrpc)) == "2.0" else {
            kind = .rejected(
                id: id, error: .invalidRequest("\"jsonrpc\" must be \"2.0\""), isNotification: isNotification)
            return
        }
        guard let method = try? container.decode(String.self, forKey: .method) else {
            let error: RPCError =
                container.contains(.result) || container.contains(.error)
                ? .invalidRequest("expected a request, got a response")
                : .invalidRequest("\"method\" must be a string")
            kind = .rejected(id: id, error: error, isNotification: false)
            return
        }
        let table = decoder.userInfo[Self.tableKey] as? RPCMethodTable
        guard let handler = table?.handlers[method] else {
            kind = .rejected(id: id, error: .methodNotFound(method), isNotification: isNotification)
            return
        }
        do {
            let params = try handler.decodeParams(container)
            kind = .call(id: id, method: method, params: params, handler: handler)
        } catch let error as RPCError {
            kind = .rejected(id: id, error: error, isNotification: isNotification)
        }
    }
}

extension RPCMethodTable {
    /// Decodes one frame and runs its handler. Returns the response frame to send, or nil
    /// for a notification (which is never answered, not even with an error).
    func respond(
        to frame: ByteBuffer, peer: PeerCredentials?, logger: Logger,
        sendNotification: @escaping @Sendable (ByteBuffer) async -> Void
    ) async -> ByteBuffer? {
        let decoder = JSONDecoder()
        decoder.userInfo[IncomingMessage.tableKey] = self
        let message: IncomingMessage
        do {
            message = try decoder.decode(IncomingMessage.self, from: frame)
        } catch {
            return Self.errorFrame(id: nil, .parseError(Self.parseErrorDetail(error)))
        }
        switch message.kind {
        case .rejected(let id, let error, let isNotification):
            return isNotification ? nil : Self.errorFrame(id: id, error)
        case .call(let id, let method, let params, let handler):
            let context = RPCCallContext(
                requestID: id, method: method, peer: peer, logger: logger, sendNotification: sendNotification)
            switch await handler.invoke(params, context) {
            case .success(let frame):
                return id == nil ? nil : frame
            case .failure(let error):
                return id == nil ? nil : Self.errorFrame(id: id, error)
            }
        }
    }

    static func errorFrame(id: RPCID?, _ error: RPCError) -> ByteBuffer {
        // Encoding an error response cannot fail: every member is a plain value.
        (try? JSONEncoder().encodeAsByteBuffer(RPCErrorResponse(id: id, error: error), allocator: ByteBufferAllocator()))
            ?? ByteBuffer(string: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}"#)
    }

    private static func parseErrorDetail(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "the frame is not valid UTF-8 JSON"
    }
}
