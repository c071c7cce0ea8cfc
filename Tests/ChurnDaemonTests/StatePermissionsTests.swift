#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Testing

@testable import ChurnDaemon

/// churnd's home (registry with the prediction log, feedback and audit log; uploads; training
/// copies) is for churnd's user alone; other users come in through the socket, whose group an
/// operator names with `--socket-group`. Tested on the real `churnd` executable (its umask, its
/// files), and with second Unix users where the suite runs as root.
@Suite("State permissions and the socket's group", .serialized)
struct StatePermissionsTests {
    private func mode(_ path: String) -> mode_t {
        var status = stat()
        #expect(lstat(path, &status) == 0, "\(path) exists")
        return status.st_mode & 0o7777
    }

    /// Every entry beneath `home` whose mode gives anything to users other than churnd's.
    private func openToOthers(_ home: String) -> [String] {
        var open: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: home) else { return ["\(home) cannot be listed"] }
        for case let relative as String in walker {
            let path = home + "/" + relative
            if mode(path) & 0o077 != 0 { open.append("\(relative) \(String(mode(path), radix: 8))") }
        }
        return open
    }

    private func stop(_ daemon: Process) async throws {
        kill(daemon.processIdentifier, SIGTERM)
        try await DaemonHarness.waitForExit(daemon)
    }

    @Test func aNewHomeAndEverythingChurndWritesInItIsChurndsAlone() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        let (daemon, client) = try await harness.launchProcessWithChampion()
        _ = try await client.predict([testCustomer("a")])
        // A failed run keeps its folder (with a copy of the data): that too is churnd's alone.
        _ = await outcome { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: try! harness.writeTrainingCSV(), params: ["nope": 1]))
        }
        await client.close()
        #expect(mode(harness.home) == 0o700)
        #expect(mode(harness.home + "/registry.sqlite") == 0o600)
        #expect(openToOthers(harness.home).isEmpty, "\(openToOthers(harness.home))")
        try await stop(daemon)
        #expect(openToOthers(harness.home).isEmpty, "\(openToOthers(harness.home))")
    }

    @Test func anExistingHomeOthersCouldReadIsTightenedAtStartAndSaidSo() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        try FileManager.default.createDirectory(atPath: harness.home + "/runs/old", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: harness.home + "/runs/old/train.csv", contents: Data("a,b\n".utf8))
        chmod(harness.home, 0o755)
        chmod(harness.home + "/runs", 0o755)
        chmod(harness.home + "/runs/old", 0o775)
        chmod(harness.home + "/runs/old/train.csv", 0o644)
        let daemon = try harness.launchProcess()
        try await harness.waitUntilLive()
        #expect(openToOthers(harness.home).isEmpty, "\(openToOthers(harness.home))")
        #expect(mode(harness.home) == 0o700)
        #expect(mode(harness.home + "/runs/old/train.csv") == 0o600)
        try await stop(daemon)
        #expect(harness.processLog().contains("open to other users"), "\(harness.processLog())")
    }

    @Test func socketModesAreParsedStrictly() {
        #expect(SocketPermissions.mode(parsing: "0660") == 0o660)
        #expect(SocketPermissions.mode(parsing: "600") == 0o600)
        #expect(SocketPermissions.mode(parsing: "0o666") == 0o666)
        for bad in ["", "0400", "0770", "9", "1777", "rw", "-0660"] {
            #expect(SocketPermissions.mode(parsing: bad) == nil, "\(bad)")
        }
    }

    /// Creates (once) a system user, in `group` when given.
    private func ensureUser(_ user: String, group: String?) throws {
        if let group, AccessPolicy.groupID(group) == nil { try run("/usr/sbin/groupadd", ["--system", group]) }
        if AccessPolicy.userID(user) == nil {
            try run(
                "/usr/sbin/useradd",
                ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin"] + (group.map { ["-G", $0] } ?? []) + [user])
        }
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(executable) \(arguments) failed")
    }

    /// `churn ARGUMENTS --socket SOCKET` run as `user`: its status and what it printed.
    private func churn(as user: String, _ arguments: [String], socket: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = ["-u", user, "--", DaemonHarness.productsDirectory + "/churn"] + arguments + ["--socket", socket]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The README's analyst recipe with churnd running as root: `--socket-group` gives the
    /// group the socket (in churnd's home, which lets the group through to it and no further);
    /// a member predicts and reads, is refused admin methods; a user outside the group is
    /// refused by the socket and told so; neither can read the registry file.
    @Test func aSocketGroupLetsItsMembersInAndNobodyElse() async throws {
        guard getuid() == 0 else {
            print("skipped: creating Unix users and groups needs root (run the suite as root, as CI does)")
            return
        }
        let group = "churn-test-sock"
        let member = "churn-test-member"
        let stranger = "churn-test-stranger"
        try ensureUser(member, group: group)
        try ensureUser(stranger, group: nil)
        let harness = try DaemonHarness(kinds: ["echo"])
        defer { try? FileManager.default.removeItem(atPath: harness.root) }
        chmod(harness.root, 0o711)
        let socket = harness.home + "/churnd.sock"
        let daemon = try harness.launchProcess(socket: socket, arguments: ["--socket-group", group])
        try await DaemonHarness.waitUntil(seconds: 60) { UnixSocketFile.isLive(socket) }
        var status = stat()
        #expect(lstat(socket, &status) == 0)
        #expect(status.st_gid == AccessPolicy.groupID(group), "the socket belongs to the group")
        #expect(mode(harness.home) == 0o710)

        let health = try churn(as: member, ["health"], socket: socket)
        // Reached (plugins beside churnd may still be starting: health's status is not the point).
        #expect(health.output.contains("daemon:") && health.output.contains("churnd"), "a member reaches churnd: \(health.output)")
        let promote = try churn(as: member, ["promote", "1"], socket: socket)
        #expect(promote.status != 0 && promote.output.contains("needs the admin role"), "\(promote.output)")
        let refused = try churn(as: stranger, ["health"], socket: socket)
        #expect(refused.status != 0, "\(refused.output)")
        #expect(refused.output.lowercased().contains("permission"), "says permission was denied: \(refused.output)")
        #expect(!refused.output.contains("start one with churn serve"), "\(refused.output)")
        // The registry is churnd's alone, whatever the group.
        #expect(mode(harness.home + "/registry.sqlite") == 0o600)
        try await stop(daemon)
    }
}
