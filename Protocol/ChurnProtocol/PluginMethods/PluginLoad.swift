import Foundation

extension PluginMethod {
    /// Load an artifact under a handle chosen by the daemon.
    public enum Load: RPCMethod {
        public static let name = "load"
        public typealias Params = PluginLoadParams
        public typealias Result = PluginLoadResult
    }

    /// Forget a loaded model.
    public enum Unload: RPCMethod {
        public static let name = "unload"
        public typealias Params = PluginUnloadParams
        public typealias Result = NoParams
    }
}

/// Params of the plugin `load` method.
public struct PluginLoadParams: Codable, Sendable, Hashable {
    /// The handle later calls use, chosen by the daemon (e.g. `churn@3`).
    public var model: String
    /// The artifact file.
    public var artifactPath: String
    /// Hex sha256 of the file's bytes; the plugin refuses a file that does not match.
    public var sha256: String

    public init(model: String, artifactPath: String, sha256: String) {
        self.model = model
        self.artifactPath = artifactPath
        self.sha256 = sha256
    }

    enum CodingKeys: String, CodingKey {
        case model, sha256
        case artifactPath = "artifact_path"
    }
}

/// What `load` reports back.
public struct PluginLoadResult: Codable, Sendable, Hashable {
    public var model: String
    /// Input features the model reads, in its own naming.
    public var features: [String]

    public init(model: String, features: [String]) {
        self.model = model
        self.features = features
    }
}

/// Params of the plugin `unload` method.
public struct PluginUnloadParams: Codable, Sendable, Hashable {
    public var model: String
    public init(model: String) { self.model = model }
}
