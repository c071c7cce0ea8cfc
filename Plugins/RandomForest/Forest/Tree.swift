/// One decision tree in preorder: node 0 is the root; an internal node's left child is the next
/// node and its right child is at `right[node]`. Values are class-weighted churn fractions,
/// stored as 16-bit fixed point (the model *is* the stored values, so a round trip is exact).
public struct Tree: Sendable, Hashable {
    /// The feature a node splits on; ``leaf`` for a leaf.
    public var feature: [UInt8]
    /// Rows with `bin <= threshold` go left.
    public var threshold: [UInt8]
    /// The right child of an internal node (0 for a leaf).
    public var right: [UInt32]
    /// The node's churn probability × 65535.
    public var value: [UInt16]
    /// The class-weighted count of (bootstrap) training rows that reached the node: what exact
    /// TreeSHAP weighs the children by. Empty for trees read from a format-1 artifact, which did
    /// not store it.
    public var cover: [Float]

    public static let leaf: UInt8 = 255

    public init() {
        feature = []
        threshold = []
        right = []
        value = []
        cover = []
    }

    public var nodeCount: Int { feature.count }

    /// A probability as stored.
    @inline(__always) public static func quantize(_ probability: Double) -> UInt16 {
        UInt16((min(max(probability, 0), 1) * 65535).rounded())
    }

    @inline(__always) public static func probability(_ stored: UInt16) -> Double {
        Double(stored) / 65535
    }

    /// The leaf a binned row reaches.
    @inline(__always)
    public func leaf(for bins: UnsafePointer<UInt8>) -> Int {
        feature.withUnsafeBufferPointer { features in
            threshold.withUnsafeBufferPointer { thresholds in
                right.withUnsafeBufferPointer { rights in
                    var node = 0
                    while features[node] != Tree.leaf {
                        node = bins[Int(features[node])] <= thresholds[node] ? node + 1 : Int(rights[node])
                    }
                    return node
                }
            }
        }
    }
}
