import ChurnProtocol
import NIOCore

/// A request read in one pass from its frame's bytes, params included, for a method whose
/// params type reads itself (``JSONDirectReading``): the hot path (`predict`) builds no
/// ``JSONValue`` tree and no dictionary per customer on the way in.
struct DirectRequest {
    let id: RPCID
    let method: String
    let handler: AnyMethodHandler
    let params: any Sendable
}

extension RPCMethodTable {
    /// The request in `frame` when it is a plain one the direct path takes: an object with
    /// `jsonrpc` "2.0", an id, and `method` before `params`, each once, nothing else, and params
    /// its method's type reads directly. Anything else is nil, and the ordinary path reads the
    /// frame (and gives any error its exact code, message and order).
    func directRequest(_ frame: ByteBuffer) -> DirectRequest? {
        let read = frame.readableBytesView.withContiguousStorageIfAvailable { bytes -> DirectRequest? in
            var reader = JSONReader(UnsafeRawBufferPointer(bytes))
            guard reader.take(UInt8(ascii: "{")) else { return nil }
            var sawVersion = false
            var id: RPCID?
            var method: String?
            var handler: AnyMethodHandler?
            var params: (any Sendable)?
            repeat {
                guard let name = reader.memberName() else { return nil }
                switch name {
                case "jsonrpc":
                    guard !sawVersion, reader.string() == "2.0" else { return nil }
                    sawVersion = true
                case "id":
                    guard id == nil, let value = reader.requestID() else { return nil }
                    id = value
                case "method":
                    guard method == nil, let value = reader.string(), let found = handlers[value], found.readParams != nil else {
                        return nil
                    }
                    method = value
                    handler = found
                case "params":
                    guard params == nil, let readParams = handler?.readParams, let value = readParams(&reader) else { return nil }
                    params = value
                default:
                    return nil
                }
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "}")), reader.isAtEnd(), sawVersion, let id, let method, let handler, let params else {
                return nil
            }
            return DirectRequest(id: id, method: method, handler: handler, params: params)
        }
        return read ?? nil
    }
}
