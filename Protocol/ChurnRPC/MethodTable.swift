import ChurnProtocol
import Logging
import NIOCore

/// The methods a server answers, each with typed params and result.
///
/// Registering a method with its ``RPCMethod`` type makes the server decode the request's
/// `params` straight into `M.Params` in one pass over the frame, answer -32602 naming the
/// field when they do not fit, and encode `M.Result` into the response.
public struct RPCMethodTable: Sendable {
    var handlers: [String: AnyMethodHandler] = [:]
    /// Decides, before a request's params are even read, whether its caller may call its
    /// method: nil to go ahead, else the error to answer (the daemon's roles).
    public var authorize: (@Sendable (_ method: String, _ peer: PeerCredentials?) -> RPCError?)?
    /// Runs once the server has drained (every request answered, every connection closed),
    /// before ``RPCServer/run()`` returns: what the methods put off is finished then (the
    /// daemon writes the counts of refused calls it holds, see `RefusalAudit`).
    public var whenDrained: (@Sendable () async -> Void)?

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
    /// Whether the caller's connection is still open (a long method may stop early, and say so,
    /// when the caller has gone away).
    public let isCallerConnected: @Sendable () -> Bool

    public init(
        requestID: RPCID?, method: String, peer: PeerCredentials?, logger: Logger,
        sendNotification: @escaping @Sendable (ByteBuffer) async -> Void,
        isCallerConnected: @escaping @Sendable () -> Bool = { true }
    ) {
        self.requestID = requestID
        self.method = method
        self.peer = peer
        self.logger = logger
        self.sendNotification = sendNotification
        self.isCallerConnected = isCallerConnected
    }

    /// Sends a notification to the caller on the same connection, ahead of the response.
    public func notify<N: RPCNotificationMethod>(_ notification: N.Type, _ params: N.Params) async {
        guard let frame = try? RPCFrames.notification(method: N.name, params: params) else { return }
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

/// What the server tells the method table about one connection.
public struct RPCDispatch: Sendable {
    /// Who is on the other end of the socket, when the OS tells.
    public var peer: PeerCredentials?
    public var logger: Logger
    /// The largest response frame the peer accepts.
    public var maximumResponse: Int
    /// Whether a request for a method must be refused with -32003 (the server drains).
    public var refuses: @Sendable (String) -> Bool
    let sendNotification: @Sendable (ByteBuffer) async -> Void
    /// Whether the connection is still open.
    public var isConnected: @Sendable () -> Bool

    public init(
        peer: PeerCredentials?, logger: Logger, maximumResponse: Int = FrameLimits.defaultMaximumPayload,
        refuses: @escaping @Sendable (String) -> Bool = { _ in false },
        sendNotification: @escaping @Sendable (ByteBuffer) async -> Void = { _ in },
        isConnected: @escaping @Sendable () -> Bool = { true }
    ) {
        self.peer = peer
        self.logger = logger
        self.maximumResponse = maximumResponse
        self.refuses = refuses
        self.sendNotification = sendNotification
        self.isConnected = isConnected
    }
}

// MARK: - Type erasure

struct AnyMethodHandler: Sendable {
    /// Decodes `params` (or `{}` when absent) into the method's params type.
    let decodeParams: @Sendable (JSONValue?) throws(RPCError) -> any Sendable
    /// Reads the params straight from the frame's bytes, for params types that can
    /// (``JSONDirectReading``); nil when they cannot, or when the input is not what it takes.
    let readParams: (@Sendable (inout JSONReader) -> (any Sendable)?)?
    /// Runs the handler and encodes the response frame for `id` (nil for a notification), no
    /// larger than `maximum` bytes.
    let invoke: @Sendable (any Sendable, RPCCallContext, _ maximum: Int) async -> Result<ByteBuffer, RPCError>

    init<M: RPCMethod>(
        method: M.Type,
        handler: @escaping @Sendable (M.Params, RPCCallContext) async throws -> M.Result
    ) {
        decodeParams = { (params: JSONValue?) throws(RPCError) -> any Sendable in
            do {
                return try JSONValueDecoder.decode(M.Params.self, from: params ?? .object([:]))
            } catch let error as DecodingError {
                let (field, reason) = error.fieldAndReason
                if params == nil { throw RPCError.invalidParams(field: field, "params are required (\(reason))") }
                throw RPCError.invalidParams(field: field, reason)
            } catch {
                throw RPCError.invalidParams(field: "", "\(error)")
            }
        }
        if let direct = M.Params.self as? any JSONDirectReading.Type {
            readParams = { reader in direct.read(from: &reader) }
        } else {
            readParams = nil
        }
        invoke = { params, context, maximum in
            let result: M.Result
            do {
                result = try await handler(params as! M.Params, context)
            } catch let error as RPCErrorConvertible {
                return .failure(error.rpcError)
            } catch is CancellationError {
                return .failure(RPCError(.shuttingDown, "the request was cancelled"))
            } catch {
                context.logger.error(
                    "unexpected error", metadata: ["method": "\(context.method)", "error": "\(error)"])
                return .failure(.internalError(String(describing: error)))
            }
            guard let id = context.requestID else { return .success(ByteBuffer()) }
            do {
                let frame = try RPCFrames.success(id: id, result: result)
                if frame.readableBytes <= maximum { return .success(frame) }
                // The work is done: answer with less rather than hide that it happened.
                if let smaller = M.compacted(result) {
                    let compact = try RPCFrames.success(id: id, result: smaller)
                    if compact.readableBytes <= maximum { return .success(compact) }
                }
                return .failure(
                    .internalError(
                        "the response of \(frame.readableBytes) bytes exceeds the frame limit of \(maximum) bytes: send fewer customers per request"
                    ))
            } catch {
                return .failure(.internalError("cannot encode the response: \(error)"))
            }
        }
    }
}

/// Frames of the envelope, written with the fast JSON path. The id is written as it was
/// received (``RPCID/writeJSON(into:)``): a number's text byte for byte.
public enum RPCFrames {
    /// A success response.
    public static func success<R: Encodable>(id: RPCID, result: R) throws -> ByteBuffer {
        if let direct = result as? any JSONDirectWriting {
            return response(id: id, member: #","result":"#) { direct.writeJSON(into: &$0) }
        }
        let tree = try JSONValueEncoder.encode(result)
        return response(id: id, member: #","result":"#) { JSONWriter.write(tree, into: &$0) }
    }

    /// An error response (`id` null when unknown).
    public static func error(id: RPCID?, _ error: RPCError) -> ByteBuffer {
        var body: [String: JSONValue] = ["code": .number(Double(error.code)), "message": .string(error.message)]
        if let data = error.data { body["data"] = data }
        return response(id: id, member: #","error":"#) { JSONWriter.write(.object(body), into: &$0) }
    }

    /// A request.
    public static func request<P: Encodable>(id: RPCID, method: String, params: P) throws -> ByteBuffer {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        output.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        id.writeJSON(into: &output)
        output.append(contentsOf: #","method":"#.utf8)
        JSONWriter.write(.string(method), into: &output)
        try writeParams(params, into: &output)
        return ByteBuffer(bytes: output)
    }

    /// A notification.
    public static func notification<P: Encodable>(method: String, params: P) throws -> ByteBuffer {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        output.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.write(.string(method), into: &output)
        // Progress names its request by id: written directly, the id keeps its exact text.
        try writeParams(params, into: &output)
        return ByteBuffer(bytes: output)
    }

    /// `,"params":` params `}`: written directly when the type can, else through the encoder.
    private static func writeParams<P: Encodable>(_ params: P, into output: inout [UInt8]) throws {
        output.append(contentsOf: #","params":"#.utf8)
        if let direct = params as? any JSONDirectWriting {
            direct.writeJSON(into: &output)
        } else {
            JSONWriter.write(try JSONValueEncoder.encode(params), into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `{"jsonrpc":"2.0","id":` id `member` body `}`.
    private static func response(id: RPCID?, member: String, body: (inout [UInt8]) -> Void) -> ByteBuffer {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        output.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        if let id { id.writeJSON(into: &output) } else { JSONWriter.write(.null, into: &output) }
        output.append(contentsOf: member.utf8)
        body(&output)
        output.append(UInt8(ascii: "}"))
        return ByteBuffer(bytes: output)
    }
}

extension ByteBuffer {
    /// Parses the readable bytes as a JSON-RPC message, keeping a numeric `id`'s exact text.
    func parseMessage() throws(JSONSyntaxError) -> (message: JSONValue, numericIDText: String?) {
        let result = readableBytesView.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) in try JSONParser.parseMessage(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(readableBytesView).withUnsafeBytes { bytes in
            Result { () throws(JSONSyntaxError) in try JSONParser.parseMessage(bytes) }
        }
        return try copy.get()
    }
}

extension RPCMethodTable {
    /// Decodes one frame and runs its handler. Returns the response frame to send, or nil
    /// for a notification (which is never answered, not even with an error).
    ///
    /// Nothing runs unless the request is well formed: `"id": null` is refused with -32600
    /// (JSON-RPC reserves a null id for responses to requests whose id could not be read), and
    /// `params` that are not an object with -32602. The checks go in this order: the envelope,
    /// the method's existence, the drain, the caller's role (``authorize``), then the params,
    /// so a caller without the role gets -32017 whatever its params are.
    public func respond(to frame: ByteBuffer, dispatch: RPCDispatch) async -> ByteBuffer? {
        if let request = directRequest(frame) {
            return await respond(to: request, dispatch: dispatch)
        }
        let message: JSONValue
        let numericIDText: String?
        do {
            (message, numericIDText) = try frame.parseMessage()
        } catch {
            return RPCFrames.error(id: nil, .parseError(error))
        }
        guard case .object(let envelope) = message else {
            return RPCFrames.error(
                id: nil,
                .invalidRequest(
                    "expected a JSON-RPC request object (batch arrays are not supported; pipeline requests instead)"))
        }
        let isNotification = envelope["id"] == nil
        var id: RPCID?
        if let rawID = envelope["id"] {
            guard rawID != .null else {
                return RPCFrames.error(
                    id: nil, .invalidRequest("\"id\" must be a string or a number; null is not accepted (omit id for a notification)"))
            }
            guard let parsed = RPCID(member: rawID, numericText: numericIDText) else {
                return RPCFrames.error(id: nil, .invalidRequest("\"id\" must be a string or a number, got \(rawID.brief)"))
            }
            id = parsed
        }
        guard envelope["jsonrpc"] == .string("2.0") else {
            return RPCFrames.error(id: id, .invalidRequest("\"jsonrpc\" must be \"2.0\""))
        }
        guard case .string(let method) = envelope["method"] else {
            let reason =
                envelope["result"] != nil || envelope["error"] != nil
                ? "expected a request, got a response" : "\"method\" must be a string"
            return RPCFrames.error(id: id, .invalidRequest(reason))
        }
        guard let handler = handlers[method] else {
            return isNotification ? nil : RPCFrames.error(id: id, .methodNotFound(method))
        }
        if dispatch.refuses(method) {
            return isNotification ? nil : RPCFrames.error(id: id, .refusedWhileDraining(method))
        }
        // The role comes before the params: a caller without it learns nothing about them.
        if let authorize, let refusal = authorize(method, dispatch.peer) {
            return isNotification ? nil : RPCFrames.error(id: id, refusal)
        }
        if let raw = envelope["params"] {
            guard case .object = raw else {
                return isNotification
                    ? nil
                    : RPCFrames.error(
                        id: id, .invalidParams(field: "params", "must be a JSON object (by-name parameters), got \(raw.brief)"))
            }
        }
        let params: any Sendable
        do {
            params = try handler.decodeParams(envelope["params"])
        } catch {
            return isNotification ? nil : RPCFrames.error(id: id, error)
        }
        let context = RPCCallContext(
            requestID: id, method: method, peer: dispatch.peer, logger: dispatch.logger,
            sendNotification: dispatch.sendNotification, isCallerConnected: dispatch.isConnected)
        switch await handler.invoke(params, context, dispatch.maximumResponse) {
        case .success(let frame):
            return isNotification ? nil : frame
        case .failure(let error):
            return isNotification ? nil : RPCFrames.error(id: id, error)
        }
    }

    /// A request whose params were read straight from its bytes: the same checks in the same
    /// order as the ordinary path, which has already found the envelope well formed.
    private func respond(to request: DirectRequest, dispatch: RPCDispatch) async -> ByteBuffer? {
        if dispatch.refuses(request.method) {
            return RPCFrames.error(id: request.id, .refusedWhileDraining(request.method))
        }
        if let authorize, let refusal = authorize(request.method, dispatch.peer) {
            return RPCFrames.error(id: request.id, refusal)
        }
        let context = RPCCallContext(
            requestID: request.id, method: request.method, peer: dispatch.peer, logger: dispatch.logger,
            sendNotification: dispatch.sendNotification, isCallerConnected: dispatch.isConnected)
        switch await request.handler.invoke(request.params, context, dispatch.maximumResponse) {
        case .success(let frame): return frame
        case .failure(let error): return RPCFrames.error(id: request.id, error)
        }
    }

    static func errorFrame(id: RPCID?, _ error: RPCError) -> ByteBuffer {
        RPCFrames.error(id: id, error)
    }
}

extension RPCError {
    /// A request for `method` that arrived while the server drains.
    static func refusedWhileDraining(_ method: String) -> RPCError {
        RPCError(.shuttingDown, "shutting down: \(method) is refused while the server drains; retry on a running server")
    }
}

/// Sends `progress` notifications for one call in the order they are given, from any thread,
/// without blocking the sender; ``finish()`` waits until all have been written, so they all
/// precede the call's response.
public final class ProgressStream: Sendable {
    private let continuation: AsyncStream<ProgressUpdate>.Continuation
    private let writer: Task<Void, Never>

    /// A stream for the call `context` serves; each update is re-tagged with that call's id.
    public init(context: RPCCallContext) {
        let (updates, continuation) = AsyncStream.makeStream(of: ProgressUpdate.self)
        self.continuation = continuation
        writer = Task {
            guard let requestID = context.requestID else { return }
            for await var update in updates {
                update.request = requestID
                await context.notify(ProgressNotification.self, update)
            }
        }
    }

    /// Queues one update.
    public func send(_ update: ProgressUpdate) {
        continuation.yield(update)
    }

    /// Waits until every queued update is written.
    public func finish() async {
        continuation.finish()
        await writer.value
    }
}
