import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import Synchronization

/// Turns a model reference into a loaded model in the right plugin, and scores customers on it.
final class ModelServing: Sendable {
    let registry: ModelRegistry
    let supervisor: PluginSupervisor
    private let artifactCache: String
    private let predictTimeout: Duration
    private let logger: Logger
    /// Resolved references; cleared whenever an alias moves or a version is added.
    private let resolved = Mutex<[ModelReference: ModelVersionInfo]>([:])

    /// The most customers one `predict` or `explain` call may carry.
    static let maximumBatch = 100_000

    init(
        registry: ModelRegistry, supervisor: PluginSupervisor, artifactCache: String, predictTimeout: Duration,
        logger: Logger
    ) {
        self.registry = registry
        self.supervisor = supervisor
        self.artifactCache = artifactCache
        self.predictTimeout = predictTimeout
        self.logger = logger
    }

    /// Forgets resolved references (after promote, rollback, register).
    func invalidate() {
        resolved.withLock { $0.removeAll() }
    }

    /// Scores `customers` on the version `reference` names (the champion when nil).
    func predict(_ customers: [CustomerRecord], reference: String?) async throws -> [Prediction] {
        let records = try Self.validated(customers)
        let target = try await prepare(reference)
        let result = try await target.plugin.call(
            PluginMethod.Predict.self, PluginPredictParams(model: target.handle, customers: records),
            over: target.connection, timeout: predictTimeout)
        let probabilities = try checked(result.probabilities, count: records.count, kind: target.version.kind)
        return zip(records, probabilities).map { record, probability in
            Prediction(
                customerID: record.customerID ?? "", churnProbability: probability, churn: probability >= 0.5,
                model: target.version.ref, arm: target.arm)
        }
    }

    /// Scores and explains `customers` on the version `reference` names.
    func explain(_ customers: [CustomerRecord], reference: String?, top: Int?) async throws -> [CustomerExplanation] {
        if let top, top < 0 { throw RPCError.invalidParams(field: "top", "must be 0 or more, got \(top)") }
        let records = try Self.validated(customers)
        let target = try await prepare(reference)
        let result = try await target.plugin.call(
            PluginMethod.Explain.self, PluginExplainParams(model: target.handle, customers: records, top: top ?? 10),
            over: target.connection, timeout: predictTimeout)
        _ = try checked(result.explanations.map(\.churnProbability), count: records.count, kind: target.version.kind)
        return zip(records, result.explanations).map { record, explanation in
            CustomerExplanation(
                customerID: record.customerID ?? "", model: target.version.ref, arm: target.arm,
                explanation: explanation)
        }
    }

    // MARK: Resolution and loading

    struct Target {
        let version: ModelVersionInfo
        let plugin: PluginProcess
        let connection: RPCConnection
        let handle: String
        let arm: String
    }

    func prepare(_ reference: String?) async throws -> Target {
        let parsed: ModelReference
        if let reference {
            guard let value = ModelReference(parsing: reference) else {
                throw RPCError.invalidParams(
                    field: "model", "\"\(reference)\" is not a model reference: use 3, churn@3, champion or churn@champion")
            }
            parsed = value
        } else {
            parsed = .champion()
        }
        let version = try await resolve(parsed)
        let plugin = try supervisor.plugin(kind: version.kind)
        let handle = version.ref.description
        let connection: RPCConnection
        if let loaded = await plugin.connectionIfLoaded(handle) {
            connection = loaded
        } else {
            let path = try await cachedArtifact(of: version)
            connection = try await plugin.connection(
                loading: PluginLoadParams(model: handle, artifactPath: path, sha256: version.artifact.sha256))
        }
        let arm =
            version.aliases.contains(ModelReference.champion)
            ? "champion" : version.aliases.contains(ModelReference.challenger) ? "challenger" : "direct"
        return Target(version: version, plugin: plugin, connection: connection, handle: handle, arm: arm)
    }

    /// The version a reference names, from the cache when it was resolved before.
    func resolve(_ reference: ModelReference) async throws -> ModelVersionInfo {
        if let hit = resolved.withLock({ $0[reference] }) { return hit }
        let version = try await registry.resolve(reference)
        resolved.withLock { $0[reference] = version }
        return version
    }

    /// The artifact as a file the plugin can read, written once per sha256.
    private func cachedArtifact(of version: ModelVersionInfo) async throws -> String {
        let path = (artifactCache as NSString).appendingPathComponent("\(version.artifact.sha256).artifact")
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            (attributes[.size] as? Int) == version.artifact.rawBytes
        {
            return path
        }
        let bytes = try await registry.artifact(of: version.ref)
        do {
            try FileManager.default.createDirectory(atPath: artifactCache, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RPCError(.fileError, "cannot write the artifact cache at \(path): \(error.localizedDescription)")
        }
        return path
    }

    // MARK: Checks

    /// The records to send to a plugin: checked against the telco schema (every bad field named
    /// by its path) and rewritten in canonical form, without any label field.
    static func validated(_ customers: [CustomerRecord]) throws -> [CustomerRecord] {
        guard !customers.isEmpty else {
            throw RPCError.invalidParams(field: "customers", "must hold at least one customer")
        }
        guard customers.count <= maximumBatch else {
            throw RPCError.invalidParams(
                field: "customers", "holds \(customers.count) customers; at most \(maximumBatch) per call")
        }
        return try TelcoRecords.table(customers).records
    }

    private func checked(_ probabilities: [Double], count: Int, kind: String) throws -> [Double] {
        guard probabilities.count == count else {
            throw RPCError(
                .internalError, "plugin \(kind) returned \(probabilities.count) probabilities for \(count) customers")
        }
        if let bad = probabilities.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw RPCError(
                .internalError, "plugin \(kind) returned probability \(probabilities[bad]) for customer \(bad)")
        }
        return probabilities
    }
}

