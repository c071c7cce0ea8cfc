#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRPC
import Foundation
import Histogram

/// Core issue benchmark: single-row round trip client → churnd → plugin → client, next to a raw
/// Unix-socket echo of the same size, and throughput at 1, 8 and 32 connections.
struct RPCBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Round-trip latency and throughput of churnd against the raw Unix-socket floor.",
        discussion: """
            Starts churnd from this build with the plugin of --kind, registers a model, then times \
            --calls sequential one-customer predicts through ChurnClient, and a raw blocking-socket \
            echo of the same request and response sizes. Then counts the instructions churnd \
            executes per predict and per health under valgrind's callgrind (repeatable on a busy \
            machine), with where they go. Goals: predict p50 <= 3x two raw hops, p99 <= 5x; health \
            p50 <= 2x one hop.
            """)

    @Option(help: "Sequential calls to time.")
    var calls = 10_000

    @Option(help: "Seconds per throughput run.")
    var seconds = 3.0

    @Option(help: "Plugin kind to route to; `echo` uses the test-support plugin of this build (transport only).")
    var kind = "echo"

    @Option(help: "Training CSV for the model (needed for real model kinds).")
    var data: String?

    @Option(help: "Calls counted under callgrind per method (0: skip the count).")
    var countedCalls = 1000

    @Option(help: "Folder to keep the callgrind dumps in (callgrind.predict, callgrind.health), to read with callgrind_annotate.")
    var keepProfiles: String?

    func run() async throws {
        let customer = sampleCustomer
        let requestBytes = try JSONEncoder().encode(
            RPCRequest(id: .number(1), method: "predict", params: PredictParams(customers: [customer]))
        ).count
        let responseBytes = try JSONEncoder().encode(
            RPCSuccessResponse(
                id: .number(1),
                result: PredictResult(predictions: [
                    Prediction(
                        customerID: "7590-VHVEG", churnProbability: 0.6234567, churn: true,
                        model: ModelRef(name: "churn", version: 1), arm: "champion")
                ]))
        ).count

        printHeader("raw Unix-socket echo (the floor for one hop)")
        let raw = try RawEcho.measure(calls: calls, requestBytes: requestBytes, responseBytes: responseBytes)
        print("request \(requestBytes) B, response \(responseBytes) B")
        print("one hop:           \(raw)")

        let daemon = try await DaemonProcess.start(kind: kind, data: data)
        defer { daemon.stop() }
        let client = try await ChurnClient.connect(socketPath: daemon.socketPath)

        printHeader("churn: client → churnd → plugin (\(kind)) → client")
        for _ in 0..<500 { _ = try await client.predict([customer]) }  // warm up
        var health = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<min(calls, 5000) {
            let start = nowNanoseconds()
            _ = try await client.health()
            _ = health.record(nowNanoseconds() - start)
        }
        var predict = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<calls {
            let start = nowNanoseconds()
            _ = try await client.predict([customer])
            _ = predict.record(nowNanoseconds() - start)
        }
        let healthSummary = LatencySummary(health)
        let predictSummary = LatencySummary(predict)
        print("health (1 hop):    \(healthSummary)")
        print("predict (2 hops):  \(predictSummary)")
        await client.close()

        printHeader("throughput, single-row predicts, \(seconds) s each")
        var rows: [(Int, Double)] = []
        for connections in [1, 8, 32] {
            let perSecond = try await throughput(
                socketPath: daemon.socketPath, connections: connections, seconds: seconds, customer: customer)
            rows.append((connections, perSecond))
            print(String(format: "%2d connections: %9.0f predictions/s", connections, perSecond))
        }

        daemon.stop()

        var counts: [InstructionCount.Result] = []
        if countedCalls > 0 {
            printHeader("instructions in churnd per request (callgrind, echo plugin, \(countedCalls) calls each)")
            do {
                counts = try await InstructionCount.measure(calls: countedCalls, keepingDumpsIn: keepProfiles)
                for result in counts {
                    print("\(result.method): \(result.perRequest) instructions per request")
                    for (group, count) in result.breakdown where count * 100 >= result.perRequest {
                        print(String(format: "   %8d  %4.1f%%  ", count, Double(count) / Double(result.perRequest) * 100) + group)
                    }
                }
            } catch {
                print("not counted: \(error)")
            }
        }

        printHeader("summary (goals beside the figures of this run)")
        func verdict(_ ratio: Double, _ goal: Double) -> String { ratio <= goal ? "met" : "NOT met" }
        let predictP50 = predictSummary.p50 / (2 * raw.p50)
        let predictP99 = predictSummary.p99 / (2 * raw.p99)
        let healthP50 = healthSummary.p50 / raw.p50
        print(String(format: "predict p50 / (2 x raw hop p50) = %5.2f   goal <= 3.00: ", predictP50) + verdict(predictP50, 3))
        print(String(format: "predict p99 / (2 x raw hop p99) = %5.2f   goal <= 5.00: ", predictP99) + verdict(predictP99, 5))
        print(String(format: "health  p50 / raw hop p50       = %5.2f   goal <= 2.00: ", healthP50) + verdict(healthP50, 2))
        for result in counts { print("instructions per \(result.method) in churnd: \(result.perRequest)") }
    }

    private func throughput(socketPath: String, connections: Int, seconds: Double, customer: CustomerRecord)
        async throws -> Double
    {
        let deadline = nowNanoseconds() + UInt64(seconds * 1e9)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let client = try await ChurnClient.connect(socketPath: socketPath)
                    var done = 0
                    while nowNanoseconds() < deadline {
                        _ = try await client.predict([customer])
                        done += 1
                    }
                    await client.close()
                    return done
                }
            }
            var total = 0
            for try await done in group { total += done }
            return Double(total) / seconds
        }
    }
}

/// A blocking echo server on a thread and a blocking client: the cost of one Unix-socket hop.
enum RawEcho {
    static func measure(calls: Int, requestBytes: Int, responseBytes: Int) throws -> LatencySummary {
        let folder = makeScratchFolder("churn-echo")
        let path = folder + "/echo.sock"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let listener = try bindListener(path)
        let server = Thread {
            let connection = accept(listener, nil, nil)
            var request = [UInt8](repeating: 0, count: 4 + requestBytes)
            let response = [UInt8](repeating: 0x20, count: 4 + responseBytes)
            while readFully(connection, &request) {
                _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(connection)
        }
        server.start()
        let client = try connectTo(path)
        var request = [UInt8](repeating: 0x20, count: 4 + requestBytes)
        request[2] = UInt8(requestBytes >> 8)
        request[3] = UInt8(requestBytes & 0xff)
        var response = [UInt8](repeating: 0, count: 4 + responseBytes)
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for index in 0..<(calls + 1000) {
            let start = nowNanoseconds()
            _ = request.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard readFully(client, &response) else { break }
            if index >= 1000 { _ = histogram.record(nowNanoseconds() - start) }
        }
        close(client)
        close(listener)
        return LatencySummary(histogram)
    }

    /// Reads exactly `buffer.count` bytes; false at end of stream or on error.
    static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress! + offset, $0.count - offset, 0)
            }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }

    private static func bindListener(_ path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = UnixSocketFile.socketAddress(path)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard status == 0, listen(descriptor, 1) == 0 else { throw ValidationError("cannot bind \(path)") }
        return descriptor
    }

    private static func connectTo(_ path: String) throws -> Int32 {
        guard let descriptor = UnixSocketFile.connectBlocking(path) else {
            throw ValidationError("cannot connect to \(path)")
        }
        return descriptor
    }
}

/// `churnd` from this build, with one plugin and a registered champion.
final class DaemonProcess {
    let folder: String
    let socketPath: String
    private let process: Process
    /// churnd's process id.
    var pid: Int32 { process.processIdentifier }

    private init(folder: String, socketPath: String, process: Process) {
        self.folder = folder
        self.socketPath = socketPath
        self.process = process
    }

    static func start(kind: String, data: String?, arguments: [String] = [], versions: Int = 1) async throws -> DaemonProcess {
        let folder = makeScratchFolder("churn-bench")
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        let executable = kind == "echo" ? "churn-test-plugin" : "churn-plugin-" + kind.replacingOccurrences(of: "_", with: "-")
        try FileManager.default.createSymbolicLink(
            atPath: plugins + "/churn-plugin-" + kind.replacingOccurrences(of: "_", with: "-"),
            withDestinationPath: productsDirectory + "/" + executable)
        let socketPath = folder + "/d.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/churnd")
        process.arguments = [
            "--socket", socketPath, "--home", folder + "/home", "--plugin-path", plugins, "--log-level", "error",
        ] + arguments
        try process.run()
        let daemon = DaemonProcess(folder: folder, socketPath: socketPath, process: process)
        let deadline = Date().addingTimeInterval(30)
        while !UnixSocketFile.isLive(socketPath) {
            guard Date() < deadline, process.isRunning else { throw ValidationError("churnd did not start") }
            usleep(20_000)
        }
        // Without --data: a small synthetic population (the model's quality is not what is timed).
        let trainingData = try data ?? SyntheticTelco.write(SyntheticTelco.generate(customers: 500, seed: 1), to: folder + "/synthetic").customers
        do {
            let client = try await ChurnClient.connect(socketPath: socketPath)
            // Version 1 is promoted; later versions (other seeds) are there to be challengers.
            for seed in 0..<versions {
                let version = try await client.train(TrainParams(kind: kind, data: trainingData, seed: UInt64(seed)))
                if seed == 0 { _ = try await client.promote(version.ref.description) }
            }
            await client.close()
        } catch {
            daemon.stop()
            throw ValidationError("could not set up a champion: \(error)")
        }
        return daemon
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

