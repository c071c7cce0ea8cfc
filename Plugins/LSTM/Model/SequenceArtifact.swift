import ChurnData
import ChurnML
import ChurnProtocol
import Foundation

/// The LSTM plugins' artifact.
///
/// ```
/// 8 bytes   "CHRNLS01"
/// 4 bytes   format version (UInt32, little-endian), currently 1
/// 4 bytes   metadata length M; M bytes of JSON: kind, dataset schema, feature schema, model
///           configuration, sizes
/// the rest  every weight as Float32, little-endian, in the model's parameter order
/// ```
public enum SequenceArtifact {
    static let magic = Array("CHRNLS01".utf8)
    public static let formatVersion: UInt32 = 1

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    struct Metadata: Codable {
        var kind: String
        /// Absent in artifacts of churn's first release: their fields are the Kaggle telco schema's.
        var dataset: JSONValue?
        /// The fitted encoding of the monthly panel, when the model reads one.
        var panel: HistoryEncoding?
        /// Panel columns, most influential first.
        var panelRanking: [String]?
        var schema: FeatureSchema
        var configuration: SequenceModelConfiguration
        var staticFeatures: Int
        var stepFeatures: Int
    }

    /// What an artifact holds.
    public struct Contents {
        public var model: SequenceModel
        public var schema: FeatureSchema
        public var dataset: DatasetSchema
        public var source: SequenceSource
        public var panelRanking: [String]
    }

    public static func write(
        _ model: SequenceModel, schema: FeatureSchema, dataset: DatasetSchema, kind: String, source: SequenceSource,
        panelRanking: [String] = []
    ) throws -> Data {
        var panel: HistoryEncoding?
        if case .panel(let encoding) = source { panel = encoding }
        var output = Data(magic)
        withUnsafeBytes(of: formatVersion.littleEndian) { output.append(contentsOf: $0) }
        // Sorted keys: the same model always gives the same bytes (and sha256).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let metadata = try encoder.encode(
            Metadata(
                kind: kind, dataset: dataset.canonical.jsonValue, panel: panel, panelRanking: panel == nil ? nil : panelRanking,
                schema: schema, configuration: model.configuration, staticFeatures: model.staticFeatures,
                stepFeatures: model.stepFeatures))
        withUnsafeBytes(of: UInt32(metadata.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(metadata)
        for weight in model.weightValues() { withUnsafeBytes(of: weight.bitPattern.littleEndian) { output.append(contentsOf: $0) } }
        return output
    }

    public static func read(_ bytes: Data, kind: String) throws -> Contents {
        let raw = [UInt8](bytes)
        guard raw.count >= 16, Array(raw[0..<8]) == magic else { throw Invalid(description: "not an LSTM artifact (no CHRNLS01 header)") }
        let version = UInt32(littleEndianBytes: raw[8..<12])
        guard version == formatVersion else {
            throw Invalid(description: "LSTM artifact format \(version); this plugin reads format \(formatVersion)")
        }
        let length = Int(UInt32(littleEndianBytes: raw[12..<16]))
        guard 16 + length <= raw.count else { throw Invalid(description: "truncated metadata") }
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(raw[16..<(16 + length)]))
        } catch {
            throw Invalid(description: "unreadable metadata: \(error)")
        }
        guard metadata.kind == kind else {
            throw Invalid(description: "the artifact is a \(metadata.kind) model; this plugin serves \(kind)")
        }
        guard metadata.schema.version == FeatureSchema.currentVersion else {
            throw Invalid(description: "feature schema version \(metadata.schema.version); this plugin reads \(FeatureSchema.currentVersion)")
        }
        let model = SequenceModel(
            configuration: metadata.configuration, staticFeatures: metadata.staticFeatures, stepFeatures: metadata.stepFeatures, seed: 0)
        let weightBytes = raw[(16 + length)...]
        guard weightBytes.count % 4 == 0 else { throw Invalid(description: "truncated weights") }
        var weights: [Float] = []
        weights.reserveCapacity(weightBytes.count / 4)
        var index = weightBytes.startIndex
        while index < weightBytes.endIndex {
            weights.append(Float(bitPattern: UInt32(littleEndianBytes: weightBytes[index..<(index + 4)])))
            index += 4
        }
        guard model.load(weights: weights) else {
            throw Invalid(description: "\(weights.count) weights do not fit the model the metadata describes")
        }
        var dataset = BuiltInSchemas.kaggle.canonical
        if let json = metadata.dataset {
            do {
                dataset = try DatasetSchema.decode(json, source: "the artifact").canonical
            } catch {
                throw Invalid(description: "unreadable dataset schema: \(error)")
            }
        }
        let source: SequenceSource
        if let panel = metadata.panel {
            guard dataset.history != nil, panel.stepFeatures == metadata.stepFeatures else {
                throw Invalid(description: "the panel encoding does not fit the model's \(metadata.stepFeatures) step features")
            }
            source = .panel(panel)
        } else if metadata.stepFeatures > 0, let fields = dataset.derivedHistory {
            source = .derived(fields, window: metadata.configuration.window)
        } else {
            source = .none
        }
        return Contents(model: model, schema: metadata.schema, dataset: dataset, source: source, panelRanking: metadata.panelRanking ?? [])
    }
}

extension UInt32 {
    init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        var value: UInt32 = 0
        for (offset, byte) in bytes.enumerated() { value |= UInt32(byte) << (8 * offset) }
        self = value
    }
}
