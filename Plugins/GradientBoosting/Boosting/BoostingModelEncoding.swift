import Foundation

/// Why bytes are not a boosting model this build reads: each case names the part at fault.
public enum BoostingDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes do not start with the model's magic (another file, or another model's artifact).
    case notABoostingModel(header: [UInt8])
    /// A format version this build does not read.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The bytes end inside `part`.
    case truncated(part: String, offset: Int, needed: Int, available: Int)
    /// `part` holds a value that cannot be part of a model.
    case malformed(part: String, reason: String)
    /// Bytes after the last tree.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .notABoostingModel(let header):
            let shown = header.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            return "not a gradient-boosting model: it starts with [\(shown)], not \"\(String(decoding: BoostingModel.magic, as: UTF8.self))\""
        case .unsupportedVersion(let found, let supported):
            return "gradient-boosting model format \(found); this build reads format \(supported)"
        case .truncated(let part, let offset, let needed, let available):
            return "truncated gradient-boosting model: \(part) needs \(needed) bytes at offset \(offset), \(available) left"
        case .malformed(let part, let reason):
            return "malformed gradient-boosting model: \(part): \(reason)"
        case .trailingBytes(let count):
            return "malformed gradient-boosting model: \(count) unexpected bytes after the last tree"
        }
    }
}

/// The binary form of a model, all integers and floats little-endian:
///
/// ```
/// 8 bytes    "CHRNGBDT"
/// UInt32     format version, currently 1
/// UInt32     feature count F; per feature: UInt8 kind (0 numeric, 1 categorical), UInt8 bin count
/// Float64    base score
/// UInt32     tree count T
/// per tree   UInt32 node count N, UInt32 category set count S, then per node, array by array:
///            N UInt16 features, N UInt8 flags (1 categorical, 2 missing goes left),
///            N UInt8 thresholds, N Int32 category set indices, N Int32 left children,
///            N Int32 right children, N Float64 values, N Float64 covers, N UInt32 row counts,
///            N Float32 gains; then S sets of 4 UInt64 words
/// ```
extension BoostingModel {
    static let magic = Array("CHRNGBDT".utf8)
    /// The format this build writes and reads.
    public static let formatVersion: UInt32 = 1

    /// The model's bytes: the same model always gives the same bytes.
    public func encoded() -> Data {
        var writer = ByteWriter()
        writer.bytes.append(contentsOf: Self.magic)
        writer.put(Self.formatVersion)
        writer.put(UInt32(features.count))
        for feature in features {
            writer.put(UInt8(feature.kind == .numeric ? 0 : 1))
            writer.put(UInt8(feature.binCount))
        }
        writer.put(baseScore.bitPattern)
        writer.put(UInt32(trees.count))
        for tree in trees {
            writer.put(UInt32(tree.nodeCount))
            writer.put(UInt32(tree.categorySets.count))
            for value in tree.feature { writer.put(value) }
            for node in 0..<tree.nodeCount {
                writer.put(UInt8((tree.isCategorical[node] ? 1 : 0) | (tree.defaultLeft[node] ? 2 : 0)))
            }
            writer.bytes.append(contentsOf: tree.threshold)
            for value in tree.categorySet { writer.put(value) }
            for value in tree.left { writer.put(value) }
            for value in tree.right { writer.put(value) }
            for value in tree.value { writer.put(value.bitPattern) }
            for value in tree.cover { writer.put(value.bitPattern) }
            for value in tree.count { writer.put(value) }
            for value in tree.gain { writer.put(value.bitPattern) }
            for set in tree.categorySets { for word in 0..<4 { writer.put(set.words[word]) } }
        }
        return Data(writer.bytes)
    }

    /// Reads a model from ``encoded()`` bytes, checking every tree can be walked.
    /// - Throws: ``BoostingDecodingError`` naming what is wrong.
    public init(decoding data: Data) throws {
        var reader = ByteReader(bytes: [UInt8](data))
        guard reader.bytes.starts(with: Self.magic) else {
            if reader.bytes.count < Self.magic.count && Self.magic.starts(with: reader.bytes) {
                throw BoostingDecodingError.truncated(
                    part: "the header", offset: 0, needed: Self.magic.count, available: reader.bytes.count)
            }
            throw BoostingDecodingError.notABoostingModel(header: Array(reader.bytes.prefix(8)))
        }
        reader.position = Self.magic.count
        let version: UInt32 = try reader.read("the format version")
        guard version == Self.formatVersion else {
            throw BoostingDecodingError.unsupportedVersion(found: version, supported: Self.formatVersion)
        }
        let featureCount = Int(try reader.read("the feature count") as UInt32)
        var features: [BoostingFeature] = []
        for index in 0..<featureCount {
            let kind: UInt8 = try reader.read("feature \(index)'s kind")
            let binCount: UInt8 = try reader.read("feature \(index)'s bin count")
            guard kind <= 1 else { throw BoostingDecodingError.malformed(part: "feature \(index)", reason: "kind \(kind)") }
            guard binCount >= 1 else { throw BoostingDecodingError.malformed(part: "feature \(index)", reason: "no bins") }
            features.append(BoostingFeature(kind: kind == 0 ? .numeric : .categorical, binCount: Int(binCount)))
        }
        let baseScore = Double(bitPattern: try reader.read("the base score"))
        guard baseScore.isFinite else { throw BoostingDecodingError.malformed(part: "the base score", reason: "\(baseScore)") }
        let treeCount = Int(try reader.read("the tree count") as UInt32)
        var trees: [BoostedTree] = []
        for index in 0..<treeCount {
            let part = "tree \(index)"
            let nodes = Int(try reader.read("\(part)'s node count") as UInt32)
            let setCount = Int(try reader.read("\(part)'s category set count") as UInt32)
            guard nodes >= 1 else { throw BoostingDecodingError.malformed(part: part, reason: "no nodes") }
            let feature: [UInt16] = try reader.array(nodes, "\(part)'s features")
            let flags: [UInt8] = try reader.array(nodes, "\(part)'s flags")
            let threshold: [UInt8] = try reader.array(nodes, "\(part)'s thresholds")
            let categorySet: [Int32] = try reader.array(nodes, "\(part)'s category set indices")
            let left: [Int32] = try reader.array(nodes, "\(part)'s left children")
            let right: [Int32] = try reader.array(nodes, "\(part)'s right children")
            let value = (try reader.array(nodes, "\(part)'s values") as [UInt64]).map(Double.init(bitPattern:))
            let cover = (try reader.array(nodes, "\(part)'s covers") as [UInt64]).map(Double.init(bitPattern:))
            let count: [UInt32] = try reader.array(nodes, "\(part)'s row counts")
            let gain = (try reader.array(nodes, "\(part)'s gains") as [UInt32]).map(Float.init(bitPattern:))
            let words: [UInt64] = try reader.array(setCount * 4, "\(part)'s category sets")
            let sets = (0..<setCount).map { CategorySet(words: SIMD4(words[$0 * 4], words[$0 * 4 + 1], words[$0 * 4 + 2], words[$0 * 4 + 3])) }

            // Every node reached once, from a parent before it; splits on known features.
            var parents = [Int](repeating: 0, count: nodes)
            for node in 0..<nodes {
                let at = "\(part) node \(node)"
                guard value[node].isFinite, cover[node].isFinite, cover[node] >= 0 else {
                    throw BoostingDecodingError.malformed(part: at, reason: "value \(value[node]), cover \(cover[node])")
                }
                guard flags[node] & ~3 == 0 else { throw BoostingDecodingError.malformed(part: at, reason: "flags \(flags[node])") }
                if left[node] < 0 || right[node] < 0 {
                    guard left[node] == -1, right[node] == -1 else {
                        throw BoostingDecodingError.malformed(part: at, reason: "a leaf must have both children -1")
                    }
                    continue
                }
                for child in [left[node], right[node]] {
                    guard Int(child) > node, Int(child) < nodes else {
                        throw BoostingDecodingError.malformed(part: at, reason: "child \(child) is not a later node of \(nodes)")
                    }
                    parents[Int(child)] += 1
                }
                guard Int(feature[node]) < featureCount else {
                    throw BoostingDecodingError.malformed(part: at, reason: "feature \(feature[node]) of \(featureCount)")
                }
                let categorical = flags[node] & 1 != 0
                guard categorical == (features[Int(feature[node])].kind == .categorical) else {
                    throw BoostingDecodingError.malformed(part: at, reason: "split kind differs from feature \(feature[node])'s")
                }
                if categorical {
                    guard categorySet[node] >= 0, Int(categorySet[node]) < setCount else {
                        throw BoostingDecodingError.malformed(part: at, reason: "category set \(categorySet[node]) of \(setCount)")
                    }
                }
            }
            if let orphan = (1..<nodes).first(where: { parents[$0] != 1 }) {
                throw BoostingDecodingError.malformed(part: "\(part) node \(orphan)", reason: "reached from \(parents[orphan]) parents")
            }
            trees.append(
                BoostedTree(
                    feature: feature, isCategorical: flags.map { $0 & 1 != 0 }, threshold: threshold, categorySet: categorySet,
                    defaultLeft: flags.map { $0 & 2 != 0 }, left: left, right: right, value: value, cover: cover, count: count,
                    gain: gain, categorySets: sets))
        }
        guard reader.position == reader.bytes.count else {
            throw BoostingDecodingError.trailingBytes(count: reader.bytes.count - reader.position)
        }
        self.init(features: features, baseScore: baseScore, trees: trees)
    }
}

extension CategorySet {
    init(words: SIMD4<UInt64>) {
        self.init()
        self.words = words
    }
}

/// Little-endian output.
private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Little-endian input that names the part it was reading when the bytes ran out.
private struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    mutating func read<T: FixedWidthInteger>(_ part: String) throws -> T {
        try array(1, part)[0]
    }

    mutating func array<T: FixedWidthInteger>(_ count: Int, _ part: String) throws -> [T] {
        let size = MemoryLayout<T>.size
        let available = bytes.count - position
        guard count <= available / size else {
            throw BoostingDecodingError.truncated(part: part, offset: position, needed: count * size, available: available)
        }
        var values = [T](repeating: 0, count: count)
        for index in 0..<count {
            var value: T = 0
            let start = position + index * size
            for offset in 0..<size { value |= T(bytes[start + offset]) << (8 * offset) }
            values[index] = value
        }
        position += count * size
        return values
    }
}
