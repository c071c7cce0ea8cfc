#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnWeb
import Foundation
import Histogram
import Logging
import ServiceLifecycle

/// The web UI under load: signed-in clients fetching the prediction page (predict + explain
/// through the daemon), the first screen, the retention page and the models page, next to the floor of the same
/// daemon calls made directly over the socket.
struct WebBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Web UI pages per second and latency, against the daemon calls they make.")

    @Option(help: "Concurrent HTTP clients.")
    var clients = 4

    @Option(help: "Seconds per page.")
    var seconds = 5.0

    @Option(help: "Labelled telco CSV to train on; its customers are the web's customer base.")
    var data = repositoryParent + "/shared/data/telco/telco_train.csv"

    func run() async throws {
        let path = FileManager.default.fileExists(atPath: data) ? data : nil
        if path == nil { print("note: \(data) is missing; using synthetic customers") }
        let daemon = try await DaemonProcess.start(kind: "random_forest", data: path)
        defer { daemon.stop() }
        let customersFile = try path ?? SyntheticTelco.write(SyntheticTelco.generate(customers: 2_000, seed: 5), to: daemon.folder + "/web").customers
        let schema = BuiltInSchemas.detect(header: CSVReader.header(of: customersFile)) ?? BuiltInSchemas.kaggle
        let (dataset, _) = try DatasetReader.read(customersFile, schema: schema)
        let ids = dataset.customers.ids

        var logger = Logger(label: "bench-web")
        logger.logLevel = .error
        let app = try ChurnWebApp(
            configuration: WebConfiguration(
                port: 0, socketPath: daemon.socketPath, accounts: ["bench": "$2b$04$unused"], customersFile: customersFile, signInLinks: true),
            logger: logger)
        let port = PortBox()
        let application = app.application { channel in port.set(channel.localAddress?.port ?? 0) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: application)], logger: logger))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        let bound = await port.wait()

        // Floor: the daemon calls the prediction page makes, straight over the socket.
        printHeader("floor: predict + explain over the Unix socket, 1 client")
        let direct = try await ChurnClient.connect(socketPath: daemon.socketPath)
        var floor = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
        let records = (0..<min(500, dataset.customers.count)).map { dataset.record(at: $0) }
        for round in 0..<2_000 {
            let record = records[round % records.count]
            let start = ContinuousClock.now
            let answer = try await direct.predict([record])
            _ = try await direct.explain([record], model: answer[0].model.description, top: 8)
            floor.record(UInt64((ContinuousClock.now - start).nanoseconds / 1_000))
        }
        await direct.close()
        let floorP50 = Double(floor.valueAtPercentile(50))
        print(String(format: "p50 %.0f µs   p99 %.0f µs", floorP50, Double(floor.valueAtPercentile(99))))

        // Sign in once with a one-time link; every client shares the session.
        guard let link = app.issueSignInLink(for: "bench") else { throw ValidationError("the web app offers no sign-in links: configure signInLinks") }
        let cookie = try await onThread { try HTTPConnection(port: bound).signIn(path: link) }

        printHeader("first retention page: what-if re-scoring of every at-risk customer")
        let first = ContinuousClock.now
        let retention = try await onThread { try HTTPConnection(port: bound).get("/retention", cookie: cookie) }
        print(String(format: "status %d, %.2f s (then cached until the champion or the scores change)", retention.status, (ContinuousClock.now - first).seconds))

        var rows: [(String, Double, Double, Double, Int)] = []
        for (name, makePath) in [
            ("prediction page (customerID lookup)", { @Sendable (index: Int) in "/predict?customer=\(ids[index % ids.count])" }),
            ("first screen (10 contacts, reasons kept per scoring)", { @Sendable (_: Int) in "/" }),
            ("retention page (cached report)", { @Sendable (_: Int) in "/retention" }),
            ("models page", { @Sendable (_: Int) in "/models" }),
        ] as [(String, @Sendable (Int) -> String)] {
            printHeader("\(name), \(clients) clients, \(Int(seconds)) s")
            let result = try await onThread { try load(port: bound, cookie: cookie, path: makePath) }
            print(String(format: "%.0f pages/s   p50 %.0f µs   p99 %.0f µs   errors %d", result.0, result.1, result.2, result.3))
            rows.append((name, result.0, result.1, result.2, result.3))
        }

        printHeader("summary")
        print("page                                   pages/s    p50 µs    p99 µs  errors")
        for row in rows {
            print(row.0.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%10.0f %9.0f %9.0f %7d", row.1, row.2, row.3, row.4))
        }
        if let predictPage = rows.first {
            print(String(format: "prediction page p50 / direct predict+explain p50 (1 client) = %.2f", predictPage.2 / floorP50))
        }
    }

    /// `clients` threads, each on its own keep-alive connection, for `seconds`.
    private func load(port: Int, cookie: String, path: @escaping @Sendable (Int) -> String) throws -> (Double, Double, Double, Int) {
        let deadline = Date().addingTimeInterval(seconds)
        let results = ResultBox()
        let done = DispatchGroup()
        for client in 0..<clients {
            done.enter()
            Thread.detachNewThread {
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
                var errors = 0
                var count = 0
                if let connection = try? HTTPConnection(port: port) {
                    var index = client * 7919
                    while Date() < deadline {
                        let start = ContinuousClock.now
                        let status = (try? connection.get(path(index), cookie: cookie).status) ?? 0
                        histogram.record(UInt64((ContinuousClock.now - start).nanoseconds / 1_000))
                        if status != 200 { errors += 1 }
                        count += 1
                        index += 1
                    }
                } else {
                    errors += 1
                }
                results.add(histogram, count: count, errors: errors)
                done.leave()
            }
        }
        done.wait()
        let (histogram, count, errors) = results.total()
        return (Double(count) / seconds, Double(histogram.valueAtPercentile(50)), Double(histogram.valueAtPercentile(99)), errors)
    }
}

/// Runs blocking socket work on its own thread, never on the cooperative pool the server needs.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

private final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    func set(_ value: Int) { lock.withLock { port = value } }
    func wait() async -> Int {
        while true {
            if let port = lock.withLock({ port }) { return port }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .two)
    private var count = 0
    private var errors = 0
    func add(_ other: Histogram<UInt64>, count: Int, errors: Int) {
        lock.withLock {
            histogram.add(other)
            self.count += count
            self.errors += errors
        }
    }
    func total() -> (Histogram<UInt64>, Int, Int) { lock.withLock { (histogram, count, errors) } }
}

/// A blocking HTTP/1.1 keep-alive client on one TCP connection (enough for a load test).
final class HTTPConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("cannot connect to 127.0.0.1:\(port)") }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(descriptor) }

    /// Follows a sign-in link and returns the session cookie it set.
    func signIn(path: String) throws -> String {
        let response = try get(path, cookie: nil)
        guard let line = response.headers.first(where: { $0.lowercased().hasPrefix("set-cookie: churn_session=") }) else {
            throw ValidationError("signing in set no session cookie (status \(response.status))")
        }
        return String(line.dropFirst("set-cookie: ".count).prefix { $0 != ";" })
    }

    func get(_ path: String, cookie: String?) throws -> (status: Int, headers: [String], body: Int) {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let cookie { request += "Cookie: \(cookie)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw ValidationError("send failed")
        }
        // Head, then a Content-Length body (the app never chunks these pages).
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
                let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length = head.first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                while buffer.count < end + 4 + length { try fill() }
                buffer.removeFirst(end + 4 + length)
                return (status, Array(head.dropFirst()), length)
            }
            try fill()
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw ValidationError("the server closed the connection") }
        buffer += chunk[..<count]
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
