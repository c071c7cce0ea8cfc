import ArgumentParser
import ChurnProtocol
import ChurnRPC
import Foundation
import Histogram
import Logging

/// Isolates the transport and the JSON coding from everything else: an in-process RPCServer
/// with a no-op method, and the fast JSON path against Foundation's coder on a predict request.
struct TransportProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-probe",
        abstract: "Time a no-op call over RPCServer/RPCConnection, and JSON coding of a predict request.")

    enum Ping: RPCMethod {
        static let name = "ping"
        typealias Params = NoParams
        typealias Result = NoParams
    }

    func run() async throws {
        var table = RPCMethodTable()
        table.register(Ping.self) { _, _ in NoParams() }
        let folder = makeScratchFolder("probe")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try await RPCServer.bind(
            configuration: RPCServerConfiguration(socketPath: folder + "/p.sock"), methods: table,
            logger: Logger(label: "probe"))
        let serving = Task { try await server.run() }
        let connection = try await RPCConnection.connect(to: folder + "/p.sock")
        printHeader("transport (client and server in this process, one event loop)")
        print("no-op call:               \(try await time(count: 20_000) { _ = try await connection.call(Ping.self, NoParams()) })")
        serving.cancel()

        printHeader("JSON coding of a one-customer predict request")
        let request = RPCRequest(id: .number(1), method: "predict", params: PredictParams(customers: [sampleCustomer]))
        let bytes = try JSONValueEncoder.encodeJSON(request)
        struct Envelope: Decodable { var params: PredictParams }
        print("encode, fast path:        \(try await time { _ = try JSONValueEncoder.encodeJSON(request) })")
        print("encode, Foundation:       \(try await time { _ = try JSONEncoder().encode(request) })")
        print("decode, fast path:        \(try await time { _ = try JSONValueDecoder.decode(Envelope.self, fromJSON: bytes) })")
        print("decode, Foundation:       \(try await time { _ = try JSONDecoder().decode(Envelope.self, from: Data(bytes)) })")
    }

    private func time(count: Int = 5000, _ body: () async throws -> Void) async rethrows -> LatencySummary {
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for index in 0..<(count + count / 10) {
            let start = nowNanoseconds()
            try await body()
            if index >= count / 10 { _ = histogram.record(nowNanoseconds() - start) }
        }
        return LatencySummary(histogram)
    }
}
