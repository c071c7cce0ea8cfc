import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation

/// A blend version's artifact: which artifacts it averages (by sha256, so it survives an export
/// and import that renumbers its members) and with what weights. Its registry row names the
/// member versions.
struct BlendManifest: Codable, Sendable, Hashable {
    static let kind = "blend"
    static let formatVersion = "1.0.0"

    struct Member: Codable, Sendable, Hashable {
        var kind: String
        var sha256: String
        var weight: Double
    }

    var format = 1
    /// How members' probabilities are combined: `weighted_mean` of their raw (uncalibrated)
    /// probabilities, which the blend's own calibrator then maps.
    var combine = "weighted_mean"
    var members: [Member]

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self)
    }
}

extension ModelTraining {
    /// Fits each member on the run's training rows and registers it as a version of its own
    /// (tagged `blend-member`, with its own held-back metrics and calibration), then registers
    /// the blend: the weighted mean of the members' raw probabilities, calibrated on the
    /// validation rows and judged on the held-back rows like any version.
    func registerBlend(
        _ members: [(kind: String, params: [String: JSONValue], weight: Double)], leaderboard: Leaderboard?, prepared: Prepared,
        name: String, seed: UInt64, params: TrainParams, shownData: String, user: String, context: RPCCallContext
    ) async throws -> ModelVersionInfo {
        let folder = (prepared.artifactPath as NSString).deletingLastPathComponent
        var fitted: [(member: (kind: String, params: [String: JSONValue], weight: Double), fit: Fitted)] = []
        for (index, member) in members.enumerated() {
            let plugin = try serving.supervisor.plugin(kind: member.kind)
            let artifactPath = (folder as NSString).appendingPathComponent("member-\(index + 1).artifact")
            fitted.append((member, try await fit(plugin, params: member.params, prepared: prepared, seed: seed, artifactPath: artifactPath, context: context)))
        }
        // The members, each a version of its own.
        var registered: [BlendMember] = []
        for (member, fit) in fitted {
            var registration = try await describe(
                fit, kind: member.kind, prepared: prepared, name: name, seed: seed, params: params, shownData: shownData, context: context)
            registration.tags = (params.tags ?? []) + ["blend-member"]
            registration.notes = String(format: "member of a blend (weight %.2f) chosen by kind auto", member.weight)
            let version = try await serving.registry.register(registration, stored: fit.artifact, user: user)
            registered.append(BlendMember(version: version.version, kind: member.kind, weight: member.weight, sha256: fit.artifact.sha256))
            await context.progress(stage: "register", step: registered.count, total: members.count + 1, message: "registered blend member \(version.ref) (\(member.kind))")
        }

        // The blend.
        func mix(_ scores: (Fitted) -> [Double]) -> [Double] {
            let columns = fitted.map { scores($0.fit) }
            return columns[0].indices.map { row in zip(fitted, columns).reduce(0) { $0 + $1.0.member.weight * $1.1[row] } }
        }
        var registration = try await describe(
            mix(\.test), mix(\.validation), prepared: prepared, name: name, seed: seed, params: params, shownData: shownData, context: context)
        let manifest = BlendManifest(members: registered.map { BlendManifest.Member(kind: $0.kind, sha256: $0.sha256, weight: $0.weight) })
        let manifestPath = (folder as NSString).appendingPathComponent("blend.artifact")
        try manifest.encoded().write(to: URL(fileURLWithPath: manifestPath))
        let stored = try await ModelRegistry.prepareArtifact(file: manifestPath)
        registration.kind = BlendManifest.kind
        registration.pluginVersion = BlendManifest.formatVersion
        registration.params = [
            "members": .array(registered.map { member in
                .object(["version": .number(Double(member.version)), "kind": .string(member.kind), "weight": .number(member.weight)])
            })
        ]
        registration.importances = Self.blendImportances(zip(fitted, registered).map { ($0.fit.result.importances, $1.weight) })
        registration.historySource = fitted.first?.fit.result.historySource
        registration.members = registered
        registration.leaderboard = leaderboard
        registration.notes = [params.notes, "blend of " + registered.map { "\(name)@\($0.version) (\($0.kind), weight \(String(format: "%.2f", $0.weight)))" }.joined(separator: ", ")]
            .compactMap { $0 }.joined(separator: "; ")
        return try await serving.registry.register(registration, stored: stored, user: user)
    }

    /// Members' importances, each scaled to sum to 1 and weighted by the member's weight, summed
    /// per feature (most important first).
    static func blendImportances(_ members: [([FeatureImportance], Double)]) -> [FeatureImportance] {
        var total: [String: Double] = [:]
        for (importances, weight) in members {
            let sum = importances.filter { $0.importance > 0 }.reduce(0) { $0 + $1.importance }
            guard sum > 0 else { continue }
            for importance in importances where importance.importance > 0 {
                total[importance.feature, default: 0] += weight * importance.importance / sum
            }
        }
        return total.map { FeatureImportance(feature: $0.key, importance: $0.value, method: "blend") }
            .sorted { $0.importance != $1.importance ? $0.importance > $1.importance : $0.feature < $1.feature }
    }
}
