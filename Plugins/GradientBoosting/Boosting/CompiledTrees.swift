/// A model's trees flattened for scoring: every tree's packed nodes in one array (children as
/// indices into it), leaf values and category sets likewise, and the roots in tree order. One
/// row is scored without touching any tree's own arrays (no reference counting per tree).
struct CompiledTrees: Sendable, Hashable {
    private var nodes: [BoostedTree.PackedNode] = []
    private var values: [Double] = []
    private var sets: [CategorySet] = []
    private var roots: [Int32] = []

    init(_ trees: [BoostedTree]) {
        for tree in trees {
            let offset = Int32(nodes.count)
            let setOffset = Int32(sets.count)
            roots.append(offset)
            for var node in tree.packed {
                if node.left >= 0 {
                    node.left += offset
                    node.right += offset
                }
                if node.categorySet >= 0 { node.categorySet += setOffset }
                nodes.append(node)
            }
            values.append(contentsOf: tree.value)
            sets.append(contentsOf: tree.categorySets)
        }
    }

    /// `base` plus the value of the leaf the row reaches in each tree, added in tree order; the
    /// row's code for feature `f` is `codes[f * stride]`.
    @inline(__always)
    func score(base: Double, codes: UnsafePointer<UInt8>, stride: Int) -> Double {
        nodes.withUnsafeBufferPointer { nodes in
            values.withUnsafeBufferPointer { values in
                sets.withUnsafeBufferPointer { sets in
                    roots.withUnsafeBufferPointer { roots in
                        var score = base
                        for root in roots {
                            var node = Int(root)
                            while true {
                                let current = nodes[node]
                                if current.left < 0 { break }
                                let code = codes[Int(current.feature) * stride]
                                node = Int(BoostedTree.goesLeft(current, code: code, sets: sets) ? current.left : current.right)
                            }
                            score += values[node]
                        }
                        return score
                    }
                }
            }
        }
    }
}
