#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import Foundation
import Testing

/// Plugin processes and churnd's own: no descriptor outlives the plugin it was for, a plugin
/// stops when churnd dies (even mid-training), and a killed churnd's runtime folder is removed
/// by the next churnd.
@Suite("Plugin processes and churnd's death", .serialized)
struct PluginProcessTests {
    @Test func restartedPluginsLeaveNoPipeOpenInChurnd() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        for round in 1...3 {
            let plugin = try #require(try await client.plugins().first?.pid)
            // The plugin's standard streams: pipes whose other ends churnd holds.
            let pipes = Set((0...2).compactMap { descriptorTarget("/proc/\(plugin)/fd/\($0)") }.filter { $0.hasPrefix("pipe:") })
            try #require(!pipes.isEmpty, "the plugin's stdout and stderr are pipes")
            #expect(kill(plugin, SIGKILL) == 0)
            try await DaemonHarness.waitUntil(seconds: 30) {
                guard let status = try await client.plugins().first else { return false }
                return status.state == "ready" && status.restarts == round
            }
            // Every end churnd held for the dead plugin is closed (the output's at end of file).
            try await DaemonHarness.waitUntil(seconds: 20) { openDescriptorTargets().isDisjoint(with: pipes) }
            #expect(openDescriptorTargets().isDisjoint(with: pipes), "round \(round)")
        }
        await client.close()
        try await harness.stop()
    }

    @Test func aPluginStopsAtOnceWhenChurndIsKilledMidTraining() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        let daemon = try harness.launchProcess()
        try await harness.waitUntilLive()
        try await harness.waitUntilPluginsSettle()
        let client = try await harness.client()
        let plugin = try #require(try await client.plugins().first?.pid)

        // A training the plugin would spend two minutes on: it announces that it has started.
        var csv = try String(contentsOfFile: try harness.writeTrainingCSV(), encoding: .utf8)
        csv = csv.replacingOccurrences(of: "\nC0,", with: "\n\(harness.slowCustomerID(120_000, name: "train")),")
        try csv.write(toFile: harness.root + "/slow.csv", atomically: true, encoding: .utf8)
        let training = Task { try await client.train(TrainParams(kind: "echo", data: harness.root + "/slow.csv")) }
        try await harness.waitUntilPluginHas("train", seconds: 60)

        #expect(kill(daemon.processIdentifier, SIGKILL) == 0)
        try await DaemonHarness.waitForExit(daemon)
        // Well before its training would end, the plugin is gone.
        try await DaemonHarness.waitUntil(seconds: 30) { !isRunning(plugin) }
        #expect(!isRunning(plugin), "the plugin must stop when churnd dies")
        let runs = FileManager.default.enumerator(atPath: harness.home + "/runs")?.allObjects as? [String] ?? []
        #expect(!runs.contains { $0.hasSuffix(".artifact") }, "no artifact is written for a dead churnd: \(runs)")
        _ = await training.result
        await client.close()
        try? FileManager.default.removeItem(atPath: harness.root)
    }

    @Test func theNextChurndRemovesTheRuntimeFolderOfAKilledOneButNotALiveOnes() async throws {
        // A live daemon (in this process) whose folder must stay.
        let live = try DaemonHarness(kinds: ["echo"])
        try await live.start()
        let liveClient = try await live.client()
        let livePlugin = try #require(try await liveClient.plugins().first?.pid)
        let liveFolder = try #require(socketFolder(ofPlugin: livePlugin))

        let harness = try DaemonHarness(kinds: ["echo"])
        let killed = try harness.launchProcess()
        try await harness.waitUntilLive()
        try await harness.waitUntilPluginsSettle()
        let client = try await harness.client()
        let plugin = try #require(try await client.plugins().first?.pid)
        let staleFolder = try #require(socketFolder(ofPlugin: plugin))
        await client.close()
        #expect(kill(killed.processIdentifier, SIGKILL) == 0)
        try await DaemonHarness.waitForExit(killed)
        try await DaemonHarness.waitUntil(seconds: 30) { !isRunning(plugin) }
        #expect(FileManager.default.fileExists(atPath: staleFolder), "a killed churnd cannot remove its own folder")

        let next = try harness.launchProcess(index: 1)
        try await harness.waitUntilLive()
        #expect(!FileManager.default.fileExists(atPath: staleFolder), "the next churnd removes it: \(harness.processLog(1))")
        #expect(FileManager.default.fileExists(atPath: liveFolder), "a live churnd's folder stays")
        #expect(try await liveClient.health().status == "ok", "the live daemon still reaches its plugins")

        kill(next.processIdentifier, SIGTERM)
        try await DaemonHarness.waitForExit(next)
        await liveClient.close()
        try await live.stop()
        try? FileManager.default.removeItem(atPath: harness.root)
    }
}

/// What the symlink at `path` (a `/proc/<pid>/fd/<n>` entry) points at: `pipe:[1234]`, a path...
private func descriptorTarget(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
}

/// What every descriptor of this process points at.
private func openDescriptorTargets() -> Set<String> {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return Set(descriptors.compactMap { descriptorTarget("/proc/self/fd/" + $0) })
}

/// True while `pid` runs (a zombie, dead but not yet reaped, does not count).
private func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else {
        return false
    }
    let state = stat[stat.index(after: end)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// The folder of the socket a plugin was started on (from its command line).
private func socketFolder(ofPlugin pid: pid_t) -> String? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
    let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    guard let index = arguments.firstIndex(of: "--socket"), index + 1 < arguments.count else { return nil }
    return (arguments[index + 1] as NSString).deletingLastPathComponent
}
