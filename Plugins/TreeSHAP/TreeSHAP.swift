/// Exact Shapley values of one tree's output, in polynomial time: Algorithm 2 of Lundberg, Erion
/// and Lee, "Consistent individualized feature attribution for tree ensembles" (2018), the
/// algorithm behind shap's `TreeExplainer` (`tree_shap.h`).
///
/// The value function is the paper's: `f_x(S) = E[f(x) | x_S]`, computed on the tree by following
/// the row at nodes whose player is in `S` and taking the cover-weighted average of both children
/// elsewhere. Explaining one row costs O(L·D²) for L leaves and depth D, against O(2^M) for the
/// definition. An ensemble is explained by summing its trees' values (Shapley values are linear):
/// call ``explain(_:summary:players:goesLeft:into:workspace:)`` once per tree with the same `phi`.
///
/// The walk keeps, for the current root-to-node path, one element per distinct player on it: the
/// fraction of training weight that flows down the path when the player is absent (`zeroFraction`,
/// the product of cover ratios at its nodes) and whether the row itself flows down it when present
/// (`oneFraction`, 1 or 0), and a weight per possible number of present players (`weight`: the
/// share of subsets, by Shapley weight, that reach this node). EXTEND adds a player and updates the
/// weights; UNWIND removes one; UNWOUND-SUM is the total weight with one player removed, without
/// removing it. A player met again further down is unwound first and re-extended with both
/// fractions multiplied, so the same field split twice (or its one-hot columns split separately)
/// counts as one player.
public enum TreeSHAP {
    /// Adds the exact Shapley values of `tree`'s output for one row to `phi` (one entry per
    /// player, `players` of them) and returns the tree's expected value (the cover-weighted mean
    /// of its leaf values), so that `expected + Σ added phi` equals the value of the leaf the row
    /// reaches (up to rounding).
    ///
    /// `goesLeft(node)` says where the row goes at internal node `node` (the caller decides:
    /// numeric threshold, categorical set, missing direction). It is called once per internal
    /// node. A player with no node in the tree gets nothing added (its entry is untouched).
    ///
    /// Nothing is allocated once `workspace` has grown to the deepest tree it has explained.
    ///
    /// - Precondition: the tree is well formed (parallel arrays of one length, children in range,
    ///   every internal node has both children, covers > 0), every internal node's player is in
    ///   `0..<players`, and `phi.count >= players`.
    ///
    /// `summary` is the tree's ``summary(_:)``: a model that explains many rows passes the one it
    /// computed when it loaded the tree, instead of a walk of the whole tree per call.
    public static func explain(
        _ tree: SHAPTree, summary: SHAPTree.Summary? = nil, players: Int, goesLeft: (Int) -> Bool, into phi: inout [Double],
        workspace: inout TreeSHAPWorkspace
    ) -> Double {
        precondition(phi.count >= players, "phi has \(phi.count) entries for \(players) players")
        let summary = summary ?? Self.summary(tree)
        workspace.reserve(TreeSHAPWorkspace.capacity(depth: summary.depth, players: players))

        workspace.path.withUnsafeMutableBufferPointer { pathBuffer in
            phi.withUnsafeMutableBufferPointer { phi in
                let base = pathBuffer.baseAddress!

                /// Visits `node`, reached through an edge whose player is `player` (-1 at the root)
                /// with fractions `zero`/`one`. The parent's path, `parentLength` elements at
                /// `parentSegment`, is copied to `segment` and extended; children get the space
                /// after this node's path, so each level keeps its own copy.
                func visit(
                    _ node: Int, segment: Int, parentSegment: Int, parentLength: Int,
                    zero: Double, one: Double, player: Int32
                ) {
                    assert(segment + parentLength < pathBuffer.count, "TreeSHAP path buffer too small")
                    let path = base + segment
                    if parentLength > 0 { path.update(from: base + parentSegment, count: parentLength) }
                    extend(path, length: parentLength, zero: zero, one: one, player: player)
                    var length = parentLength + 1

                    if tree.isLeaf(node) {
                        // Element 0 is the root's placeholder (player -1), not a player.
                        let leafValue = tree.value[node]
                        for i in 1..<length {
                            let element = path[i]
                            let weight = unwoundSum(path, length: length, index: i)
                            phi[Int(element.player)] += weight * (element.oneFraction - element.zeroFraction) * leafValue
                        }
                        return
                    }

                    let split = tree.feature[node]
                    precondition(split >= 0 && Int(split) < players, "node \(node) splits on player \(split), outside 0..<\(players)")
                    let left = Int(tree.left[node])
                    let right = Int(tree.right[node])
                    let (hot, cold) = goesLeft(node) ? (left, right) : (right, left)
                    let total = tree.cover[left] + tree.cover[right]

                    // The player split on higher up: undo that extension and carry its fractions.
                    var incomingZero = 1.0
                    var incomingOne = 1.0
                    if let previous = (1..<length).first(where: { path[$0].player == split }) {
                        incomingZero = path[previous].zeroFraction
                        incomingOne = path[previous].oneFraction
                        unwind(path, length: length, index: previous)
                        length -= 1
                    }

                    let childSegment = segment + length
                    visit(
                        hot, segment: childSegment, parentSegment: segment, parentLength: length,
                        zero: incomingZero * tree.cover[hot] / total, one: incomingOne, player: split)
                    visit(
                        cold, segment: childSegment, parentSegment: segment, parentLength: length,
                        zero: incomingZero * tree.cover[cold] / total, one: 0, player: split)
                }

                visit(0, segment: 0, parentSegment: 0, parentLength: 0, zero: 1, one: 1, player: -1)
            }
        }
        return summary.expected
    }

    /// The tree's expected value: the cover-weighted mean of its leaf values (at each internal
    /// node, the children's values weighted by their covers), which is `E[f(x)]` over the
    /// training weight and the base value of ``explain(_:summary:players:goesLeft:into:workspace:)``.
    public static func expectedValue(_ tree: SHAPTree) -> Double {
        summary(tree).expected
    }

    // MARK: - Tree summary

    /// The tree's expected value and depth (edges from the root to the deepest leaf), in one
    /// pass; checks the tree's shape on the way.
    public static func summary(_ tree: SHAPTree) -> SHAPTree.Summary {
        let count = tree.left.count
        precondition(count > 0, "a SHAPTree needs at least one node")
        precondition(
            tree.right.count == count && tree.feature.count == count && tree.cover.count == count && tree.value.count == count,
            "SHAPTree arrays differ in length: left \(count), right \(tree.right.count), feature \(tree.feature.count), cover \(tree.cover.count), value \(tree.value.count)"
        )
        func walk(_ node: Int) -> SHAPTree.Summary {
            let left = Int(tree.left[node])
            let right = Int(tree.right[node])
            if left < 0 {
                precondition(right < 0, "node \(node) has a right child but no left child")
                return SHAPTree.Summary(expected: tree.value[node], depth: 0)
            }
            precondition(left < count && right >= 0 && right < count, "node \(node) has children \(left), \(right) outside 0..<\(count)")
            let leftCover = tree.cover[left]
            let rightCover = tree.cover[right]
            precondition(leftCover > 0 && rightCover > 0, "node \(node)'s children have covers \(leftCover), \(rightCover); covers must be > 0")
            let l = walk(left)
            let r = walk(right)
            return SHAPTree.Summary(
                expected: (leftCover * l.expected + rightCover * r.expected) / (leftCover + rightCover), depth: max(l.depth, r.depth) + 1)
        }
        return walk(0)
    }

    // MARK: - Path operations (EXTEND, UNWIND, UNWOUND-SUM)

    /// EXTEND: appends `player` with its fractions to a path of `length` elements and updates the
    /// weights: a subset of size k among the new `length + 1` players either leaves the player
    /// out (weight scaled by `zero`) or takes it in (weight moved up one size, scaled by `one`).
    @inline(__always)
    static func extend(_ path: UnsafeMutablePointer<PathElement>, length: Int, zero: Double, one: Double, player: Int32) {
        let n = Double(length + 1)
        path[length] = PathElement(player: player, zeroFraction: zero, oneFraction: one, weight: length == 0 ? 1 : 0)
        var i = length - 1
        while i >= 0 {
            path[i + 1].weight += one * path[i].weight * Double(i + 1) / n
            path[i].weight = zero * path[i].weight * Double(length - i) / n
            i -= 1
        }
    }

    /// UNWIND: removes element `index` from a path of `length` elements, inverting its EXTEND
    /// (the weights are positional, by number of present players, so only the players and
    /// fractions shift down).
    @inline(__always)
    static func unwind(_ path: UnsafeMutablePointer<PathElement>, length: Int, index: Int) {
        let last = length - 1
        let n = Double(length)
        let one = path[index].oneFraction
        let zero = path[index].zeroFraction
        var nextOnePortion = path[last].weight
        var i = last - 1
        while i >= 0 {
            if one != 0 {
                let previous = path[i].weight
                path[i].weight = nextOnePortion * n / (Double(i + 1) * one)
                nextOnePortion = previous - path[i].weight * zero * Double(last - i) / n
            } else {
                path[i].weight = path[i].weight * n / (zero * Double(last - i))
            }
            i -= 1
        }
        for j in index..<last {
            path[j].player = path[j + 1].player
            path[j].zeroFraction = path[j + 1].zeroFraction
            path[j].oneFraction = path[j + 1].oneFraction
        }
    }

    /// UNWOUND-SUM: the total weight the path would have with element `index` unwound, without
    /// changing the path. At a leaf, this times `(one - zero)` of that element is the share of the
    /// leaf's value the element's player is paid.
    @inline(__always)
    static func unwoundSum(_ path: UnsafeMutablePointer<PathElement>, length: Int, index: Int) -> Double {
        let last = length - 1
        let one = path[index].oneFraction
        let zero = path[index].zeroFraction
        var total = 0.0
        var i = last - 1
        if one != 0 {
            var nextOnePortion = path[last].weight
            while i >= 0 {
                let share = nextOnePortion / (Double(i + 1) * one)
                total += share
                nextOnePortion = path[i].weight - share * zero * Double(last - i)
                i -= 1
            }
        } else {
            while i >= 0 {
                total += path[i].weight / (zero * Double(last - i))
                i -= 1
            }
        }
        return total * Double(length)
    }
}
