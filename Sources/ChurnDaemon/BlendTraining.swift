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
            let plugin = try resolver.supervisor.plugin(kind: member.kind)
            let artifactPath = (folder as NSString).appendingPathComponent("member-\(index + 1).artifact")
            fitted.append((member, try await fit(plugin, params: member.params, prepared: prepared, seed: seed, artifactPath: artifactPath, context: context)))
        }
        // The members, each a version of its own, and the blend naming them: registered in one
        // transaction, so a failure leaves no member without its blend.
        var memberRegistrations: [(registration: ModelRegistration, artifact: ModelRegistry.StoredArtifact)] = []
        for (member, fit) in fitted {
            var registration = try await describe(
                fit, kind: member.kind, prepared: prepared, name: name, seed: seed, params: params, shownData: shownData, context: context)
            registration.tags = (params.tags ?? []) + ["blend-member"]
            registration.notes = String(format: "member of a blend (weight %.2f) chosen by kind auto", member.weight)
            memberRegistrations.append((registration, fit.artifact))
        }
        func mix(_ scores: (Fitted) -> [Double]) -> [Double] {
            let columns = fitted.map { scores($0.fit) }
            return columns[0].indices.map { row in zip(fitted, columns).reduce(0) { $0 + $1.0.member.weight * $1.1[row] } }
        }
        var registration = try await describe(
            mix(\.test), mix(\.validation), prepared: prepared, name: name, seed: seed, params: params, shownData: shownData, context: context)
        let manifest = BlendManifest(members: fitted.map { BlendManifest.Member(kind: $0.member.kind, sha256: $0.fit.artifact.sha256, weight: $0.member.weight) })
        let manifestPath = (folder as NSString).appendingPathComponent("blend.artifact")
        try manifest.encoded().write(to: URL(fileURLWithPath: manifestPath))
        let stored = try await ModelRegistry.prepareArtifact(file: manifestPath)
        registration.kind = BlendManifest.kind
        registration.pluginVersion = BlendManifest.formatVersion
        registration.importances = Self.blendImportances(fitted.map { ($0.fit.result.importances, $0.member.weight) })
        registration.historySource = fitted.first?.fit.result.historySource
        registration.leaderboard = leaderboard
        let blendTemplate = registration
        let parts = fitted.map { (kind: $0.member.kind, weight: $0.member.weight, sha256: $0.fit.artifact.sha256) }
        let registered = try await resolver.registry.registerBlend(
            members: memberRegistrations,
            blend: { versions in
                var registration = blendTemplate
                let members = zip(parts, versions).map { part, version in
                    BlendMember(version: version, kind: part.kind, weight: part.weight, sha256: part.sha256)
                }
                registration.members = members
                registration.params = BlendMember.params(members)
                registration.notes = [params.notes, "blend of " + members.map { "\(name)@\($0.version) (\($0.kind), weight \(String(format: "%.2f", $0.weight)))" }.joined(separator: ", ")]
                    .compactMap { $0 }.joined(separator: "; ")
                return registration
            },
            artifact: stored, user: user)
        for member in registered.members {
            await context.progress(stage: "register", step: 1, total: 1, message: "registered blend member \(member.ref) (\(member.kind))")
        }
        return registered.blend
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
