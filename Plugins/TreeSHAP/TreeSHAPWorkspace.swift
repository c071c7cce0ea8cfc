/// Reusable buffers for ``TreeSHAP/explain(_:summary:players:goesLeft:into:workspace:)``: the path
/// elements of every level of the walk, in one flat array sized by the deepest tree explained so
/// far, so explaining many rows (and many trees) allocates nothing per row.
///
/// Not shared between threads: give each worker its own.
public struct TreeSHAPWorkspace: Sendable {
    /// Level after level, each level's copy of the path (at most `min(depth, players) + 1`
    /// elements at depth `depth`).
    var path: [PathElement] = []

    /// An empty workspace; it grows on the first tree it explains.
    public init() {}

    /// Path elements held now (grows only when a deeper tree, or one with more players, comes).
    public var capacity: Int { path.count }

    /// The elements one walk needs: at depth r the path holds at most `min(r, players) + 1`
    /// elements (the root's placeholder and each distinct player once), and every level above
    /// keeps its own copy.
    static func capacity(depth: Int, players: Int) -> Int {
        var total = 0
        for level in 0...depth { total += min(level, max(players, 0)) + 1 }
        return total
    }

    mutating func reserve(_ elements: Int) {
        if path.count < elements {
            path = Array(repeating: PathElement(player: -1, zeroFraction: 0, oneFraction: 0, weight: 0), count: elements)
        }
    }
}

/// One element of the unique path: a player on the current root-to-node path, the fractions of
/// training weight (`zeroFraction`) and of this row (`oneFraction`, 0 or 1) that flow down the
/// path through that player's nodes, and the weight of subsets with `position` players present.
struct PathElement: Sendable {
    var player: Int32
    var zeroFraction: Double
    var oneFraction: Double
    var weight: Double
}
