#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRPC
import Foundation

/// Instructions churnd executes per request, counted by valgrind's callgrind: unlike time, the
/// count barely moves between runs on a busy machine, so later changes can be compared exactly.
///
/// churnd runs under callgrind with instrumentation off; after a warm-up, instrumentation is
/// switched on around `calls` sequential requests of one method and the counts are dumped. The
/// breakdown groups every function's own (exclusive) instructions by where it lives.
enum InstructionCount {
    struct Result {
        let method: String
        let perRequest: Int
        /// (group, instructions per request), largest first.
        let breakdown: [(String, Int)]
    }

    /// Counts `predict` and `health`, or explains why it cannot (a missing tool). With
    /// `keepingDumpsIn`, each method's callgrind dump is copied there (`callgrind.<method>`),
    /// to read function by function with `callgrind_annotate`.
    static func measure(calls: Int, keepingDumpsIn keep: String? = nil) async throws -> [Result] {
        for tool in ["valgrind", "callgrind_control", "callgrind_annotate", "objcopy"] where which(tool) == nil {
            throw ValidationError("\(tool) is not installed: sudo apt-get install -y valgrind binutils")
        }
        guard let compiler = which("clang") ?? which("cc") ?? which("gcc") else {
            throw ValidationError("no C compiler (clang, cc or gcc) to build the valgrind shim")
        }
        let folder = makeScratchFolder("churn-callgrind")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try shimSource.write(toFile: folder + "/shim.c", atomically: true, encoding: .utf8)
        try run(compiler, ["-shared", "-fPIC", "-O1", "-o", folder + "/shim.so", folder + "/shim.c", "-ldl"])
        // valgrind 3.19 cannot read the DWARF 5 the Swift compiler emits: count a copy without it.
        try run("objcopy", ["--strip-debug", productsDirectory + "/churnd", folder + "/churnd"])
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: plugins + "/churn-plugin-echo", withDestinationPath: productsDirectory + "/churn-test-plugin")

        let socket = folder + "/d.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: which("valgrind")!)
        process.arguments = [
            "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=\(folder)/callgrind.out",
            folder + "/churnd", "--socket", socket, "--home", folder + "/home", "--plugin-path", plugins, "--log-level", "error",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = folder + "/shim.so"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = Date().addingTimeInterval(180)
        while !UnixSocketFile.isLive(socket) {
            guard Date() < deadline, process.isRunning else { throw ValidationError("churnd did not start under valgrind") }
            usleep(200_000)
        }
        let client = try await ChurnClient.connect(socketPath: socket)
        let data = try SyntheticTelco.write(SyntheticTelco.generate(customers: 300, seed: 1), to: folder + "/data").customers
        let version = try await client.train(TrainParams(kind: "echo", data: data, seed: 1))
        _ = try await client.promote(version.ref.description)
        let customer = sampleCustomer
        var results: [Result] = []
        for method in ["predict", "health"] {
            let call: () async throws -> Void =
                method == "predict" ? { _ = try await client.predict([customer]) } : { _ = try await client.health() }
            for _ in 0..<300 { try await call() }  // warm up: every cache and connection in place
            let pid = String(process.processIdentifier)
            try run("callgrind_control", ["-z", pid])
            try run("callgrind_control", ["-i", "on", pid])
            for _ in 0..<calls { try await call() }
            try run("callgrind_control", ["-d", pid])
            try run("callgrind_control", ["-i", "off", pid])
            let dump = try newestDump(in: folder)
            results.append(try summarize(dump, method: method, calls: calls))
            if let keep {
                try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                let kept = keep + "/callgrind.\(method)"
                try? FileManager.default.removeItem(atPath: kept)
                try FileManager.default.copyItem(atPath: dump, toPath: kept)
            }
            try FileManager.default.removeItem(atPath: dump)
        }
        await client.close()
        return results
    }

    /// Totals and groups of a callgrind dump, per request.
    private static func summarize(_ dump: String, method: String, calls: Int) throws -> Result {
        let text = try output("callgrind_annotate", ["--threshold=100", dump])
        var total = 0
        var groups: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard let first = trimmed.first, first.isNumber, let space = trimmed.firstIndex(of: " ") else { continue }
            let count = Int(trimmed[..<space].replacingOccurrences(of: ",", with: "")) ?? 0
            if line.contains("PROGRAM TOTALS") {
                total = count
                continue
            }
            groups[group(of: String(trimmed)), default: 0] += count
        }
        guard total > 0 else { throw ValidationError("callgrind recorded nothing for \(method)") }
        return Result(
            method: method, perRequest: total / calls,
            breakdown: groups.map { ($0.key, $0.value / calls) }.sorted { $0.1 > $1.1 })
    }

    /// Where a function's instructions count: by the module its symbol names or the library it is in.
    static func group(of line: String) -> String {
        let rules: [(String, [String])] = [
            ("JSON reading (request, plugin answer)", ["JSONParser", "JSONValueDecoder", "parseJSON", "PredictPathDecoding"]),
            ("JSON writing and framing", ["JSONWriter", "JSONValueEncoder", "TreeEncoding", "TreeKeyed", "RPCFrames", "JSONDirect"]),
            ("record validation (schema)", ["9ChurnData"]),
            ("routing, batching, metrics (daemon)", ["11ChurnDaemon", "Histogram", "Prometheus"]),
            ("RPC server and client (ours)", ["8ChurnRPC", "13ChurnProtocol"]),
            ("NIO event loop, channels, sockets", ["NIOPosix", "NIOCore", "NIOExtras", "DequeModule"]),
            ("Swift concurrency runtime (tasks, executors)", ["libswift_Concurrency"]),
            ("Swift runtime (ARC, exclusivity, hashing, strings, casts)", ["libswiftCore", "libswiftSynchronization"]),
            ("Foundation", ["Foundation"]),
            ("libc and system calls (malloc, memcpy, epoll, read/write)", ["libc.so", "ld-linux", "libm.so"]),
        ]
        for (name, needles) in rules where needles.contains(where: { line.contains($0) }) { return name }
        return "other"
    }

    private static func newestDump(in folder: String) throws -> String {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("callgrind.out.") }
        let dated = files.map { ($0, (try? FileManager.default.attributesOfItem(atPath: folder + "/" + $0)[.modificationDate] as? Date) ?? .distantPast) }
        guard let newest = dated.max(by: { $0.1 < $1.1 }) else { throw ValidationError("callgrind wrote no dump in \(folder)") }
        return folder + "/" + newest.0
    }

    static func which(_ tool: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        _ = try output(tool, arguments)
    }

    private static func output(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : which(tool) ?? tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(tool) \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Interposed under valgrind 3.19 only (LD_PRELOAD), so that churnd runs there at all.
    static let shimSource = """
        #define _GNU_SOURCE
        #include <signal.h>
        #include <dlfcn.h>
        #include <spawn.h>
        #include <errno.h>
        /* valgrind writes the mask sigsuspend is given; libdispatch passes a read-only one. */
        int sigsuspend(const sigset_t *mask) {
            sigset_t copy = *mask;
            int (*real)(const sigset_t *) = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
            return real(&copy);
        }
        /* valgrind refuses close_range over its own descriptors: children inherit them instead. */
        int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from) {
            (void)actions; (void)from;
            return 0;
        }
        /* valgrind's own descriptors sit above the limit it reports: closing them is refused (EBADF). */
        int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *actions, int fd) {
            int (*real)(posix_spawn_file_actions_t *, int) =
                (int (*)(posix_spawn_file_actions_t *, int))dlsym(RTLD_NEXT, "posix_spawn_file_actions_addclose");
            int status = real(actions, fd);
            return status == EBADF ? 0 : status;
        }
        """
}
