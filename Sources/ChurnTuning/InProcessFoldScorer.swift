import ChurnPluginKit
import ChurnProtocol
import Foundation

/// Scores folds with plugins running in this process (the benchmark and tests): the same
/// `train`, `load` and `predict` contract churnd calls over the socket, on the same fold files.
/// A fit in this process cannot be interrupted: the time limit is not applied (the search still
/// abandons a trial between folds when the rest would overrun).
public struct InProcessFoldScorer: FoldScorer {
    public let plugins: [String: any ChurnModelPlugin]
    public let files: FoldFiles
    public let seed: UInt64

    public init(plugins: [String: any ChurnModelPlugin], files: FoldFiles, seed: UInt64) {
        self.plugins = plugins
        self.files = files
        self.seed = seed
    }

    public func score(kind: String, params: [String: JSONValue], fold: Int, timeLimit: Double) async throws -> [Double] {
        guard let plugin = plugins[kind] else { throw RPCError(.notSupported, "no plugin of kind \(kind) in this process") }
        let artifact = files.artifactPath(fold: fold)
        defer { try? FileManager.default.removeItem(atPath: artifact) }
        _ = try plugin.train(files.trainRequest(fold: fold, params: params, seed: seed, artifactPath: artifact), progress: .silent)
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact)))
        return try model.predict(files.records[fold])
    }
}
