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

extension ModelRegistry {
    /// The export file bytes of `version`, its artifact checked first.
    public func export(_ version: ModelRef) throws(RegistryError) -> Data {
        let info = try resolve(ModelReference(name: version.name, selector: .version(version.version)))
        let stored = try storedArtifact(of: version)
        try streamArtifact(of: version, stored: stored) { _ in }
        do {
            return try ArtifactFile.encode(info, compressed: stored.compressed)
        } catch {
            throw .conflict("cannot export \(version): \(error)")
        }
    }

    /// Registers the version an export file holds as the next version of `name` (default: its
    /// own name), noting where it came from. Its checksum is verified first.
    public nonisolated func importFile(_ bytes: Data, file: String, name: String? = nil, user: String) async throws(RegistryError)
        -> ModelVersionInfo
    {
        let (info, compressed) = try await StorageThread.offload { try ArtifactFile.decode(bytes, file: file) }
        let note = "imported from \(file) (was \(info.ref), created \(info.createdAt) by \(info.createdBy))"
        let registration = ModelRegistration(
            name: name ?? info.name, kind: info.kind, pluginVersion: info.pluginVersion,
            protocolVersion: info.protocolVersion, params: info.params, metrics: info.metrics,
            lossCurve: info.lossCurve ?? [], rocCurve: info.rocCurve ?? [], importances: info.importances ?? [],
            featureSchema: info.featureSchema, trainingData: info.trainingData,
            notes: [info.notes, note].compactMap { $0 }.joined(separator: "; "), tags: info.tags,
            lossCurveUnit: info.lossCurveUnit, datasetSchema: info.datasetSchema, historySource: info.historySource,
            calibration: info.calibration, leaderboard: info.leaderboard)
        return try await insert(
            registration,
            artifact: StoredArtifact(sha256: info.artifact.sha256, rawSize: info.artifact.rawBytes, compressed: compressed),
            user: user, action: .import)
    }
}
