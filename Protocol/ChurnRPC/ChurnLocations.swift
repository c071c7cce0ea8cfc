import Foundation

/// Where churn keeps its socket and state, resolved as every command documents it:
/// a flag wins, then the environment, then the default.
public enum ChurnLocations {
    /// The state folder: `--home`, else `CHURN_HOME`, else `./var`.
    public static func home(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        absolute(flag ?? environment["CHURN_HOME"] ?? "var")
    }

    /// The daemon socket: `--socket`, else `CHURN_SOCKET`, else `$XDG_RUNTIME_DIR/churn/churnd.sock`,
    /// else `<home>/churnd.sock`.
    public static func socket(
        flag: String?, home: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let flag { return absolute(flag) }
        if let path = environment["CHURN_SOCKET"], !path.isEmpty { return absolute(path) }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return (runtime as NSString).appendingPathComponent("churn/churnd.sock")
        }
        return (home as NSString).appendingPathComponent("churnd.sock")
    }

    /// `path` made absolute against the current directory, `~` expanded.
    public static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        let current = FileManager.default.currentDirectoryPath
        return ((current as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }
}
