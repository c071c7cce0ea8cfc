import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import Synchronization

/// Turns a model reference into what answers it: the version it names (cached, and kept while
/// a shared registry cannot be reached), its artifact as a file the plugin can read, the model
/// loaded in its plugin (a blend's members in theirs), and the version's record validator and
/// calibrator, each built once.
final class ModelResolver: Sendable {
    let registry: ModelRegistry
    let supervisor: PluginSupervisor
    private let artifactCache: String
    /// Resolved references; cleared whenever an alias moves or a version is added.
    private let resolved = Mutex<[ModelReference: ModelVersionInfo]>([:])
    /// What each reference last resolved to, kept through ``invalidate()``: served while a shared
    /// registry cannot be reached.
    private let lastResolved = Mutex<[ModelReference: ModelVersionInfo]>([:])
    /// Record validators by version (a version's schema never changes).
    private let validators = Mutex<[ModelRef: RecordValidator]>([:])
    /// Calibrators by version (nil: the version serves its plugin's probabilities as they are).
    private let calibrators = Mutex<[ModelRef: Calibrator?]>([:])

    init(registry: ModelRegistry, supervisor: PluginSupervisor, artifactCache: String) {
        self.registry = registry
        self.supervisor = supervisor
        self.artifactCache = artifactCache
    }

    /// Forgets resolved references (after promote, rollback, register).
    func invalidate() {
        resolved.withLock { $0.removeAll() }
    }

    /// One loaded model: a version's, or one member of a blend.
    struct Part: Sendable {
        let ref: ModelRef
        let plugin: PluginProcess
        let handle: String
        /// The member's weight in a blend (1 for a version of its own).
        let weight: Double

        /// The connection to send this model's calls over, as its plugin process decides it
        /// (``PluginProcess/connection(for:)``): a restarted plugin's new one, the model
        /// loaded again in it.
        func connection() async throws -> RPCConnection {
            try await plugin.connection(for: handle)
        }
    }

    /// What answers a reference: the version, its loaded model(s), and how its customers are
    /// checked and its probabilities calibrated.
    struct Target {
        let version: ModelVersionInfo
        /// The model that answers (for a blend, its first member: use ``parts``).
        let part: Part
        /// A blend's members; empty for a version served by one plugin.
        let parts: [Part]
        let arm: Arm
        /// Checks records against the version's dataset schema.
        let validator: RecordValidator
        /// What the version reads as history: its panel's months (``CheckedBatch/sources``), the
        /// derived history, or none.
        let historySource: HistorySource?
        /// Applied to the plugin's probabilities (nil for versions trained before calibration).
        let calibrator: Calibrator?
    }

    /// What answers `reference` (the champion when nil), loaded and ready: a version, or a
    /// blend's members.
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
        var parts: [Part] = []
        let part: Part
        if version.kind == BlendManifest.kind {
            parts = try await blendParts(of: version)
            part = parts[0]
        } else {
            part = try await loaded(version, weight: 1)
        }
        let arm: Arm =
            version.aliases.contains(ModelReference.champion)
            ? .champion : version.aliases.contains(ModelReference.challenger) ? .challenger : .direct
        let validator = try validator(for: version)
        return Target(
            version: version, part: part, parts: parts, arm: arm, validator: validator,
            historySource: Self.historySource(of: version, schema: validator.schema), calibrator: calibrator(for: version))
    }

    /// `version` loaded in its plugin (once: later calls find it loaded).
    private func loaded(_ version: ModelVersionInfo, weight: Double) async throws -> Part {
        let plugin = try supervisor.plugin(kind: version.kind)
        let handle = version.ref.description
        if plugin.connectionIfLoaded(handle) == nil {
            let path = try await cachedArtifact(of: version)
            _ = try await plugin.connection(loading: PluginLoadParams(model: handle, artifactPath: path, sha256: version.artifact.sha256))
        }
        return Part(ref: version.ref, plugin: plugin, handle: handle, weight: weight)
    }

    /// A blend's members, each loaded in its plugin. Refused, naming the blend and the member:
    /// a member whose plugin is not installed, a member version that is gone or whose artifact
    /// is not the one the blend was built from.
    private func blendParts(of blend: ModelVersionInfo) async throws -> [Part] {
        guard let members = blend.members, !members.isEmpty else {
            throw RPCError(.internalError, "\(blend.ref) is a blend that records no members: train it again (churn train --kind auto)")
        }
        var parts: [Part] = []
        for member in members {
            let reference = ModelReference(name: blend.name, selector: .version(member.version))
            let version: ModelVersionInfo
            do {
                version = try await resolve(reference)
            } catch {
                throw RPCError(
                    .pluginUnavailable, "\(blend.ref) is a blend of \(reference), which cannot be read: \(error)",
                    data: ["model": .string(blend.ref.description), "member": .string(reference.description)])
            }
            guard version.artifact.sha256 == member.sha256 else {
                throw RPCError(
                    .internalError,
                    "\(blend.ref) was built from an artifact of \(reference) with sha256 \(member.sha256.prefix(12)), but the registry holds \(version.artifact.sha256.prefix(12)): import the blend again with its members",
                    data: ["model": .string(blend.ref.description), "member": .string(reference.description)])
            }
            do {
                parts.append(try await loaded(version, weight: member.weight))
            } catch let error as RPCError where error.code == RPCErrorCode.pluginUnavailable.rawValue {
                throw RPCError(
                    .pluginUnavailable,
                    "\(blend.ref) is a blend whose member \(reference) is a \(member.kind) model, and \(error.message)",
                    data: ["model": .string(blend.ref.description), "member": .string(reference.description), "kind": .string(member.kind)])
            }
        }
        return parts
    }

    /// What a version reads as history when it is not a panel's months: `derived` for a version
    /// reading the history derived from tenure and charges, nil for none (and for a panel, whose
    /// source is per customer). Versions of the first release recorded nothing: their sequence
    /// models read the derived history.
    static func historySource(of version: ModelVersionInfo, schema: DatasetSchema) -> HistorySource? {
        switch version.historySource {
        case "panel"?: return nil
        case "derived"?: return .derived
        case "none"?: return nil
        default: return version.kind.hasPrefix("lstm") && schema.derivedHistory != nil ? .derived : nil
        }
    }

    /// The monthly panel schema months of `model` are checked against: its champion's, else
    /// its newest version's that reads a panel.
    func panelSchema(of model: String) async throws -> PanelSchema {
        if let champion = try? await resolve(.champion(of: model)), let panel = try validator(for: champion).schema.history {
            return panel
        }
        for listed in try await registry.list(name: model).sorted(by: { $0.version > $1.version }) {
            let version = try await resolve(ModelReference(name: model, selector: .version(listed.version)))
            if let panel = try validator(for: version).schema.history { return panel }
        }
        throw RPCError.invalidParams(
            field: "model",
            "\(model) has no version that reads a monthly panel, so there is no panel schema to check months against: train one with a history file first (churn train --history panel.csv)")
    }

    /// The calibrator a version serves with, decoded once per version.
    func calibrator(for version: ModelVersionInfo) -> Calibrator? {
        if let cached = calibrators.withLock({ $0[version.ref] }) { return cached }
        let calibrator = version.calibration.flatMap { try? JSONValueDecoder.decode(CalibrationRecord.self, from: $0) }?.calibrator
        calibrators.withLock { $0[version.ref] = .some(calibrator) }
        return calibrator
    }

    /// The record validator of a version's dataset schema, built once per version.
    func validator(for version: ModelVersionInfo) throws -> RecordValidator {
        if let cached = validators.withLock({ $0[version.ref] }) { return cached }
        let schema: DatasetSchema
        if let json = version.datasetSchema {
            do {
                schema = try DatasetSchema.decode(json, source: "\(version.ref)")
            } catch {
                throw RPCError(.internalError, "the dataset schema of \(version.ref) is unreadable: \(error)")
            }
        } else {
            schema = BuiltInSchemas.kaggle  // versions of the first release read the Kaggle telco fields
        }
        let validator = RecordValidator(schema: schema)
        validators.withLock { $0[version.ref] = validator }
        return validator
    }

    /// The version a reference names, from the cache when it was resolved before.
    func resolve(_ reference: ModelReference) async throws -> ModelVersionInfo {
        if let hit = resolved.withLock({ $0[reference] }) { return hit }
        let version: ModelVersionInfo
        do {
            version = try await registry.resolve(reference)
        } catch {
            // A shared registry that cannot be reached: keep serving what this reference last
            // named (the champion this host has loaded) until it answers again. It is cached as
            // resolved, so later requests do not each wait for the registry's timeout; the
            // registry watcher forgets it when it sees a change once the registry answers.
            guard Self.isUnreachable(error), let known = lastKnown(reference) else { throw error }
            resolved.withLock { $0[reference] = known }
            return known
        }
        remember(version, as: reference)
        return version
    }

    private static func isUnreachable(_ error: any Error) -> Bool {
        if case .unavailable? = error as? RegistryError { return true }
        return false
    }

    private func lastKnown(_ reference: ModelReference) -> ModelVersionInfo? {
        lastResolved.withLock { $0[reference] }
    }

    private func remember(_ version: ModelVersionInfo, as reference: ModelReference) {
        resolved.withLock { $0[reference] = version }
        lastResolved.withLock { $0[reference] = version }
    }

    /// The artifact as a file the plugin can read, written once per sha256.
    private func cachedArtifact(of version: ModelVersionInfo) async throws -> String {
        let path = (artifactCache as NSString).appendingPathComponent("\(version.artifact.sha256).artifact")
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            (attributes[.size] as? Int) == version.artifact.rawBytes
        {
            return path
        }
        do {
            try FileManager.default.createDirectory(atPath: artifactCache, withIntermediateDirectories: true)
        } catch {
            throw RPCError(.fileError, "cannot create the artifact cache at \(artifactCache): \(error.localizedDescription)")
        }
        // Inflated and checked piece by piece on the registry's thread, straight into the file.
        try await registry.writeArtifact(of: version.ref, to: path)
        return path
    }
}
