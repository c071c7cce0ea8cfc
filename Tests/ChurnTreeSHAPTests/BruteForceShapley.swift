import ChurnTreeSHAP

/// The Shapley values of one tree's output for one row by the definition, in O(2^M · nodes):
/// the reference TreeSHAP is checked against. Test-only.
///
/// The value of a coalition S is `E[f(x) | x_S]` on the tree: at a node whose player is in S follow
/// the row's direction, otherwise take the cover-weighted average of the children. Player i gets
/// `Σ_{S ⊆ N \ {i}} |S|! (M - |S| - 1)! / M! · (v(S ∪ {i}) - v(S))`.
enum BruteForceShapley {
    static func values(_ tree: SHAPTree, players: Int, goesLeft: (Int) -> Bool) -> (expected: Double, phi: [Double]) {
        precondition(players <= 20, "brute force over \(players) players would take 2^\(players) coalitions")
        let coalitions = 1 << players
        var value = [Double](repeating: 0, count: coalitions)
        for mask in 0..<coalitions { value[mask] = conditionalExpectation(tree, node: 0, present: mask, goesLeft: goesLeft) }

        var factorial = [Double](repeating: 1, count: players + 1)
        for n in stride(from: 1, through: players, by: 1) { factorial[n] = factorial[n - 1] * Double(n) }

        var phi = [Double](repeating: 0, count: players)
        for player in 0..<players {
            let bit = 1 << player
            for mask in 0..<coalitions where mask & bit == 0 {
                let size = mask.nonzeroBitCount
                let weight = factorial[size] * factorial[players - size - 1] / factorial[players]
                phi[player] += weight * (value[mask | bit] - value[mask])
            }
        }
        return (value[0], phi)
    }

    /// `E[f(x) | x_S]` for the coalition `present` (a bit per player).
    static func conditionalExpectation(_ tree: SHAPTree, node: Int, present: Int, goesLeft: (Int) -> Bool) -> Double {
        let left = Int(tree.left[node])
        let right = Int(tree.right[node])
        if left < 0 { return tree.value[node] }
        if present & (1 << Int(tree.feature[node])) != 0 {
            return conditionalExpectation(tree, node: goesLeft(node) ? left : right, present: present, goesLeft: goesLeft)
        }
        let leftCover = tree.cover[left]
        let rightCover = tree.cover[right]
        return (leftCover * conditionalExpectation(tree, node: left, present: present, goesLeft: goesLeft)
            + rightCover * conditionalExpectation(tree, node: right, present: present, goesLeft: goesLeft)) / (leftCover + rightCover)
    }
}
