import ArgumentParser
import ChurnProtocol
import ChurnRPC
import Foundation
import Histogram
import Logging

/// Isolates the transport: an in-process RPCServer with one trivial method, and RPCConnection.
struct TransportProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transport-probe", abstract: "Time a no-op method over RPCServer/RPCConnection.")

    enum Ping: RPCMethod {
        static let name = "ping"
        typealias Params = NoParams
        typealias Result = NoParams
    }

    @Option var external: String?

    func run() async throws {
        if let external {
            let client = try await RPCConnection.connect(to: external)
            var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            for index in 0..<5000 {
                let start = nowNanoseconds()
                _ = try? await client.call(Ping.self, NoParams())
                if index > 500 { _ = histogram.record(nowNanoseconds() - start) }
            }
            print("external unknown-method (main context): \(LatencySummary(histogram))")
            let detached = try await Task.detached {
                var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
                for index in 0..<5000 {
                    let start = nowNanoseconds()
                    _ = try? await client.call(Ping.self, NoParams())
                    if index > 500 { _ = histogram.record(nowNanoseconds() - start) }
                }
                return histogram
            }.value
            print("external unknown-method (detached):     \(LatencySummary(detached))")
            return
        }
        var table = RPCMethodTable()
        table.register(Ping.self) { _, _ in NoParams() }
        let folder = makeScratchFolder("probe")
        let server = try await RPCServer.bind(
            configuration: RPCServerConfiguration(socketPath: folder + "/p.sock"), methods: table,
            logger: Logger(label: "probe"))
        let task = Task { try await server.run() }
        let connection = try await RPCConnection.connect(to: folder + "/p.sock")
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for index in 0..<20000 {
            let start = nowNanoseconds()
            _ = try await connection.call(Ping.self, NoParams())
            if index > 2000 { _ = histogram.record(nowNanoseconds() - start) }
        }
        print("ping: \(LatencySummary(histogram))")
        var encode = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<20000 {
            let start = nowNanoseconds()
            _ = try JSONEncoder().encode(RPCRequest(id: .number(1), method: "ping", params: NoParams()))
            _ = encode.record(nowNanoseconds() - start)
        }
        print("encode: \(LatencySummary(encode))")
        let customer: CustomerRecord = [
            "customerID": "7590-VHVEG", "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes", "Dependents": "No",
            "tenure": 1, "PhoneService": "No", "MultipleLines": "No phone service", "InternetService": "DSL",
            "OnlineSecurity": "No", "OnlineBackup": "Yes", "DeviceProtection": "No", "TechSupport": "No",
            "StreamingTV": "No", "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
            "PaymentMethod": "Electronic check", "MonthlyCharges": 29.85, "TotalCharges": 29.85,
        ]
        let request = try JSONEncoder().encode(RPCRequest(id: .number(1), method: "predict", params: PredictParams(customers: [customer])))
        struct Envelope: Decodable { var params: PredictParams }
        func time(_ label: String, _ body: () throws -> Void) rethrows {
            var h = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            for _ in 0..<5000 { let s = nowNanoseconds(); try body(); _ = h.record(nowNanoseconds() - s) }
            print("\(label): \(LatencySummary(h))")
        }
        try time("encode predict request") { _ = try JSONEncoder().encode(RPCRequest(id: .number(1), method: "predict", params: PredictParams(customers: [customer]))) }
        try time("decode predict request") { _ = try JSONDecoder().decode(Envelope.self, from: request) }
        let response = try JSONEncoder().encode(RPCSuccessResponse(id: .number(1), result: PredictResult(predictions: [Prediction(customerID: "7590-VHVEG", churnProbability: 0.6234567, churn: true, model: ModelRef(name: "churn", version: 1), arm: "champion")])))
        struct R: Decodable { var result: PredictResult }
        try time("decode predict response") { _ = try JSONDecoder().decode(R.self, from: response) }
        try time("encode predict response") { _ = try JSONEncoder().encode(RPCSuccessResponse(id: .number(1), result: PredictResult(predictions: [Prediction(customerID: "7590-VHVEG", churnProbability: 0.6234567, churn: true, model: ModelRef(name: "churn", version: 1), arm: "champion")]))) }
        task.cancel()
    }
}
