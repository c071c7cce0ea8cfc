/// The best way found to split one leaf.
struct SplitCandidate: Sendable {
    var feature: Int
    /// G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), with `catL2` added to λ for sorted categorical
    /// splits.
    var gain: Double
    var isCategorical: Bool
    /// Numeric: `code <= threshold` goes left.
    var threshold: UInt8
    /// Categorical: the categories that go left.
    var categories: CategorySet
    /// Where missing codes go.
    var defaultLeft: Bool
    var left: NodeSums
    var right: NodeSums

    /// Whether a row with `code` for the split feature goes left.
    @inline(__always)
    func goesLeft(_ code: UInt8) -> Bool {
        if code == BoostingMatrix.missing { return defaultLeft }
        return isCategorical ? categories.contains(code) : code <= threshold
    }
}

/// Finds a leaf's best split from its histograms: numeric features by scanning bins in order,
/// categorical ones LightGBM's way; missing values tried on both sides.
struct SplitFinder {
    let features: [BoostingFeature]
    let options: BoostingOptions

    /// `G²/(H+λ)`, the loss reduction of a leaf's optimal value (up to a factor ½ everywhere).
    @inline(__always)
    static func score(_ sums: NodeSums, lambda: Double) -> Double {
        let denominator = sums.hessian + lambda
        return denominator > 0 ? sums.gradient * sums.gradient / denominator : 0
    }

    /// A leaf's value before shrinkage: −G/(H+λ).
    @inline(__always)
    static func leafValue(_ sums: NodeSums, lambda: Double) -> Double {
        let denominator = sums.hessian + lambda
        return denominator > 0 ? -sums.gradient / denominator : 0
    }

    /// The best split of a leaf with sums `total` over `candidates` (ascending features), or nil
    /// when none gains more than `minSplitGain` while leaving `minDataInLeaf` rows and
    /// `minChildWeight` hessian on each side. Ties keep the first found (lowest feature, lowest
    /// threshold, missing right before left), so the choice is deterministic.
    func best(histograms: UnsafePointer<NodeSums>, candidates: [Int], total: NodeSums) -> SplitCandidate? {
        var best: SplitCandidate?
        for feature in candidates {
            let bins = histograms + feature * Histogram.binsPerFeature
            let found: SplitCandidate?
            switch features[feature].kind {
            case .numeric: found = numeric(feature, bins: bins, total: total)
            case .categorical: found = categorical(feature, bins: bins, total: total)
            }
            if let found, found.gain > (best?.gain ?? -.infinity) { best = found }
        }
        guard let best, best.gain > options.minSplitGain else { return nil }
        return best
    }

    /// Whether both sides keep enough rows and hessian.
    @inline(__always)
    private func allowed(_ left: NodeSums, _ right: NodeSums) -> Bool {
        left.count >= options.minDataInLeaf && right.count >= options.minDataInLeaf
            && left.hessian >= options.minChildWeight && right.hessian >= options.minChildWeight
    }

    /// Where missing goes when the node saw no missing value: the side with the larger cover.
    @inline(__always)
    private static func coverSide(_ left: NodeSums, _ right: NodeSums) -> Bool { left.hessian >= right.hessian }

    /// Thresholds in bin order; each with missing rows sent right, then left.
    private func numeric(_ feature: Int, bins: UnsafePointer<NodeSums>, total: NodeSums) -> SplitCandidate? {
        let lambda = options.lambdaL2
        let parent = Self.score(total, lambda: lambda)
        let missing = bins[Int(BoostingMatrix.missing)]
        let hasMissing = missing.count > 0
        var best: SplitCandidate?
        var nonMissingLeft = NodeSums()
        for threshold in 0..<features[feature].binCount {
            let bin = bins[threshold]
            nonMissingLeft = nonMissingLeft + bin
            // An empty bin gives the same partition as the threshold before it.
            guard bin.count > 0 else { continue }
            for side in 0..<(hasMissing ? 2 : 1) {
                let missingLeft = side == 1
                let left = missingLeft ? nonMissingLeft + missing : nonMissingLeft
                let right = total - left
                guard allowed(left, right) else { continue }
                let gain = Self.score(left, lambda: lambda) + Self.score(right, lambda: lambda) - parent
                if gain > (best?.gain ?? -.infinity) {
                    best = SplitCandidate(
                        feature: feature, gain: gain, isCategorical: false, threshold: UInt8(threshold), categories: CategorySet(),
                        defaultLeft: hasMissing ? missingLeft : Self.coverSide(left, right), left: left, right: right)
                }
            }
        }
        return best
    }

    /// With at most `maxCatToOneHot` categories, one category against the rest. Otherwise the
    /// categories with at least `catSmooth` rows here are sorted by G/(H + catSmooth) and the
    /// prefixes of that order are scanned (from the other end too when some rows are in left-out
    /// categories, since then the two ends give different partitions), `catL2` added to λ.
    private func categorical(_ feature: Int, bins: UnsafePointer<NodeSums>, total: NodeSums) -> SplitCandidate? {
        let categoryCount = features[feature].binCount
        let missing = bins[Int(BoostingMatrix.missing)]
        let hasMissing = missing.count > 0
        var best: SplitCandidate?

        func consider(_ inSet: NodeSums, lambda: Double, parent: Double, members: () -> CategorySet) {
            for side in 0..<(hasMissing ? 2 : 1) {
                let missingLeft = side == 1
                let left = missingLeft ? inSet + missing : inSet
                let right = total - left
                guard allowed(left, right) else { continue }
                let gain = Self.score(left, lambda: lambda) + Self.score(right, lambda: lambda) - parent
                if gain > (best?.gain ?? -.infinity) {
                    best = SplitCandidate(
                        feature: feature, gain: gain, isCategorical: true, threshold: 0, categories: members(),
                        defaultLeft: hasMissing ? missingLeft : Self.coverSide(left, right), left: left, right: right)
                }
            }
        }

        if categoryCount <= options.maxCatToOneHot {
            let lambda = options.lambdaL2
            let parent = Self.score(total, lambda: lambda)
            for category in 0..<categoryCount where bins[category].count > 0 {
                consider(bins[category], lambda: lambda, parent: parent) { CategorySet([UInt8(category)]) }
            }
            return best
        }

        var sorted: [(key: Double, category: Int)] = []
        var leftOutRows = 0
        for category in 0..<categoryCount {
            let sums = bins[category]
            guard sums.count > 0 else { continue }
            if Double(sums.count) >= options.catSmooth {
                sorted.append((sums.gradient / (sums.hessian + options.catSmooth), category))
            } else {
                leftOutRows += sums.count
            }
        }
        guard !sorted.isEmpty else { return nil }
        sorted.sort { $0.key < $1.key || ($0.key == $1.key && $0.category < $1.category) }
        let lambda = options.lambdaL2 + options.catL2
        let parent = Self.score(total, lambda: lambda)
        for end in 0..<(leftOutRows > 0 ? 2 : 1) {
            let fromHighEnd = end == 1
            var inSet = NodeSums()
            for length in 1...sorted.count {
                let position = fromHighEnd ? sorted.count - length : length - 1
                inSet = inSet + bins[sorted[position].category]
                let range = fromHighEnd ? (sorted.count - length)..<sorted.count : 0..<length
                consider(inSet, lambda: lambda, parent: parent) { CategorySet(range.map { UInt8(sorted[$0].category) }) }
            }
        }
        return best
    }
}
