import Foundation
import Logging

/// A plugin executable found on disk.
public struct DiscoveredPlugin: Sendable, Hashable {
    /// The kind, from the file name: `churn-plugin-random-forest` → `random_forest`.
    public var kind: String
    /// Absolute path of the executable.
    public var executable: String

    public init(kind: String, executable: String) {
        self.kind = kind
        self.executable = executable
    }
}

/// Finds plugin executables the way git and cargo find subcommands: any executable file
/// named `churn-plugin-<kind>` in the searched folders. The first folder that has a kind wins.
public enum PluginDiscovery {
    /// The file name prefix of plugin executables.
    public static let prefix = "churn-plugin-"

    /// The kind a file name stands for, or nil when it is not a plugin name.
    public static func kind(ofExecutableNamed name: String) -> String? {
        guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
        let kind = String(name.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "_")
        guard kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return kind
    }

    /// The plugins in `directories`, searched in order; later duplicates are logged and skipped.
    public static func discover(in directories: [String], logger: Logger) -> [DiscoveredPlugin] {
        var found: [String: DiscoveredPlugin] = [:]
        var order: [String] = []
        let fileManager = FileManager.default
        for directory in directories {
            guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else {
                logger.debug("plugin folder not readable", metadata: ["folder": "\(directory)"])
                continue
            }
            for name in names.sorted() {
                guard let kind = kind(ofExecutableNamed: name) else { continue }
                let path = (directory as NSString).appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    fileManager.isExecutableFile(atPath: path)
                else { continue }
                if let existing = found[kind] {
                    logger.notice(
                        "plugin shadowed by an earlier folder",
                        metadata: ["kind": "\(kind)", "used": "\(existing.executable)", "ignored": "\(path)"])
                    continue
                }
                found[kind] = DiscoveredPlugin(kind: kind, executable: path)
                order.append(kind)
            }
        }
        return order.compactMap { found[$0] }
    }

    /// The folder of the running executable (`/proc/self/exe` on Linux).
    public static var executableDirectory: String? {
        let path =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath
        return path.map { ($0 as NSString).deletingLastPathComponent }
    }
}
