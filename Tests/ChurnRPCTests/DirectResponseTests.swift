import ChurnProtocol
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import ChurnRPC

/// A plugin's `predict` answer is read straight from its bytes when it is the plain form, and
/// the ordinary way otherwise: the caller gets the same result, or the same error, either way.
@Suite("Responses read directly from their bytes", .timeLimit(.minutes(1)))
struct DirectResponseTests {
    /// Answers every request with `template`, its `ID` replaced by the request's id.
    private final class ScriptedPeer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let template: String
        init(template: String) { self.template = template }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard case .object(let request)? = try? JSONParser.parse(Array(frame.readableBytesView)),
                case .number(let id)? = request["id"]
            else { return }
            let answer = template.replacingOccurrences(of: "ID", with: String(Int(id)))
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }

    private func answer(_ template: String) async throws -> [Double] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("direct-\(UUID().uuidString.prefix(8)).sock").path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addChurnFraming(maximumPayload: 1 << 20)
                    try channel.pipeline.syncOperations.addHandler(ScriptedPeer(template: template))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        defer { server.close(promise: nil) }
        let connection = try await RPCConnection.connect(to: path)
        defer { Task { await connection.close() } }
        let customers = [CustomerRecord(["customerID": "A"])]
        return try await connection.call(
            PluginMethod.Predict.self, PluginPredictParams(model: "churn@1", customers: customers), timeout: .seconds(10)
        ).probabilities
    }

    @Test(arguments: [
        // The plain form, read directly.
        #"{"jsonrpc":"2.0","id":ID,"result":{"probabilities":[0.25,1e-3,1]}}"#,
        // Other forms, read the ordinary way: members in another order, spaces, an extra member.
        #"{"id":ID,"jsonrpc":"2.0","result":{"probabilities":[0.25,1e-3,1]}}"#,
        #"{ "jsonrpc" : "2.0" , "id" : ID , "result" : { "probabilities" : [ 0.25 , 0.001 , 1.0 ] } }"#,
        #"{"jsonrpc":"2.0","id":ID,"result":{"probabilities":[0.25,1e-3,1],"note":"extra"}}"#,
    ])
    func everyFormOfTheSameAnswerGivesTheSameProbabilities(template: String) async throws {
        #expect(try await answer(template) == [0.25, 0.001, 1])
    }

    @Test func anAnswerOfTheWrongShapeIsAnInvalidResponseNamingTheField() async throws {
        do {
            _ = try await answer(#"{"jsonrpc":"2.0","id":ID,"result":{"probabilities":["high"]}}"#)
            Issue.record("a probability that is not a number cannot be read")
        } catch let error as RPCConnectionError {
            guard case .invalidResponse(let method, let reason) = error else {
                Issue.record("expected an invalid response, got \(error)")
                return
            }
            #expect(method == "predict")
            #expect(reason.contains("probabilities"), "\(reason)")
        }
    }

    @Test func anErrorAnswerArrivesAsTheRemoteError() async throws {
        do {
            _ = try await answer(#"{"jsonrpc":"2.0","id":ID,"error":{"code":-32010,"message":"model churn@1 is not loaded"}}"#)
            Issue.record("an error answer cannot succeed")
        } catch let error as RPCConnectionError {
            guard case .remote(let remote) = error else {
                Issue.record("expected the remote error, got \(error)")
                return
            }
            #expect(remote.code == -32010 && remote.message == "model churn@1 is not loaded")
        }
    }
}
