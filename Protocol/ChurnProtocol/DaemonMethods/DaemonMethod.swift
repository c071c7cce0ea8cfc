/// Methods `churnd` serves to its clients (`Protocol/PROTOCOL.md`, "Daemon methods").
public enum DaemonMethod {}

/// A model version by name and number.
public struct ModelRef: Codable, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: Int

    public init(name: String, version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)@\(version)" }
}
