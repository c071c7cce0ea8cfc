import ChurnTreeSHAP
import Testing

/// Explains `row` on `random` with a fresh workspace; phi starts at zero.
private func explain(_ random: RandomTree, players: Int, row: [Double]) -> (expected: Double, phi: [Double]) {
    var phi = [Double](repeating: 0, count: players)
    var workspace = TreeSHAPWorkspace()
    let expected = TreeSHAP.explain(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) }, into: &phi, workspace: &workspace)
    return (expected, phi)
}

@Suite("TreeSHAP")
struct TreeSHAPTests {
    @Test func equalsBruteForceShapleyValuesOnRandomTreesWithRepeatedPlayers() {
        var rng = SplitMix64(seed: 24)
        var treesWithRepeats = 0
        var worst = 0.0
        for _ in 0..<400 {
            let players = Int.random(in: 2...6, using: &rng)
            let random = RandomTree.make(players: players, maxDepth: Int.random(in: 1...5, using: &rng), using: &rng)
            if random.repeatsAPlayerOnAPath { treesWithRepeats += 1 }
            for _ in 0..<5 {
                let row = RandomTree.row(players: players, using: &rng)
                let (expected, phi) = explain(random, players: players, row: row)
                let reference = BruteForceShapley.values(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) })
                #expect(abs(expected - reference.expected) <= 1e-9, "expected value \(expected) vs E[f] by definition \(reference.expected)")
                for player in 0..<players {
                    worst = max(worst, abs(phi[player] - reference.phi[player]))
                    #expect(abs(phi[player] - reference.phi[player]) <= 1e-9, "player \(player): TreeSHAP \(phi[player]) vs brute force \(reference.phi[player])")
                }
            }
        }
        // The case Algorithm 2's unwind exists for must actually have been exercised.
        #expect(treesWithRepeats >= 100, "only \(treesWithRepeats) of 400 trees repeat a player on a path")
        print("TreeSHAP vs brute force: worst |difference| \(worst) over 2000 rows; \(treesWithRepeats)/400 trees repeat a player on a path")
    }

    @Test func expectedValuePlusPhiIsTheReachedLeafsValue() {
        var rng = SplitMix64(seed: 7)
        var rows = 0
        for _ in 0..<300 {
            let players = Int.random(in: 2...6, using: &rng)
            let random = RandomTree.make(players: players, maxDepth: Int.random(in: 0...5, using: &rng), using: &rng)
            #expect(TreeSHAP.expectedValue(random.tree) == explain(random, players: players, row: RandomTree.row(players: players, using: &rng)).expected)
            for _ in 0..<8 {
                let row = RandomTree.row(players: players, using: &rng)
                let (expected, phi) = explain(random, players: players, row: row)
                let leafValue = random.tree.value[random.leaf(for: row)]
                #expect(abs(expected + phi.reduce(0, +) - leafValue) <= 1e-9, "E \(expected) + Σφ \(phi.reduce(0, +)) vs leaf \(leafValue)")
                rows += 1
            }
        }
        #expect(rows == 2400)
    }

    @Test func aPlayerThatNeverSplitsGetsExactlyZero() {
        var rng = SplitMix64(seed: 3)
        var absentChecked = 0
        for _ in 0..<200 {
            let used = Int.random(in: 2...5, using: &rng)
            let players = used + 2  // two players no tree can split on, plus any of `used` the draw skipped
            let random = RandomTree.make(players: used, maxDepth: 4, using: &rng)
            let splitters = Set(zip(random.tree.left, random.tree.feature).filter { $0.0 >= 0 }.map { Int($0.1) })
            let row = RandomTree.row(players: players, using: &rng)
            let (_, phi) = explain(random, players: players, row: row)
            for player in 0..<players where !splitters.contains(player) {
                #expect(phi[player] == 0, "player \(player) never splits but got \(phi[player])")
                absentChecked += 1
            }
        }
        #expect(absentChecked >= 400)
    }

    @Test func aStumpGivesTheLeafMinusTheMean() {
        // Root splits player 0: left leaf cover 30 value 1, right leaf cover 10 value 5.
        // E = (30·1 + 10·5) / 40 = 2. Going left: φ0 = 1 - 2 = -1; going right: φ0 = 5 - 2 = 3.
        // Player 1 never splits: φ1 = 0.
        let stump = SHAPTree(left: [1, -1, -1], right: [2, -1, -1], feature: [0, -1, -1], cover: [40, 30, 10], value: [0, 1, 5])
        var workspace = TreeSHAPWorkspace()
        var phi = [0.0, 0.0]
        let expected = TreeSHAP.explain(stump, players: 2, goesLeft: { _ in true }, into: &phi, workspace: &workspace)
        #expect(expected == 2)
        #expect(phi == [-1, 0])
        phi = [0, 0]
        #expect(TreeSHAP.explain(stump, players: 2, goesLeft: { _ in false }, into: &phi, workspace: &workspace) == 2)
        #expect(phi == [3, 0])
    }

    @Test func aTwoLevelTreeMatchesTheHandComputedValues() {
        //            node 0: player 0, cover 100
        //           /                         \
        //   node 1: player 1, cover 60     node 2: leaf, cover 40, value 10
        //    /                 \
        // node 3: leaf        node 4: leaf
        // cover 20, value 0   cover 40, value 6
        //
        // The row goes left at node 0 and right at node 1: it reaches node 4 (value 6).
        // v(∅)     = 0.6·(1/3·0 + 2/3·6) + 0.4·10 = 2.4 + 4 = 6.4
        // v({0})   = node 1's mean = 4
        // v({1})   = 0.6·6 + 0.4·10 = 7.6
        // v({0,1}) = 6
        // φ0 = ½[(v{0} - v∅) + (v{0,1} - v{1})] = ½[(4 - 6.4) + (6 - 7.6)] = -2
        // φ1 = ½[(v{1} - v∅) + (v{0,1} - v{0})] = ½[(7.6 - 6.4) + (6 - 4)] = 1.6
        // Check: 6.4 - 2 + 1.6 = 6.
        let tree = SHAPTree(
            left: [1, 3, -1, -1, -1], right: [2, 4, -1, -1, -1], feature: [0, 1, -1, -1, -1],
            cover: [100, 60, 40, 20, 40], value: [0, 0, 10, 0, 6])
        var workspace = TreeSHAPWorkspace()
        var phi = [0.0, 0.0]
        let expected = TreeSHAP.explain(tree, players: 2, goesLeft: { $0 == 0 }, into: &phi, workspace: &workspace)
        #expect(abs(expected - 6.4) <= 1e-12)
        #expect(abs(phi[0] - -2) <= 1e-12, "φ0 = \(phi[0])")
        #expect(abs(phi[1] - 1.6) <= 1e-12, "φ1 = \(phi[1])")
    }

    @Test func aPlayerSplitTwiceOnOnePathIsOnePlayer() {
        //          node 0: player 0, cover 100
        //         /                          \
        //  node 1: player 1, cover 60      node 2: leaf, cover 40, value 0
        //    /                    \
        //  node 3: player 0 again,  node 4: leaf, cover 30, value 0
        //  cover 30
        //    /               \
        // node 5: leaf       node 6: leaf
        // cover 10, value 0  cover 20, value 12
        //
        // The row goes left, left, right (t3 < x0 < t0): it reaches node 6 (value 12).
        // Node 3's mean is 1/3·0 + 2/3·12 = 8; knowing x0 it is 12.
        // v(∅)     = 0.6·(0.5·8) = 2.4
        // v({0})   = 1·(0.5·12)  = 6      (x0 decides node 0 and node 3)
        // v({1})   = 0.6·8       = 4.8
        // v({0,1}) = 12
        // φ0 = ½[(6 - 2.4) + (12 - 4.8)] = 5.4
        // φ1 = ½[(4.8 - 2.4) + (12 - 6)] = 4.2
        // Check: 2.4 + 5.4 + 4.2 = 12. Counting node 3's split as a third player (no unwind) pays
        // player 0 and player 1 differently (still adding up to 9.6), which this test catches.
        let tree = SHAPTree(
            left: [1, 3, -1, 5, -1, -1, -1], right: [2, 4, -1, 6, -1, -1, -1], feature: [0, 1, -1, 0, -1, -1, -1],
            cover: [100, 60, 40, 30, 30, 10, 20], value: [0, 0, 0, 0, 0, 0, 12])
        var workspace = TreeSHAPWorkspace()
        var phi = [0.0, 0.0, 0.0]
        let expected = TreeSHAP.explain(tree, players: 3, goesLeft: { $0 != 3 }, into: &phi, workspace: &workspace)
        #expect(abs(expected - 2.4) <= 1e-12)
        #expect(abs(phi[0] - 5.4) <= 1e-12, "φ0 = \(phi[0])")
        #expect(abs(phi[1] - 4.2) <= 1e-12, "φ1 = \(phi[1])")
        #expect(phi[2] == 0)
    }

    @Test func aSingleLeafTreeHasItsValueAsExpectedAndPaysNobody() {
        let leaf = SHAPTree(left: [-1], right: [-1], feature: [-1], cover: [12], value: [0.25])
        var workspace = TreeSHAPWorkspace()
        var phi = [0.5, -0.5, 0]
        #expect(TreeSHAP.explain(leaf, players: 3, goesLeft: { _ in Issue.record("a leaf has no direction"); return true }, into: &phi, workspace: &workspace) == 0.25)
        #expect(phi == [0.5, -0.5, 0])
    }

    @Test func anEnsembleSumsItsTreesAndStaysAdditive() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<40 {
            let players = Int.random(in: 2...6, using: &rng)
            let trees = (0..<Int.random(in: 2...8, using: &rng)).map { _ in
                RandomTree.make(players: players, maxDepth: Int.random(in: 1...5, using: &rng), using: &rng)
            }
            var workspace = TreeSHAPWorkspace()
            for _ in 0..<4 {
                let row = RandomTree.row(players: players, using: &rng)
                var phi = [Double](repeating: 0, count: players)
                var expected = 0.0
                var prediction = 0.0
                var reference = [Double](repeating: 0, count: players)
                for random in trees {
                    expected += TreeSHAP.explain(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) }, into: &phi, workspace: &workspace)
                    prediction += random.tree.value[random.leaf(for: row)]
                    let brute = BruteForceShapley.values(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) })
                    for player in 0..<players { reference[player] += brute.phi[player] }
                }
                #expect(abs(expected + phi.reduce(0, +) - prediction) <= 1e-9, "E \(expected) + Σφ \(phi.reduce(0, +)) vs ensemble output \(prediction)")
                for player in 0..<players {
                    #expect(abs(phi[player] - reference[player]) <= 1e-9, "player \(player): \(phi[player]) vs \(reference[player])")
                }
            }
        }
    }

    @Test func deepTreesWithFewPlayersStayExactAndTheWorkspaceIsBoundedByPlayers() {
        // Depth 12 on 2-3 players: every path repeats players many times, and the unique path never
        // holds more than players + 1 elements, which is what the workspace is sized by.
        var rng = SplitMix64(seed: 5)
        for _ in 0..<30 {
            let players = Int.random(in: 2...3, using: &rng)
            let random = RandomTree.make(players: players, maxDepth: 12, using: &rng)
            for _ in 0..<3 {
                let row = RandomTree.row(players: players, using: &rng)
                let (expected, phi) = explain(random, players: players, row: row)
                let reference = BruteForceShapley.values(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) })
                for player in 0..<players {
                    #expect(abs(phi[player] - reference.phi[player]) <= 1e-9, "player \(player): \(phi[player]) vs \(reference.phi[player])")
                }
                #expect(abs(expected + phi.reduce(0, +) - random.tree.value[random.leaf(for: row)]) <= 1e-9)
            }
        }
        // A chain of depth 12 on players 0, 1, 0, 1, ...: internal node 2k has a leaf (2k + 1) on
        // the left and the next internal node (2k + 2) on the right; node 24 is the last leaf.
        // Levels 0...12 hold at most 1, 2, 3, 3, ... path elements.
        var chain = SHAPTree(left: [], right: [], feature: [], cover: [], value: [])
        func append(left: Int32, right: Int32, feature: Int32, value: Double) {
            chain.left.append(left); chain.right.append(right); chain.feature.append(feature)
            chain.cover.append(1); chain.value.append(value)
        }
        for level in 0..<12 {
            append(left: Int32(2 * level + 1), right: Int32(2 * level + 2), feature: Int32(level % 2), value: 0)
            append(left: -1, right: -1, feature: -1, value: Double(level))
        }
        append(left: -1, right: -1, feature: -1, value: 99)
        var workspace = TreeSHAPWorkspace()
        var phi = [0.0, 0.0]
        let expected = TreeSHAP.explain(chain, players: 2, goesLeft: { _ in false }, into: &phi, workspace: &workspace)
        #expect(abs(expected + phi[0] + phi[1] - 99) <= 1e-9, "the row runs right to the last leaf")
        #expect(workspace.capacity == 1 + 2 + 3 * 11, "levels 0...12 on 2 players: 1 + 2 + 11·3 elements, not (13·14)/2 = 91")
    }

    @Test func aReusedWorkspaceGivesBitIdenticalValuesAndStopsGrowing() {
        var rng = SplitMix64(seed: 99)
        let players = 5
        let trees = (0..<20).map { _ in RandomTree.make(players: players, maxDepth: 5, using: &rng) }
        let rows = (0..<10).map { _ in RandomTree.row(players: players, using: &rng) }
        var shared = TreeSHAPWorkspace()
        #expect(shared.capacity == 0)
        var capacityAfterFirstPass = 0
        for pass in 0..<2 {
            for row in rows {
                for random in trees {
                    var phi = [Double](repeating: 0, count: players)
                    let expected = TreeSHAP.explain(random.tree, players: players, goesLeft: { random.goesLeft(row, $0) }, into: &phi, workspace: &shared)
                    let fresh = explain(random, players: players, row: row)
                    #expect(expected == fresh.expected)
                    #expect(phi == fresh.phi, "a workspace left dirty by deeper trees changed the values")
                }
            }
            if pass == 0 { capacityAfterFirstPass = shared.capacity } else { #expect(shared.capacity == capacityAfterFirstPass) }
        }
        #expect(capacityAfterFirstPass > 0 && capacityAfterFirstPass <= 1 + 2 + 3 + 4 + 5 + 6)
    }
}
