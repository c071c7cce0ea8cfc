import ChurnData
import ChurnProtocol
import Foundation

/// The random forest's artifact: a compact, versioned binary file.
///
/// ```
/// 8 bytes   "CHRNRF01"
/// 4 bytes   format version (UInt32, little-endian), currently 2
/// 4 bytes   metadata length M; M bytes of JSON: the dataset schema, the feature schema, the bin
///           edges, the options
/// 4 bytes   tree count T
/// per tree  node count N (UInt32), then N features (UInt8), N thresholds (UInt8),
///           N right children (UInt32), N values (UInt16), N covers (Float32 bits, UInt32; format 2
///           on), all little-endian
/// ```
/// Format 1 (no covers) still loads: its forests predict the same, and explain by path
/// attribution (exact TreeSHAP needs the covers).
/// The dataset and feature schemas inside make the artifact self-contained: it reads and encodes
/// its own inputs. An artifact of churn's first release has no dataset schema: its fields are the
/// built-in Kaggle telco schema's.
public enum ForestArtifact {
    static let magic = Array("CHRNRF01".utf8)
    /// The format this build writes; it reads this one and format 1.
    public static let formatVersion: UInt32 = 2

    /// Why bytes are not a usable forest artifact.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    struct Metadata: Codable {
        var dataset: JSONValue?
        /// The window of the panel aggregates, when the forest reads a monthly panel.
        var panelWindow: Int?
        var schema: FeatureSchema
        var bins: FeatureBins
        var options: ForestOptions
    }

    /// The artifact bytes of a forest with its schemas.
    /// What an artifact holds.
    public struct Contents {
        public var forest: RandomForest
        public var schema: FeatureSchema
        public var dataset: DatasetSchema
        public var panelWindow: Int?
    }

    public static func write(_ forest: RandomForest, schema: FeatureSchema, dataset: DatasetSchema, panelWindow: Int? = nil) throws -> Data {
        var output = Data(magic)
        append(formatVersion, to: &output)
        // Sorted keys: the same model always gives the same bytes (and sha256).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let metadata = try encoder.encode(
            Metadata(
                dataset: dataset.canonical.jsonValue, panelWindow: panelWindow, schema: schema, bins: forest.bins, options: forest.options))
        append(UInt32(metadata.count), to: &output)
        output.append(metadata)
        append(UInt32(forest.trees.count), to: &output)
        for tree in forest.trees {
            append(UInt32(tree.nodeCount), to: &output)
            output.append(contentsOf: tree.feature)
            output.append(contentsOf: tree.threshold)
            for right in tree.right { append(right, to: &output) }
            for value in tree.value { append(value, to: &output) }
            for cover in tree.cover { append(cover.bitPattern, to: &output) }
        }
        return output
    }

    /// The forest and schemas in `bytes`, or a clear reason why not.
    public static func read(_ bytes: Data) throws -> Contents {
        var reader = ByteReader(bytes: [UInt8](bytes))
        guard reader.take(8) == magic else {
            throw Invalid(description: "not a random forest artifact (no CHRNRF01 header)")
        }
        let version: UInt32 = try reader.integer()
        guard version == 1 || version == formatVersion else {
            throw Invalid(description: "random forest artifact format \(version); this plugin reads formats 1 and \(formatVersion)")
        }
        let metadataLength: UInt32 = try reader.integer()
        guard let metadataBytes = reader.take(Int(metadataLength)) else { throw Invalid(description: "truncated metadata") }
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(metadataBytes))
        } catch {
            throw Invalid(description: "unreadable metadata: \(error)")
        }
        guard metadata.schema.version == FeatureSchema.currentVersion else {
            throw Invalid(description: "feature schema version \(metadata.schema.version); this plugin reads \(FeatureSchema.currentVersion)")
        }
        guard metadata.bins.featureCount == metadata.schema.width else {
            throw Invalid(description: "bins for \(metadata.bins.featureCount) features, schema has \(metadata.schema.width)")
        }
        let treeCount: UInt32 = try reader.integer()
        var trees: [Tree] = []
        trees.reserveCapacity(Int(treeCount))
        for index in 0..<Int(treeCount) {
            let nodes = Int(try reader.integer() as UInt32)
            var tree = Tree()
            guard let features = reader.take(nodes), let thresholds = reader.take(nodes) else {
                throw Invalid(description: "tree \(index) is truncated")
            }
            tree.feature = features
            tree.threshold = thresholds
            tree.right = try (0..<nodes).map { _ in try reader.integer() }
            tree.value = try (0..<nodes).map { _ in try reader.integer() }
            if version >= 2 {
                tree.cover = try (0..<nodes).map { _ in Float(bitPattern: try reader.integer()) }
                guard tree.cover.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw Invalid(description: "tree \(index) has a negative or non-finite cover") }
            }
            // Every path must end at a leaf inside the tree, on a known feature.
            for node in 0..<nodes where tree.feature[node] != Tree.leaf {
                guard Int(tree.feature[node]) < metadata.schema.width, node + 1 < nodes, Int(tree.right[node]) > node,
                    Int(tree.right[node]) < nodes
                else { throw Invalid(description: "tree \(index) node \(node) is malformed") }
            }
            guard nodes > 0 else { throw Invalid(description: "tree \(index) is empty") }
            trees.append(tree)
        }
        guard reader.isAtEnd else { throw Invalid(description: "unexpected bytes after the last tree") }
        let dataset: DatasetSchema
        if let json = metadata.dataset {
            do {
                dataset = try DatasetSchema.decode(json, source: "the artifact").canonical
            } catch {
                throw Invalid(description: "unreadable dataset schema: \(error)")
            }
        } else {
            dataset = BuiltInSchemas.kaggle.canonical
        }
        return Contents(
            forest: RandomForest(bins: metadata.bins, trees: trees, options: metadata.options), schema: metadata.schema, dataset: dataset,
            panelWindow: metadata.panelWindow)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to output: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var position = 0

        var isAtEnd: Bool { position == bytes.count }

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count >= 0, position + count <= bytes.count else { return nil }
            defer { position += count }
            return Array(bytes[position..<(position + count)])
        }

        mutating func integer<T: FixedWidthInteger>() throws -> T {
            let size = MemoryLayout<T>.size
            guard position + size <= bytes.count else { throw Invalid(description: "truncated artifact") }
            var value: T = 0
            for offset in 0..<size { value |= T(bytes[position + offset]) << (8 * offset) }
            position += size
            return value
        }
    }
}
