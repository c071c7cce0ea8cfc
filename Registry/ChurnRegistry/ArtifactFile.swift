import ChurnProtocol
import Foundation

/// The exported form of one version: everything needed to register it elsewhere.
///
/// ```
/// 8 bytes   "CHRNEXP1"
/// 4 bytes   header length H, unsigned big-endian
/// H bytes   JSON header: name, version, kind, versions, params, metrics, curves, importances,
///           feature schema, training data, notes, tags, created at/by, and the artifact's
///           sha256 and raw size
/// the rest  the artifact, zlib-compressed
/// ```
public enum ArtifactFile {
    static let magic = Array("CHRNEXP1".utf8)
    /// The largest artifact an import inflates (4 GiB).
    public static let maximumRawSize = 1 << 32

    struct Header: Codable {
        var format = 1
        var info: ModelVersionInfo
    }

    /// The file bytes of a version and its raw artifact.
    static func encode(_ info: ModelVersionInfo, compressed: Data) throws -> Data {
        // Sorted keys: the same version exports to the same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var header = try encoder.encode(Header(info: info))
        var output = Data(magic)
        var length = UInt32(header.count).bigEndian
        output.append(Data(bytes: &length, count: 4))
        output.append(header)
        header.removeAll()
        output.append(compressed)
        return output
    }

    /// The version described by an export file and its compressed artifact, checked (inflated
    /// piece by piece against the recorded size and sha256, never held raw).
    static func decode(_ bytes: Data, file: String) throws(RegistryError) -> (ModelVersionInfo, compressed: Data) {
        guard bytes.count >= 12, Array(bytes.prefix(8)) == magic else {
            throw .invalid(field: "file", reason: "\(file) is not a churn model export (no CHRNEXP1 header)")
        }
        let length = bytes[8..<12].reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, 12 + length <= bytes.count else {
            throw .invalid(field: "file", reason: "\(file) is truncated: its header claims \(length) bytes")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: bytes[12..<(12 + length)])
        } catch {
            throw .invalid(field: "file", reason: "\(file) has an unreadable header: \(error)")
        }
        guard header.format == 1 else {
            throw .invalid(field: "file", reason: "\(file) has export format \(header.format); this churn reads format 1")
        }
        let info = header.info
        guard info.artifact.rawBytes > 0, info.artifact.rawBytes <= maximumRawSize else {
            throw .invalid(field: "file", reason: "\(file) records an artifact of \(info.artifact.rawBytes) bytes")
        }
        // Checked as it inflates; what is stored is the file's own compressed stream.
        let compressed = Data(bytes[(12 + length)...])
        do {
            try Zlib.inflate(compressed, expectedSize: info.artifact.rawBytes, sha256: info.artifact.sha256) { _ in }
        } catch {
            throw .integrity(version: "\(info.ref) in \(file)", detail: "\(error)")
        }
        return (info, compressed)
    }
}

/// The exported form of a blend: its members' export files, then its own, so it imports as a
/// whole under any name (its members become new versions, and the blend names them).
///
/// ```
/// 8 bytes   "CHRNBND1"
/// 4 bytes   member count M, unsigned big-endian
/// M times   8 bytes length L, unsigned big-endian, then L bytes: a member's CHRNEXP1 file
/// 8 bytes   length, then the blend's own CHRNEXP1 file
/// ```
public enum BlendBundleFile {
    static let magic = Array("CHRNBND1".utf8)

    static func encode(members: [Data], blend: Data) -> Data {
        var output = Data(magic)
        var count = UInt32(members.count).bigEndian
        output.append(Data(bytes: &count, count: 4))
        for part in members + [blend] {
            var length = UInt64(part.count).bigEndian
            output.append(Data(bytes: &length, count: 8))
            output.append(part)
        }
        return output
    }

    static func isBundle(_ bytes: Data) -> Bool {
        bytes.count >= 8 && Array(bytes.prefix(8)) == magic
    }

    /// The member files and the blend's file, their lengths checked.
    static func decode(_ bytes: Data, file: String) throws(RegistryError) -> (members: [Data], blend: Data) {
        guard bytes.count >= 12 else { throw .invalid(field: "file", reason: "\(file) is a truncated blend export") }
        let start = bytes.startIndex
        let count = bytes[(start + 8)..<(start + 12)].reduce(0) { $0 << 8 | Int($1) }
        guard count >= 1, count <= 64 else {
            throw .invalid(field: "file", reason: "\(file) is a blend export claiming \(count) members (1 to 64 expected)")
        }
        var offset = start + 12
        var parts: [Data] = []
        for index in 0...count {
            guard offset + 8 <= bytes.endIndex else {
                throw .invalid(field: "file", reason: "\(file) is truncated at part \(index + 1) of \(count + 1)")
            }
            let length = bytes[offset..<(offset + 8)].reduce(0) { $0 << 8 | UInt64($1) }
            offset += 8
            guard length <= UInt64(bytes.endIndex - offset) else {
                throw .invalid(field: "file", reason: "\(file) is truncated: part \(index + 1) claims \(length) bytes")
            }
            parts.append(Data(bytes[offset..<(offset + Int(length))]))
            offset += Int(length)
        }
        guard offset == bytes.endIndex else {
            throw .invalid(field: "file", reason: "\(file) has \(bytes.endIndex - offset) bytes after its last part")
        }
        return (Array(parts.dropLast()), parts.last!)
    }
}

extension ModelRegistry {
    /// The export file bytes of `version`, its artifact checked first. A blend exports as a
    /// ``BlendBundleFile`` holding its members' exports too.
    public func export(_ version: ModelRef) throws(RegistryError) -> Data {
        let info = try resolve(ModelReference(name: version.name, selector: .version(version.version)))
        let stored = try storedArtifact(of: version)
        try streamArtifact(of: version, stored: stored) { _ in }
        let own: Data
        do {
            own = try ArtifactFile.encode(info, compressed: stored.compressed)
        } catch {
            throw .conflict("cannot export \(version): \(error)")
        }
        guard let members = info.members, !members.isEmpty else { return own }
        var files: [Data] = []
        for member in members {
            let memberRef = ModelRef(name: version.name, version: member.version)
            do {
                files.append(try export(memberRef))
            } catch .versionNotFound {
                throw .conflict(
                    "cannot export the blend \(version): its member \(memberRef) (\(member.kind), weight \(member.weight)) is gone from the registry")
            } catch {
                throw .conflict("cannot export the blend \(version): its member \(memberRef) (\(member.kind)): \(error)")
            }
        }
        return BlendBundleFile.encode(members: files, blend: own)
    }

    /// Registers the version an export file holds as the next version of `name` (default: its
    /// own name), noting where it came from. Its checksum is verified first. A blend's bundle
    /// registers its members first (every part checked before anything is stored), then the
    /// blend naming them.
    public nonisolated func importFile(_ bytes: Data, file: String, name: String? = nil, user: String) async throws(RegistryError)
        -> ModelVersionInfo
    {
        if BlendBundleFile.isBundle(bytes) {
            return try await importBlend(bytes, file: file, name: name, user: user)
        }
        let (info, compressed) = try await StorageThread.offload { try ArtifactFile.decode(bytes, file: file) }
        guard info.members == nil else {
            throw .invalid(field: "file", reason: "\(file) holds a blend without its members: export the blend again (churn export) and import that file")
        }
        return try await insert(imported(info, file: file, name: name), compressed: (info, compressed), user: user)
    }

    private nonisolated func imported(_ info: ModelVersionInfo, file: String, name: String?) -> ModelRegistration {
        let note = "imported from \(file) (was \(info.ref), created \(info.createdAt) by \(info.createdBy))"
        return ModelRegistration(
            name: name ?? info.name, kind: info.kind, pluginVersion: info.pluginVersion,
            protocolVersion: info.protocolVersion, params: info.params, metrics: info.metrics,
            lossCurve: info.lossCurve ?? [], rocCurve: info.rocCurve ?? [], importances: info.importances ?? [],
            featureSchema: info.featureSchema, trainingData: info.trainingData,
            notes: [info.notes, note].compactMap { $0 }.joined(separator: "; "), tags: info.tags,
            lossCurveUnit: info.lossCurveUnit, datasetSchema: info.datasetSchema, historySource: info.historySource,
            calibration: info.calibration, leaderboard: info.leaderboard)
    }

    private nonisolated func insert(_ registration: ModelRegistration, compressed: (ModelVersionInfo, Data), user: String)
        async throws(RegistryError) -> ModelVersionInfo
    {
        try await insert(registration, artifact: Self.stored(compressed), user: user, action: .import)
    }

    /// Imports a blend bundle: every part decoded and checked, then the members registered, then
    /// the blend with its members renumbered (matched by artifact sha256).
    private nonisolated func importBlend(_ bytes: Data, file: String, name: String?, user: String) async throws(RegistryError)
        -> ModelVersionInfo
    {
        let (memberFiles, blendFile) = try BlendBundleFile.decode(bytes, file: file)
        var members: [(ModelVersionInfo, Data)] = []
        for (index, part) in memberFiles.enumerated() {
            members.append(try await StorageThread.offload { try ArtifactFile.decode(part, file: "\(file) (member \(index + 1))") })
        }
        let blend = try await StorageThread.offload { try ArtifactFile.decode(blendFile, file: "\(file) (blend)") }
        guard let recorded = blend.0.members, recorded.count == members.count else {
            throw .invalid(field: "file", reason: "\(file) holds \(members.count) members, but its blend records \(blend.0.members?.count ?? 0)")
        }
        for member in recorded where !members.contains(where: { $0.0.artifact.sha256 == member.sha256 }) {
            throw .invalid(field: "file", reason: "\(file) lacks the blend's member \(member.kind) with sha256 \(member.sha256.prefix(12))")
        }
        let target = name ?? blend.0.name
        // Members and blend in one transaction: a failure part way stores none of them.
        let template = imported(blend.0, file: file, name: target)
        let parts = members
        let memberVersions = parts.map { member in
            (registration: imported(member.0, file: file, name: target), artifact: Self.stored(member))
        }
        return try await registerBlend(
            members: memberVersions,
            blend: { versions in
                var registration = template
                var renumbered: [String: Int] = [:]
                for (member, version) in zip(parts, versions) { renumbered[member.0.artifact.sha256] = version }
                registration.members = recorded.map { BlendMember(version: renumbered[$0.sha256]!, kind: $0.kind, weight: $0.weight, sha256: $0.sha256) }
                registration.params = BlendMember.params(registration.members!)
                return registration
            },
            artifact: Self.stored(blend), user: user, action: .import
        ).blend
    }

    /// An exported version's compressed artifact as the registry stores it.
    private nonisolated static func stored(_ compressed: (ModelVersionInfo, Data)) -> StoredArtifact {
        StoredArtifact(sha256: compressed.0.artifact.sha256, rawSize: compressed.0.artifact.rawBytes, compressed: compressed.1)
    }
}
