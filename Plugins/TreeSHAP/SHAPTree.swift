/// A tree as TreeSHAP reads it. Node 0 is the root. Internal nodes have children; leaves have
/// `left == right == -1`.
///
/// The layout is free (preorder, breadth-first, anything): children are found through `left`
/// and `right` only. A model converts its own tree into this shape once, not per row.
public struct SHAPTree: Sendable {
    /// An internal node's left child; -1 for a leaf.
    public var left: [Int32]
    /// An internal node's right child; -1 for a leaf.
    public var right: [Int32]
    /// The player (feature, or field group index) an internal node splits on, in `0..<players`;
    /// ignored for leaves. Several nodes on one root-to-leaf path may share a player (a field's
    /// one-hot columns mapped to one field, or a numeric feature split twice).
    public var feature: [Int32]
    /// The training weight (rows, or hessian sum) that reached the node; > 0. Only children's
    /// covers are read: an internal node's split fractions are its children's covers over their
    /// sum, so a parent whose own cover differs slightly from its children's sum (rounding in
    /// hessian sums) still gives exactly additive explanations.
    public var cover: [Double]
    /// A leaf's output (raw: the log-odds contribution for boosting, the probability for a
    /// forest); ignored for internal nodes.
    public var value: [Double]

    /// A tree from parallel per-node arrays, all of the same length (at least 1).
    public init(left: [Int32], right: [Int32], feature: [Int32], cover: [Double], value: [Double]) {
        self.left = left
        self.right = right
        self.feature = feature
        self.cover = cover
        self.value = value
    }

    /// What TreeSHAP needs of a whole tree before explaining a row: its expected value (the
    /// cover-weighted mean of its leaf values) and its depth. ``TreeSHAP/summary(_:)`` computes it.
    public struct Summary: Sendable, Hashable {
        public var expected: Double
        public var depth: Int
    }

    /// Number of nodes.
    public var nodeCount: Int { left.count }

    /// Whether `node` is a leaf.
    @inline(__always)
    public func isLeaf(_ node: Int) -> Bool { left[node] < 0 }
}
