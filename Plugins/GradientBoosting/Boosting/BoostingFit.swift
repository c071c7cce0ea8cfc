import Foundation

/// What fitting measured besides the model.
public struct BoostingFitReport: Sendable, Hashable {
    /// Trees grown, including any after the best round that early stopping then dropped.
    public var roundsRun: Int
    /// Trees kept. With validation rows and early stopping on: the round (1-based) with the lowest
    /// validation log loss, the first such on ties; otherwise every round run.
    public var bestRound: Int
    /// Whether early stopping ended the fit before `rounds`.
    public var stoppedEarly: Bool
    /// The (weighted) mean training log loss after each round: `[r]` after r + 1 trees. Measured
    /// on every training row up to 65,536 of them, beyond that on evenly spaced rows (every k-th,
    /// at most 65,536).
    public var trainingLogLoss: [Double]
    /// The mean validation log loss after each round: `[r]` after r + 1 trees (empty without
    /// validation rows).
    public var validationLogLoss: [Double]
}

/// A finished round, as reported to `progress`.
public struct BoostingProgress: Sendable, Hashable {
    /// Rounds done (1-based).
    public var round: Int
    /// Rounds at most.
    public var rounds: Int
    /// The validation log loss after this round, with validation rows.
    public var validationLogLoss: Double?
}

extension BoostingModel {
    /// Fits a model of binary log loss on `train`.
    ///
    /// Each round computes every row's gradient p − y and hessian p(1 − p) (times its weight),
    /// draws the round's rows (`subsample`) and the tree's features (`colsampleByTree`) from the
    /// seed, grows a tree on them, and adds its leaf values to every row's score. With validation
    /// rows, their log loss is recorded after every round and, with `earlyStoppingRounds` > 0, the
    /// fit stops once it has not improved for that many rounds and keeps the trees up to the best
    /// round. The same options and data give the same model, bit for bit, whatever `threads`.
    ///
    /// - Parameters:
    ///   - labels: `true` for a churner, one per training row.
    ///   - weights: per-row weights (finite, >= 0, not all 0); nil for 1 each.
    ///   - progress: called on the calling thread after every round.
    /// - Throws: ``BoostingError`` naming the option, size or code at fault.
    public static func fit(
        train: BoostingMatrix, labels: [Bool], weights: [Double]? = nil,
        validation: (matrix: BoostingMatrix, labels: [Bool])? = nil, options: BoostingOptions = BoostingOptions(),
        progress: (BoostingProgress) -> Void = { _ in }
    ) throws -> (BoostingModel, BoostingFitReport) {
        try options.validate()
        try checkInputs(train: train, labels: labels, weights: weights, validation: validation)
        let rows = train.rows
        let threads = options.threadCount
        let targets = labels.map { $0 ? 1.0 : 0.0 }
        let weightSum = weights?.reduce(0, +) ?? Double(rows)
        let positiveWeight = weights.map { zip($0, labels).reduce(0) { $0 + ($1.1 ? $1.0 : 0) } } ?? targets.reduce(0, +)
        let mean = min(max(positiveWeight / weightSum, 1e-15), 1 - 1e-15)
        let baseScore = log(mean / (1 - mean))

        let scores = UnsafeMutableBufferPointer<Double>.allocate(capacity: rows)
        let gradients = UnsafeMutableBufferPointer<GradientPair>.allocate(capacity: rows)
        let inBag = UnsafeMutableBufferPointer<Bool>.allocate(capacity: rows)
        defer {
            scores.deallocate()
            gradients.deallocate()
            inBag.deallocate()
        }
        scores.initialize(repeating: baseScore)
        gradients.initialize(repeating: GradientPair(gradient: 0, hessian: 0))
        inBag.initialize(repeating: true)

        let validationTargets = validation?.labels.map { $0 ? 1.0 : 0.0 } ?? []
        var validationScores = [Double](repeating: baseScore, count: validation?.matrix.rows ?? 0)
        var trees: [BoostedTree] = []
        var trainingLogLoss: [Double] = []
        var validationLogLoss: [Double] = []
        var best = (round: 0, loss: Double.infinity)
        var stoppedEarly = false

        train.codes.withUnsafeBufferPointer { codes in
            targets.withUnsafeBufferPointer { targets in
                (weights ?? []).withUnsafeBufferPointer { weightBuffer in
                    let codes = codes.baseAddress!
                    let rowWeights = weights == nil ? nil : weightBuffer.baseAddress
                    let grower = TreeGrower(codes: codes, rows: rows, features: train.features, options: options, threads: threads)
                    let lossStride = LogLoss.lossStride(rows: rows)
                    func trainingLoss(gradients: UnsafeMutablePointer<GradientPair>?) -> Double {
                        LogLoss.evaluate(
                            scores: scores.baseAddress!, targets: targets.baseAddress!, weights: rowWeights, rows: rows,
                            stride: lossStride, gradients: gradients, threads: threads)
                    }

                    for round in 1...options.rounds {
                        let loss = trainingLoss(gradients: gradients.baseAddress!)
                        if round > 1 { trainingLogLoss.append(loss) }

                        var rowRandom = BoostingRandom(seed: options.seed, round: round, purpose: .rows)
                        let count = Sampling.rows(
                            fraction: options.subsample, rows: rows, random: &rowRandom, order: grower.order,
                            inBag: inBag.baseAddress!)
                        var featureRandom = BoostingRandom(seed: options.seed, round: round, purpose: .features)
                        let sampled = Sampling.features(
                            fraction: options.colsampleByTree, count: train.features.count, random: &featureRandom)
                        let (tree, leaves) = grower.grow(gradients: gradients.baseAddress!, count: count, features: sampled)
                        trees.append(tree)

                        // Rows in the round: their leaf is known from the partition (each row in one leaf).
                        nonisolated(unsafe) let order = grower.order
                        nonisolated(unsafe) let roundScores = scores.baseAddress!
                        let values = leaves.map { tree.value[$0.node] }
                        Parallel.forEach(leaves.count, threads: count >= 1 << 16 ? threads : 1) { index in
                            let leaf = leaves[index]
                            let value = values[index]
                            for position in leaf.begin..<(leaf.begin + leaf.count) { roundScores[Int(order[position])] += value }
                        }
                        // Rows left out: walk the tree.
                        if count < rows {
                            add(tree, to: scores.baseAddress!, codes: codes, rows: rows, only: inBag.baseAddress!, threads: threads)
                        }

                        var progressLoss: Double?
                        if let validation {
                            let loss = validation.matrix.codes.withUnsafeBufferPointer { validationCodes in
                                validationScores.withUnsafeMutableBufferPointer { validationScores in
                                    validationTargets.withUnsafeBufferPointer { validationTargets in
                                        add(
                                            tree, to: validationScores.baseAddress!, codes: validationCodes.baseAddress!,
                                            rows: validation.matrix.rows, only: nil, threads: threads)
                                        return LogLoss.evaluate(
                                            scores: validationScores.baseAddress!, targets: validationTargets.baseAddress!,
                                            weights: nil, rows: validation.matrix.rows, gradients: nil, threads: threads)
                                    }
                                }
                            }
                            validationLogLoss.append(loss)
                            progressLoss = loss
                            if loss < best.loss { best = (round, loss) }
                        }
                        progress(BoostingProgress(round: round, rounds: options.rounds, validationLogLoss: progressLoss))
                        if validation != nil, options.earlyStoppingRounds > 0, round - best.round >= options.earlyStoppingRounds {
                            stoppedEarly = round < options.rounds
                            break
                        }
                    }
                    trainingLogLoss.append(trainingLoss(gradients: nil))
                }
            }
        }

        let roundsRun = trees.count
        let keep = validation != nil && options.earlyStoppingRounds > 0 ? best.round : roundsRun
        let model = BoostingModel(features: train.features, baseScore: baseScore, trees: Array(trees.prefix(keep)))
        let report = BoostingFitReport(
            roundsRun: roundsRun, bestRound: keep, stoppedEarly: stoppedEarly, trainingLogLoss: trainingLogLoss,
            validationLogLoss: validationLogLoss)
        return (model, report)
    }

    /// Adds `tree`'s output to the score of every row of column-major `codes` (or, with `only`, of
    /// every row where `only[row]` is false).
    private static func add(
        _ tree: BoostedTree, to scores: UnsafeMutablePointer<Double>, codes: UnsafePointer<UInt8>, rows: Int,
        only inBag: UnsafePointer<Bool>?, threads: Int
    ) {
        nonisolated(unsafe) let scores = scores
        nonisolated(unsafe) let codes = codes
        nonisolated(unsafe) let inBag = inBag
        let chunk = 8192
        Parallel.forEach((rows + chunk - 1) / chunk, threads: rows >= 2 * chunk ? threads : 1) { index in
            for row in (index * chunk)..<min(rows, (index + 1) * chunk) where !(inBag?[row] ?? false) {
                scores[row] += tree.output(codes: codes + row, stride: rows)
            }
        }
    }

    /// Throws when labels, weights or a validation set do not fit the training matrix, or a code
    /// is out of range.
    private static func checkInputs(
        train: BoostingMatrix, labels: [Bool], weights: [Double]?, validation: (matrix: BoostingMatrix, labels: [Bool])?
    ) throws {
        guard train.rows > 0 else { throw BoostingError.noTrainingRows }
        guard labels.count == train.rows else {
            throw BoostingError.sizeMismatch(what: "labels for the training rows", expected: train.rows, found: labels.count)
        }
        guard !train.features.isEmpty else {
            throw BoostingError.sizeMismatch(what: "features (at least 1)", expected: 1, found: 0)
        }
        guard train.features.count <= Int(UInt16.max) else {
            throw BoostingError.sizeMismatch(what: "features (at most 65535)", expected: Int(UInt16.max), found: train.features.count)
        }
        if let weights {
            guard weights.count == train.rows else {
                throw BoostingError.sizeMismatch(what: "weights for the training rows", expected: train.rows, found: weights.count)
            }
            for (row, weight) in weights.enumerated() where !(weight.isFinite && weight >= 0) {
                throw BoostingError.invalidWeight(row: row, weight: weight)
            }
            let sum = weights.reduce(0, +)
            guard sum > 0 else { throw BoostingError.invalidWeight(row: -1, weight: sum) }
        }
        try train.checkCodes(name: "training")
        if let validation {
            guard validation.matrix.features.count == train.features.count else {
                throw BoostingError.sizeMismatch(
                    what: "features in the validation matrix", expected: train.features.count, found: validation.matrix.features.count)
            }
            if let feature = train.features.indices.first(where: { train.features[$0] != validation.matrix.features[$0] }) {
                throw BoostingError.validationFeaturesDiffer(feature: feature)
            }
            guard validation.labels.count == validation.matrix.rows else {
                throw BoostingError.sizeMismatch(
                    what: "labels for the validation rows", expected: validation.matrix.rows, found: validation.labels.count)
            }
            guard validation.matrix.rows > 0 else {
                throw BoostingError.sizeMismatch(what: "validation rows (at least 1)", expected: 1, found: 0)
            }
            try validation.matrix.checkCodes(name: "validation")
        }
    }
}
