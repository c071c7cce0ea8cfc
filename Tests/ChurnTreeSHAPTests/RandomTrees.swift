import ChurnTreeSHAP

/// SplitMix64: a tiny seeded generator so every random tree and row is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random tree with a threshold per internal node, so a row (one value in [0, 1) per player)
/// decides every node's direction and the same player always sends the row the same way.
struct RandomTree {
    var tree: SHAPTree
    var threshold: [Double]

    /// Where `row` goes at internal node `node`: left when its player's value is below the threshold.
    func goesLeft(_ row: [Double], _ node: Int) -> Bool {
        row[Int(tree.feature[node])] < threshold[node]
    }

    /// The leaf `row` reaches.
    func leaf(for row: [Double]) -> Int {
        var node = 0
        while tree.left[node] >= 0 { node = Int(goesLeft(row, node) ? tree.left[node] : tree.right[node]) }
        return node
    }

    /// Whether some root-to-leaf path splits on one player more than once.
    var repeatsAPlayerOnAPath: Bool {
        func walk(_ node: Int, _ seen: Set<Int32>) -> Bool {
            if tree.left[node] < 0 { return false }
            let player = tree.feature[node]
            if seen.contains(player) { return true }
            let below = seen.union([player])
            return walk(Int(tree.left[node]), below) || walk(Int(tree.right[node]), below)
        }
        return walk(0, [])
    }

    /// Depth up to `maxDepth`; players drawn from `0..<players`, so they repeat on paths; leaf
    /// covers random and every parent's cover the sum of its children's; leaf values in [-2, 2).
    /// Nodes are stored in a shuffled order (root kept at 0), so nothing relies on preorder.
    static func make(players: Int, maxDepth: Int, using rng: inout SplitMix64) -> RandomTree {
        var left: [Int32] = []
        var right: [Int32] = []
        var feature: [Int32] = []
        var cover: [Double] = []
        var value: [Double] = []
        var threshold: [Double] = []

        func build(depth: Int) -> Int {
            let node = left.count
            left.append(-1)
            right.append(-1)
            feature.append(-1)
            cover.append(0)
            value.append(0)
            threshold.append(0)
            let splits = depth < maxDepth && Double.random(in: 0..<1, using: &rng) < (depth == 0 ? 0.95 : 0.7)
            if splits {
                feature[node] = Int32.random(in: 0..<Int32(players), using: &rng)
                threshold[node] = Double.random(in: 0.05..<0.95, using: &rng)
                let l = build(depth: depth + 1)
                let r = build(depth: depth + 1)
                left[node] = Int32(l)
                right[node] = Int32(r)
                cover[node] = cover[l] + cover[r]
            } else {
                cover[node] = Double.random(in: 0.5..<50, using: &rng)
                value[node] = Double.random(in: -2..<2, using: &rng)
            }
            return node
        }
        _ = build(depth: 0)

        // Shuffle every node but the root to a new index.
        let count = left.count
        var order = Array(1..<count)
        order.shuffle(using: &rng)
        let newIndex = [0] + order  // newIndex[old] = new
        func moved(_ child: Int32) -> Int32 { child < 0 ? -1 : Int32(newIndex[Int(child)]) }
        var shuffled = RandomTree(
            tree: SHAPTree(
                left: .init(repeating: -1, count: count), right: .init(repeating: -1, count: count),
                feature: .init(repeating: -1, count: count), cover: .init(repeating: 0, count: count),
                value: .init(repeating: 0, count: count)),
            threshold: .init(repeating: 0, count: count))
        for old in 0..<count {
            let new = newIndex[old]
            shuffled.tree.left[new] = moved(left[old])
            shuffled.tree.right[new] = moved(right[old])
            shuffled.tree.feature[new] = feature[old]
            shuffled.tree.cover[new] = cover[old]
            shuffled.tree.value[new] = value[old]
            shuffled.threshold[new] = threshold[old]
        }
        return shuffled
    }

    /// A row: one value in [0, 1) per player.
    static func row(players: Int, using rng: inout SplitMix64) -> [Double] {
        (0..<players).map { _ in Double.random(in: 0..<1, using: &rng) }
    }
}
