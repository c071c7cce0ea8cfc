import ChurnBoosting
import ChurnData
import ChurnProtocol
import Foundation

/// The gradient-boosting artifact: a compact, versioned binary file.
///
/// ```
/// 8 bytes   "CHRNGB01"
/// 4 bytes   format version (UInt32, little-endian), currently 1
/// 4 bytes   metadata length M; M bytes of JSON (sorted keys): the dataset schema, the feature
///           schema, the boosting inputs (categories per field, numeric bin edges), the panel
///           window when the model reads a panel
/// the rest  the boosted trees (``BoostingModel/encoded()``: "CHRNGBDT", base score, trees)
/// ```
/// Self-contained like the forest's: it reads and encodes its own inputs.
enum BoostingArtifact {
    static let magic = Array("CHRNGB01".utf8)
    static let formatVersion: UInt32 = 1

    /// Why bytes are not a usable boosting artifact.
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    struct Metadata: Codable {
        var dataset: JSONValue
        var schema: FeatureSchema
        var inputs: BoostingInputs
        var panelWindow: Int?
    }

    struct Contents {
        var model: BoostingModel
        var schema: FeatureSchema
        var inputs: BoostingInputs
        var dataset: DatasetSchema
        var panelWindow: Int?
    }

    static func write(_ contents: Contents) throws -> Data {
        var output = Data(magic)
        append(formatVersion, to: &output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let metadata = try encoder.encode(
            Metadata(dataset: contents.dataset.canonical.jsonValue, schema: contents.schema, inputs: contents.inputs, panelWindow: contents.panelWindow))
        append(UInt32(metadata.count), to: &output)
        output.append(metadata)
        output.append(contents.model.encoded())
        return output
    }

    static func read(_ bytes: Data) throws -> Contents {
        guard bytes.count >= 16, Array(bytes.prefix(8)) == magic else {
            throw Invalid(description: "not a gradient-boosting artifact (no CHRNGB01 header)")
        }
        let version = integer(bytes, at: 8)
        guard version == formatVersion else {
            throw Invalid(description: "gradient-boosting artifact format \(version); this plugin reads format \(formatVersion)")
        }
        let length = Int(integer(bytes, at: 12))
        guard bytes.count >= 16 + length else { throw Invalid(description: "truncated metadata (\(length) bytes announced)") }
        let start = bytes.startIndex
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: bytes.subdata(in: (start + 16)..<(start + 16 + length)))
        } catch {
            throw Invalid(description: "unreadable metadata: \(error)")
        }
        guard metadata.schema.version == FeatureSchema.currentVersion else {
            throw Invalid(description: "feature schema version \(metadata.schema.version); this plugin reads \(FeatureSchema.currentVersion)")
        }
        let expected = metadata.schema.categorical.count + metadata.schema.numeric.count + (metadata.schema.history == nil ? 0 : 3)
        guard metadata.inputs.categories.count == metadata.schema.categorical.count,
            metadata.inputs.categories.count + metadata.inputs.binners.count == expected,
            metadata.inputs.binners.allSatisfy({ $0.edges.count < BoostingMatrix.maximumBinCount })
        else {
            throw Invalid(description: "its inputs do not match its feature schema (\(expected) fields)")
        }
        let model: BoostingModel
        do {
            model = try BoostingModel(decoding: bytes.subdata(in: (start + 16 + length)..<bytes.endIndex))
        } catch {
            throw Invalid(description: "its trees: \(error)")
        }
        guard model.features == metadata.inputs.features else {
            throw Invalid(description: "its trees read \(model.features.count) features, its inputs describe \(metadata.inputs.features.count)")
        }
        let dataset: DatasetSchema
        do {
            dataset = try DatasetSchema.decode(metadata.dataset, source: "the artifact").canonical
        } catch {
            throw Invalid(description: "unreadable dataset schema: \(error)")
        }
        return Contents(model: model, schema: metadata.schema, inputs: metadata.inputs, dataset: dataset, panelWindow: metadata.panelWindow)
    }

    private static func append(_ value: UInt32, to output: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }

    private static func integer(_ bytes: Data, at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + offset + $1]) << (8 * $1) }
    }
}
