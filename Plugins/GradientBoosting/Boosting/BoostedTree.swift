/// A set of category codes (0...255) as 256 bits: the categories a categorical split sends left.
public struct CategorySet: Sendable, Hashable {
    /// Bit `code & 63` of word `code >> 6` is set when `code` is in the set.
    public var words: SIMD4<UInt64>

    /// The empty set.
    public init() { words = .zero }

    /// The set of the given codes.
    public init(_ codes: some Sequence<UInt8>) {
        words = .zero
        for code in codes { insert(code) }
    }

    @inline(__always)
    public func contains(_ code: UInt8) -> Bool {
        (words[Int(code >> 6)] >> UInt64(code & 63)) & 1 != 0
    }

    public mutating func insert(_ code: UInt8) {
        words[Int(code >> 6)] |= 1 << UInt64(code & 63)
    }

    /// The codes in the set, ascending.
    public var codes: [UInt8] { (0...255).map { UInt8($0) }.filter { contains($0) } }
}

/// One regression tree of a boosted model, stored as parallel per-node arrays (compact, fast to
/// walk, and what TreeSHAP reads). Node 0 is the root; a leaf has `left == right == -1`; an
/// internal node's children come after it. Values are already multiplied by the learning rate:
/// a row's raw score is the model's base score plus the value of the leaf it reaches in each tree.
///
/// At an internal node a row goes left when its code is missing and `defaultLeft` is set; else,
/// for a categorical split, when its category is in the node's set (a category outside it, even
/// one never seen in training, goes right); else, for a numeric split, when `code <= threshold`.
public struct BoostedTree: Sendable, Hashable {
    /// The feature an internal node splits on (0 for a leaf).
    public let feature: [UInt16]
    /// Whether an internal node's split is categorical.
    public let isCategorical: [Bool]
    /// A numeric split's threshold bin: `code <= threshold` goes left (0 otherwise).
    public let threshold: [UInt8]
    /// A categorical split's index into ``categorySets`` (-1 otherwise).
    public let categorySet: [Int32]
    /// Where a missing code goes: learned from the training rows with a missing value, or, when
    /// the node saw none, the child with the larger cover.
    public let defaultLeft: [Bool]
    /// An internal node's left child; -1 for a leaf.
    public let left: [Int32]
    /// An internal node's right child; -1 for a leaf.
    public let right: [Int32]
    /// The node's value, −G/(H+λ) × learning rate of its training rows; a leaf's is its output.
    public let value: [Double]
    /// The hessian sum of the training rows that reached the node.
    public let cover: [Double]
    /// The training rows that reached the node.
    public let count: [UInt32]
    /// An internal node's split gain (0 for a leaf).
    public let gain: [Float]
    /// The left sets of the tree's categorical splits.
    public let categorySets: [CategorySet]

    /// One node packed for walking.
    struct PackedNode: Sendable, Hashable {
        var left: Int32
        var right: Int32
        var categorySet: Int32
        var feature: UInt16
        var threshold: UInt8
        /// 1: categorical, 2: missing goes left.
        var flags: UInt8
    }

    /// The nodes as walked by prediction (derived from the arrays above).
    let packed: [PackedNode]

    init(
        feature: [UInt16], isCategorical: [Bool], threshold: [UInt8], categorySet: [Int32], defaultLeft: [Bool],
        left: [Int32], right: [Int32], value: [Double], cover: [Double], count: [UInt32], gain: [Float],
        categorySets: [CategorySet]
    ) {
        self.feature = feature
        self.isCategorical = isCategorical
        self.threshold = threshold
        self.categorySet = categorySet
        self.defaultLeft = defaultLeft
        self.left = left
        self.right = right
        self.value = value
        self.cover = cover
        self.count = count
        self.gain = gain
        self.categorySets = categorySets
        packed = feature.indices.map { node in
            PackedNode(
                left: left[node], right: right[node], categorySet: categorySet[node], feature: feature[node],
                threshold: threshold[node], flags: (isCategorical[node] ? 1 : 0) | (defaultLeft[node] ? 2 : 0))
        }
    }

    public var nodeCount: Int { left.count }

    public var leafCount: Int { left.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }

    @inline(__always)
    public func isLeaf(_ node: Int) -> Bool { left[node] < 0 }

    /// An internal node's children; nil for a leaf.
    public func children(of node: Int) -> (left: Int, right: Int)? {
        left[node] < 0 ? nil : (Int(left[node]), Int(right[node]))
    }

    /// The deepest leaf's depth (0 for a single leaf).
    public var depth: Int {
        var depths = [Int](repeating: 0, count: nodeCount)
        var deepest = 0
        for node in 0..<nodeCount where left[node] >= 0 {
            depths[Int(left[node])] = depths[node] + 1
            depths[Int(right[node])] = depths[node] + 1
            deepest = max(deepest, depths[node] + 1)
        }
        return deepest
    }

    /// The categories an internal categorical node sends left; nil for other nodes.
    public func leftCategories(of node: Int) -> CategorySet? {
        categorySet[node] >= 0 ? categorySets[Int(categorySet[node])] : nil
    }

    /// Whether a row whose code for this node's feature is `code` goes left at internal `node`.
    @inline(__always)
    public func goesLeft(_ node: Int, code: UInt8) -> Bool {
        Self.goesLeft(packed[node], code: code, sets: categorySets)
    }

    @inline(__always)
    static func goesLeft(_ node: PackedNode, code: UInt8, sets: UnsafeBufferPointer<CategorySet>) -> Bool {
        if code == BoostingMatrix.missing { return node.flags & 2 != 0 }
        if node.flags & 1 != 0 { return sets[Int(node.categorySet)].contains(code) }
        return code <= node.threshold
    }

    @inline(__always)
    static func goesLeft(_ node: PackedNode, code: UInt8, sets: [CategorySet]) -> Bool {
        if code == BoostingMatrix.missing { return node.flags & 2 != 0 }
        if node.flags & 1 != 0 { return sets[Int(node.categorySet)].contains(code) }
        return code <= node.threshold
    }

    /// The leaf a row reaches; its code for feature `f` is `codes[f * stride]` (stride 1 for a
    /// row-major row, the row count for a row of a column-major matrix).
    @inline(__always)
    public func leaf(codes: UnsafePointer<UInt8>, stride: Int = 1) -> Int {
        packed.withUnsafeBufferPointer { nodes in
            categorySets.withUnsafeBufferPointer { sets in
                var node = 0
                while true {
                    let current = nodes[node]
                    if current.left < 0 { return node }
                    let code = codes[Int(current.feature) * stride]
                    node = Int(Self.goesLeft(current, code: code, sets: sets) ? current.left : current.right)
                }
            }
        }
    }

    /// The value of the leaf a row reaches (see ``leaf(codes:stride:)``).
    @inline(__always)
    public func output(codes: UnsafePointer<UInt8>, stride: Int = 1) -> Double {
        value[leaf(codes: codes, stride: stride)]
    }
}
