@testable import ChurnBoosting
import ChurnData
import Foundation
import Testing

/// Columns of codes (one array per feature) as a column-major matrix.
private func matrix(_ columns: [[UInt8]], _ features: [BoostingFeature]) -> BoostingMatrix {
    BoostingMatrix(rows: columns[0].count, features: features, codes: columns.flatMap { $0 })
}

private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// A churn file with a known signal: two numeric fields and a 30-category field whose effect jumps
/// around with the category code. Returns the codes, labels and the true probabilities.
private func knownSignal(rows: Int, seed: UInt64) -> (matrix: BoostingMatrix, labels: [Bool], truth: [Double]) {
    var random = SeededRandom(seed: seed)
    let categoryEffect = (0..<30).map { 1.4 * sin(Double($0) * 2.3) }
    var x1: [Float] = [], x2: [Float] = [], category: [UInt8] = [], labels: [Bool] = [], truth: [Double] = []
    for _ in 0..<rows {
        let a = random.unit() * 4 - 2
        let b = random.unit() * 4 - 2
        let c = random.below(30)
        let p = sigmoid(1.2 * a - 0.7 * b * b + 0.9 + categoryEffect[c])
        x1.append(Float(a))
        x2.append(Float(b))
        category.append(UInt8(c))
        truth.append(p)
        labels.append(random.unit() < p)
    }
    // Binned on all rows here for brevity; the edges do not see labels.
    let binners = [NumericBinner.fit(x1), NumericBinner.fit(x2)]
    let features: [BoostingFeature] = [
        .numeric(bins: binners[0].binCount), .numeric(bins: binners[1].binCount), .categorical(categories: 30),
    ]
    return (matrix([binners[0].bin(x1), binners[1].bin(x2), category], features), labels, truth)
}

private func split<T>(_ values: [T], at count: Int) -> ([T], [T]) { (Array(values[..<count]), Array(values[count...])) }

@Suite("Gradient boosting")
struct BoostingTests {
    @Test func rankingComesCloseToTheBayesOptimalOneAndShuffledLabelsLearnNothing() throws {
        let data = knownSignal(rows: 12_000, seed: 11)
        let train = data.matrix.rows(Array(0..<7_000))
        let validation = data.matrix.rows(Array(7_000..<8_500))
        let test = data.matrix.rows(Array(8_500..<12_000))
        let testLabels = Array(data.labels[8_500...])
        var options = BoostingOptions()
        options.rounds = 300
        options.learningRate = 0.1
        options.maxLeaves = 15
        options.earlyStoppingRounds = 20
        let (model, report) = try BoostingModel.fit(
            train: train, labels: Array(data.labels[..<7_000]), validation: (validation, Array(data.labels[7_000..<8_500])),
            options: options)
        let auc = try #require(Metrics.rocAUC(testLabels, model.probabilities(test)))
        let bayes = try #require(Metrics.rocAUC(testLabels, Array(data.truth[8_500...])))
        #expect(auc > 0.6)
        #expect(auc >= bayes - 0.02, "model \(auc) vs Bayes-optimal \(bayes) after \(report.bestRound) rounds")
        #expect(model.splitCounts()[2] > 0, "the categorical field matters and is split on")

        var random = SeededRandom(seed: 5)
        let shuffled = data.labels.shuffled(using: &random)
        let (noise, _) = try BoostingModel.fit(
            train: train, labels: Array(shuffled[..<7_000]), validation: (validation, Array(shuffled[7_000..<8_500])),
            options: options)
        // Scored against the copy's own held-out labels: whatever it learned was noise.
        let noiseAUC = try #require(Metrics.rocAUC(Array(shuffled[8_500...]), noise.probabilities(test)))
        #expect(abs(noiseAUC - 0.5) < 0.04, "a model of shuffled labels ranks its held-out rows at \(noiseAUC)")
    }

    @Test func aStumpSeparatesARandomSubsetOfFortyCategoriesInOneSplit() throws {
        var random = SeededRandom(seed: 3)
        let subset = Set((0..<40).shuffled(using: &random).prefix(15).map { UInt8($0) })
        var category: [UInt8] = [], noise: [UInt8] = [], labels: [Bool] = []
        for _ in 0..<8_000 {
            let c = UInt8(random.below(40))
            category.append(c)
            noise.append(UInt8(random.below(16)))
            labels.append(random.unit() < (subset.contains(c) ? 0.75 : 0.15))
        }
        var options = BoostingOptions()
        options.rounds = 1
        options.maxDepth = 1
        options.earlyStoppingRounds = 0
        let (model, _) = try BoostingModel.fit(
            train: matrix([noise, category], [.numeric(bins: 16), .categorical(categories: 40)]), labels: labels, options: options)
        let tree = model.trees[0]
        #expect(tree.nodeCount == 3)
        #expect(tree.feature[0] == 1 && tree.isCategorical[0])
        // Categories sort by G/(H + cat_smooth): the churning ones (negative gradients) first, so
        // the left set is the subset itself.
        let left = try #require(tree.leftCategories(of: 0))
        #expect(Set(left.codes) == subset)
        #expect(tree.value[Int(tree.left[0])] > 0 && tree.value[Int(tree.right[0])] < 0)
        // A category the model never saw goes right, with the non-churners.
        #expect(!tree.goesLeft(0, code: 200))
    }

    @Test func missingValuesFollowTheLearnedDirectionOrTheLargerCover() throws {
        var options = BoostingOptions()
        options.rounds = 1
        options.maxDepth = 1
        options.earlyStoppingRounds = 0
        // Rows with a missing value all churn; the others churn on one side of a cut. The stump
        // must send missing values to the churning side, whichever side that is.
        for churnBelow in [true, false] {
            var random = SeededRandom(seed: 17)
            var values: [Float] = [], labels: [Bool] = []
            for _ in 0..<4_000 {
                if random.unit() < 0.2 {
                    values.append(.nan)
                    labels.append(true)
                } else {
                    let x = Float(random.unit())
                    values.append(x)
                    labels.append(random.unit() < ((x < 0.3) == churnBelow ? 0.9 : 0.1))
                }
            }
            let binner = NumericBinner.fit(values, maxBins: 32)
            let (model, _) = try BoostingModel.fit(
                train: matrix([binner.bin(values)], [.numeric(bins: binner.binCount)]), labels: labels, options: options)
            let tree = model.trees[0]
            let churningSideIsLeft = tree.value[Int(tree.left[0])] > tree.value[Int(tree.right[0])]
            #expect(churningSideIsLeft == churnBelow)
            #expect(tree.defaultLeft[0] == churnBelow, "missing must go to the churning side")
        }
        // Trained without missing values: an unseen missing value goes to the larger side.
        for cut in [0.8, 0.2] {
            var random = SeededRandom(seed: 23)
            let values = (0..<4_000).map { _ in Float(random.unit()) }
            let labels = values.map { random.unit() < (Double($0) < cut ? 0.2 : 0.8) }
            let binner = NumericBinner.fit(values, maxBins: 32)
            let (model, _) = try BoostingModel.fit(
                train: matrix([binner.bin(values)], [.numeric(bins: binner.binCount)]), labels: labels, options: options)
            let tree = model.trees[0]
            let (left, right) = try #require(tree.children(of: 0))
            let leftIsLarger = tree.cover[left] > tree.cover[right]
            #expect(leftIsLarger == (cut == 0.8))
            #expect(tree.goesLeft(0, code: BoostingMatrix.missing) == leftIsLarger)
            let missingRow: [UInt8] = [BoostingMatrix.missing]
            let score = missingRow.withUnsafeBufferPointer { model.rawScore(row: $0.baseAddress!) }
            #expect(score == model.baseScore + tree.value[leftIsLarger ? left : right])
        }
    }

    @Test func earlyStoppingKeepsExactlyTheTreesUpToTheBestValidationRound() throws {
        let data = knownSignal(rows: 2_500, seed: 29)
        var random = SeededRandom(seed: 31)
        // Some labels flipped at random, so a fast learner overfits within a few rounds.
        let labels = data.labels.map { random.unit() < 0.2 ? random.unit() < 0.3 : $0 }
        let train = data.matrix.rows(Array(0..<1_500))
        let validation = data.matrix.rows(Array(1_500..<2_500))
        let validationLabels = Array(labels[1_500...])
        var options = BoostingOptions()
        options.rounds = 400
        options.learningRate = 0.5
        options.minDataInLeaf = 5
        options.earlyStoppingRounds = 10
        let (model, report) = try BoostingModel.fit(
            train: train, labels: Array(labels[..<1_500]), validation: (validation, validationLabels), options: options)
        let losses = report.validationLogLoss
        let argmin = try #require(losses.indices.min { losses[$0] < losses[$1] })
        #expect(report.stoppedEarly)
        #expect(report.bestRound > 1, "the setup should overfit after a few useful rounds, not at once")
        #expect(report.bestRound == argmin + 1)
        #expect(model.trees.count == report.bestRound)
        #expect(report.roundsRun == report.bestRound + 10 && losses.count == report.roundsRun)
        #expect(report.trainingLogLoss.count == report.roundsRun)
        #expect(report.trainingLogLoss.last! < report.trainingLogLoss.first!)
        // The kept model scores the validation rows at the recorded best loss.
        let probabilities = model.probabilities(validation)
        var loss = 0.0
        for (p, label) in zip(probabilities, validationLabels) { loss -= log(label ? p : 1 - p) }
        #expect(abs(loss / Double(validationLabels.count) - losses[argmin]) < 1e-9)
    }

    /// 150,000 rows: leaves of 65,536 rows or more are partitioned and gathered by both threads,
    /// and the training loss is measured on every third row.
    @Test(arguments: [9_000, 150_000])
    func theSameSeedGivesTheSameBytesOnOneOrTwoThreads(rows: Int) throws {
        let (data, labels) = mixedData(rows: rows, seed: 41)
        var options = BoostingOptions()
        options.rounds = 15
        options.learningRate = 0.2
        options.subsample = 0.7
        options.colsampleByTree = 0.6
        options.seed = 99
        var bytes: [Data] = []
        for threads in [1, 2] {
            options.threads = threads
            let (model, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
            bytes.append(model.encoded())
        }
        #expect(bytes[0] == bytes[1])
        options.seed = 100
        let (other, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        #expect(other.encoded() != bytes[0], "another seed draws other rows and features")
    }

    @Test func theTrainingLossIsMeasuredOnEvenlySpacedRowsAndEveryRowGetsItsGradient() {
        let rows = 200_000
        #expect(LogLoss.lossStride(rows: 65_536) == 1 && LogLoss.lossStride(rows: rows) == 4)
        var random = SystemRandomNumberGenerator()
        let scores = (0..<rows).map { _ in Double.random(in: -4...4, using: &random) }
        let targets = (0..<rows).map { _ in Double(Int.random(in: 0...1, using: &random)) }
        let weights = (0..<rows).map { _ in Double.random(in: 0.5...2, using: &random) }
        var gradients = [GradientPair](repeating: GradientPair(gradient: 0, hessian: 0), count: rows)
        let loss = gradients.withUnsafeMutableBufferPointer { gradients in
            LogLoss.evaluate(
                scores: scores, targets: targets, weights: weights, rows: rows, stride: 4, gradients: gradients.baseAddress!,
                threads: 2)
        }
        var sum = 0.0
        var weightSum = 0.0
        for row in stride(from: 0, to: rows, by: 4) {
            let probability = 1 / (1 + exp(-scores[row]))
            sum -= weights[row] * (targets[row] == 1 ? log(probability) : log(1 - probability))
            weightSum += weights[row]
        }
        #expect(abs(loss - sum / weightSum) < 1e-9, "\(loss) vs \(sum / weightSum)")
        for row in [0, 1, 3, 65_537, rows - 1] {
            let probability = 1 / (1 + exp(-scores[row]))
            #expect(abs(gradients[row].gradient - (probability - targets[row]) * weights[row]) < 1e-12)
            #expect(abs(gradients[row].hessian - probability * (1 - probability) * weights[row]) < 1e-12)
        }
    }

    @Test func aModelReadBackPredictsIdenticallyAndBadBytesAreNamed() throws {
        let (data, labels) = mixedData(rows: 3_000, seed: 43)
        var options = BoostingOptions()
        options.rounds = 10
        options.learningRate = 0.3
        let (model, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        let bytes = model.encoded()
        let decoded = try BoostingModel(decoding: bytes)
        #expect(decoded == model)
        let scores = decoded.rawScores(data, threads: 2)
        #expect(scores == model.rawScores(data))
        // One row-major row scores as in the matrix.
        let row = (0..<data.features.count).map { data.code(row: 7, feature: $0) }
        #expect(row.withUnsafeBufferPointer { decoded.rawScore(row: $0.baseAddress!) } == scores[7])

        #expect {
            try BoostingModel(decoding: bytes.prefix(bytes.count - 3))
        } throws: { error in
            guard case .truncated(let part, _, _, _) = error as? BoostingDecodingError else { return false }
            return part.hasPrefix("tree 9")
        }
        #expect {
            try BoostingModel(decoding: Data("PK\u{3}\u{4} a zip, not a model".utf8))
        } throws: { error in
            guard case .notABoostingModel = error as? BoostingDecodingError else { return false }
            return "\(error)".contains("not a gradient-boosting model")
        }
        var newer = bytes
        newer[8] = 2
        #expect(throws: BoostingDecodingError.unsupportedVersion(found: 2, supported: 1)) { try BoostingModel(decoding: newer) }
        // Tree 0's root pointing at itself: header 8 + 4, features 4 + 2F, base 8, trees 4; then the
        // tree's counts 8, features 2N, flags N, thresholds N, set indices 4N, then left children.
        let nodes = model.trees[0].nodeCount
        let leftOffset = 8 + 4 + 4 + 2 * data.features.count + 8 + 4 + 8 + 8 * nodes
        var cyclic = bytes
        for byte in 0..<4 { cyclic[leftOffset + byte] = 0 }
        #expect {
            try BoostingModel(decoding: cyclic)
        } throws: { error in
            guard case .malformed(let part, _) = error as? BoostingDecodingError else { return false }
            return part == "tree 0 node 0"
        }
    }

    @Test func theFirstTreeOfATinyTableMatchesLeafValuesComputedByHand() throws {
        // x in two bins; labels 1 1 0 | 1 0 0 0. Mean label 3/7: base score log(3/4), every p = 3/7,
        // g = p − y (−4/7 for a churner, 3/7 otherwise), h = p(1 − p) = 12/49.
        // Left (bin 0): G = −5/7, H = 36/49; right: G = 5/7, H = 48/49; λ = 1, learning rate 0.1.
        // Left value −G/(H+λ)·0.1 = (5/7)/(85/49)·0.1 = 0.7/17; right −(5/7)/(97/49)·0.1 = −3.5/97.
        // Gain (25/49)/(85/49) + (25/49)/(97/49) − 0 = 25/85 + 25/97.
        // With every weight 2, G and H double: left (10/7)/(121/49)·0.1 = 7/121, right −(10/7)/(145/49)·0.1 = −7/145.
        let data = matrix([[0, 0, 0, 1, 1, 1, 1]], [.numeric(bins: 2)])
        let labels = [true, true, false, true, false, false, false]
        var options = BoostingOptions()
        options.rounds = 1
        options.learningRate = 0.1
        options.lambdaL2 = 1
        options.minDataInLeaf = 1
        options.minChildWeight = 0
        options.earlyStoppingRounds = 0
        let (model, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        let tree = model.trees[0]
        #expect(abs(model.baseScore - log(0.75)) < 1e-12)
        #expect(tree.nodeCount == 3 && tree.threshold[0] == 0)
        #expect(abs(tree.value[Int(tree.left[0])] - 0.7 / 17) < 1e-6)
        #expect(abs(tree.value[Int(tree.right[0])] + 3.5 / 97) < 1e-6)
        #expect(abs(Double(tree.gain[0]) - (25.0 / 85 + 25.0 / 97)) < 1e-6)
        #expect(abs(tree.cover[Int(tree.left[0])] - 36.0 / 49) < 1e-12)
        #expect(tree.count == [7, 3, 4])

        let (weighted, _) = try BoostingModel.fit(train: data, labels: labels, weights: Array(repeating: 2, count: 7), options: options)
        let weightedTree = weighted.trees[0]
        #expect(abs(weightedTree.value[Int(weightedTree.left[0])] - 7.0 / 121) < 1e-6)
        #expect(abs(weightedTree.value[Int(weightedTree.right[0])] + 7.0 / 145) < 1e-6)
    }

    @Test func growthRespectsMaxLeavesAndMaxDepth() throws {
        let (data, labels) = mixedData(rows: 4_000, seed: 47)
        var options = BoostingOptions()
        options.rounds = 3
        options.earlyStoppingRounds = 0
        options.minDataInLeaf = 5
        options.maxDepth = 0
        options.maxLeaves = 7
        let (leafWise, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        #expect(leafWise.trees.allSatisfy { $0.leafCount == 7 })
        options.maxDepth = 2
        let (shallow, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        #expect(shallow.trees.allSatisfy { $0.depth == 2 && $0.leafCount == 4 }, "max_depth binds leaf-wise growth too")
        options.growth = .depthWise
        options.maxDepth = 3
        let (depthWise, _) = try BoostingModel.fit(train: data, labels: labels, options: options)
        #expect(depthWise.trees.allSatisfy { $0.depth == 3 })
        #expect(depthWise.trees.allSatisfy { $0.leafCount > 7 }, "depth-wise ignores max_leaves and fills its levels")
    }

    @Test func badInputsAreRefusedNamingWhatIsWrong() {
        let data = matrix([[0, 1, 2, 255]], [.numeric(bins: 3)])
        var options = BoostingOptions()
        options.subsample = 0
        #expect(throws: BoostingError.invalidOption(name: "subsample", value: "0.0", allowed: "in (0, 1]")) {
            try BoostingModel.fit(train: data, labels: [true, false, true, false], options: options)
        }
        #expect(throws: BoostingError.sizeMismatch(what: "labels for the training rows", expected: 4, found: 3)) {
            try BoostingModel.fit(train: data, labels: [true, false, true])
        }
        let badCode = matrix([[0, 1, 3, 255]], [.numeric(bins: 3)])
        #expect(throws: BoostingError.invalidCode(matrix: "training", feature: 0, row: 2, code: 3, binCount: 3)) {
            try BoostingModel.fit(train: badCode, labels: [true, false, true, false])
        }
        #expect(throws: BoostingError.invalidWeight(row: 1, weight: -1)) {
            try BoostingModel.fit(train: data, labels: [true, false, true, false], weights: [1, -1, 1, 1])
        }
    }

    @Test func theBinnerCutsAtMidpointsOrQuantilesAndKeeps255ForMissing() throws {
        let few = NumericBinner.fit([3, 1, 2, 2, 1, .nan])
        #expect(few.edges == [1.5, 2.5])
        #expect([1, 1.5, 2, 3, 99, .nan].map { few.bin($0) } == [0, 0, 1, 2, 2, 255])
        var random = SeededRandom(seed: 1)
        // Half the values are 0 (a spike), the rest spread out.
        let values = (0..<20_000).map { $0 % 2 == 0 ? Float(0) : Float(random.unit() * 100) }
        let binner = NumericBinner.fit(values, maxBins: 255)
        #expect(binner.binCount == 255)
        #expect(zip(binner.edges, binner.edges.dropFirst()).allSatisfy { $0 < $1 })
        let codes = binner.bin(values)
        #expect(codes.allSatisfy { $0 < 255 })
        let zeros = codes.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        #expect(Set(zeros) == [0] && !codes.enumerated().contains { $0.offset % 2 == 1 && $0.element == 0 })
        // The other rows spread evenly over the other 254 bins.
        var counts = [Int](repeating: 0, count: 255)
        for code in codes { counts[Int(code)] += 1 }
        #expect(counts[1...].allSatisfy { (20...60).contains($0) }, "\(counts)")
    }
}

/// Five numeric features (with missing values) and three categorical ones (3, 12 and 51
/// categories), labels from a mix of them.
private func mixedData(rows: Int, seed: UInt64) -> (BoostingMatrix, [Bool]) {
    var random = SeededRandom(seed: seed)
    var columns = [[UInt8]](repeating: [], count: 8)
    var labels: [Bool] = []
    let effect51 = (0..<51).map { _ in random.normal() }
    for _ in 0..<rows {
        var logit = -0.5
        for feature in 0..<5 {
            let bin = random.below(64)
            let missing = feature < 2 && random.unit() < 0.1
            columns[feature].append(missing ? BoostingMatrix.missing : UInt8(bin))
            if !missing { logit += Double(bin - 32) / 32 * Double(feature % 3) }
            if missing && feature == 0 { logit += 1 }
        }
        let small = random.below(3), medium = random.below(12), large = random.below(51)
        columns[5].append(UInt8(small))
        columns[6].append(UInt8(medium))
        columns[7].append(UInt8(large))
        logit += Double(small) * 0.3 + (medium % 3 == 0 ? 0.8 : 0) + effect51[large]
        labels.append(random.unit() < sigmoid(logit))
    }
    let features: [BoostingFeature] =
        (0..<5).map { _ in .numeric(bins: 64) } + [.categorical(categories: 3), .categorical(categories: 12), .categorical(categories: 51)]
    return (matrix(columns, features), labels)
}
