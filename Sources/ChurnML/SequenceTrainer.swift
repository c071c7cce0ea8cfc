import ChurnNumerics
import Dispatch
import Foundation

/// Inputs of the sequence models for a set of customers: a dense static matrix and monthly
/// sequences (with their mask), row-aligned.
public struct SequenceDataset: Sendable {
    public var staticFeatures: Matrix
    public var sequences: SequenceBatch

    public init(staticFeatures: Matrix, sequences: SequenceBatch) {
        precondition(staticFeatures.rows == sequences.count)
        self.staticFeatures = staticFeatures
        self.sequences = sequences
    }

    public var count: Int { staticFeatures.rows }

    /// The static rows and sequence steps of `rows`, as model inputs.
    public func batch(_ rows: ArraySlice<Int>) -> (Matrix, SequenceInput) {
        let width = staticFeatures.columns
        var staticBatch = Matrix(rows: rows.count, columns: width)
        for (target, source) in rows.enumerated() {
            for column in 0..<width { staticBatch.values[target * width + column] = staticFeatures.values[source * width + column] }
        }
        let steps = sequences.steps
        let features = sequences.features
        let batch = rows.count
        var stacked = Matrix(rows: steps * batch, columns: features)
        var mask = [Float](repeating: 0, count: batch * steps)
        for (target, source) in rows.enumerated() {
            for step in 0..<steps {
                mask[target * steps + step] = sequences.mask[source * steps + step]
                let from = (source * steps + step) * features
                let to = (step * batch + target) * features
                for feature in 0..<features { stacked.values[to + feature] = sequences.values[from + feature] }
            }
        }
        return (staticBatch, SequenceInput(inputs: stacked, mask: mask, batch: batch, length: steps))
    }
}

/// One epoch of training, as reported.
public struct EpochReport: Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    public var validationAUC: Double?
}

/// Fits a ``SequenceModel`` with mini-batch Adam, shuffling by seed each epoch, and (with
/// patience) stops early on validation ROC-AUC, keeping the best epoch's weights.
///
/// Each batch is cut into two shards worked on by two replicas of the model at once (one per
/// core), whose gradients are summed in a fixed order: the arithmetic is the same on any number
/// of cores, so a seed reproduces a model exactly.
public enum SequenceTrainer {
    public static func fit(
        _ model: SequenceModel, train: SequenceDataset, labels: [Bool], validation: (SequenceDataset, [Bool])?,
        seed: UInt64, report: (EpochReport) -> Void = { _ in }
    ) -> (history: [EpochReport], bestEpoch: Int) {
        let configuration = model.configuration
        var random = ChurnRandom(seed: seed &+ 0x5EED)
        var optimizer = Adam(learningRate: configuration.learningRate, clipNorm: configuration.clipNorm)
        let churners = Float(labels.filter { $0 }.count)
        let total = Float(labels.count)
        let weights: (Float, Float) =
            configuration.classWeight == "balanced" && churners > 0 && churners < total
            ? (total / (2 * (total - churners)), total / (2 * churners)) : (1, 1)
        let replicas = [model, SequenceModel(
            configuration: configuration, staticFeatures: model.staticFeatures, stepFeatures: model.stepFeatures, seed: seed)]
        let masterParameters = model.parameters
        let replicaParameters = replicas[1].parameters
        var order = Array(0..<train.count)
        var history: [EpochReport] = []
        var best: (auc: Double, epoch: Int, weights: [Float])?
        for epoch in 1...configuration.epochs {
            order.shuffle(using: &random)
            var lossSum = 0.0
            for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
                let rows = order[start..<min(start + configuration.batchSize, order.count)]
                let middle = rows.startIndex + (rows.count + 1) / 2
                let shards = [rows[rows.startIndex..<middle], rows[middle..<rows.endIndex]]
                for (master, replica) in zip(masterParameters, replicaParameters) { replica.value.values = master.value.values }
                let seeds = (random.next(), random.next())
                let losses = ShardLosses()
                nonisolated(unsafe) let train = train
                DispatchQueue.concurrentPerform(iterations: 2) { shard in
                    let rows = shards[shard]
                    guard !rows.isEmpty else { return }
                    var shardRandom = ChurnRandom(seed: shard == 0 ? seeds.0 : seeds.1)
                    let (staticBatch, sequence) = train.batch(rows)
                    let replica = replicas[shard]
                    let logits = replica.forward(static: staticBatch, sequence: sequence, training: true, random: &shardRandom)
                    let (loss, gradient) = BinaryCrossEntropy.lossAndGradient(
                        logits: logits.values, labels: rows.map { labels[$0] }, weights: weights, count: shards[0].count + shards[1].count)
                    losses.set(shard, Double(loss))
                    replica.backward(Matrix(rows: rows.count, columns: 1, values: gradient))
                }
                lossSum += losses.sum * Double(rows.count)
                for (master, replica) in zip(masterParameters, replicaParameters) {
                    master.gradient.values.withUnsafeMutableBufferPointer { target in
                        replica.gradient.values.withUnsafeMutableBufferPointer { source in
                            for index in 0..<target.count {
                                target[index] += source[index]
                                source[index] = 0
                            }
                        }
                    }
                }
                optimizer.update(masterParameters)
            }
            var entry = EpochReport(epoch: epoch, trainLoss: lossSum / Double(train.count))
            if let (validationSet, validationLabels) = validation {
                let probabilities = predict(model, validationSet).map(Double.init)
                entry.validationLoss = Metrics.logLoss(validationLabels, probabilities)
                entry.validationAUC = Metrics.rocAUC(validationLabels, probabilities)
                if let auc = entry.validationAUC, auc > (best?.auc ?? -1) {
                    best = (auc, epoch, model.weightValues())
                }
            }
            history.append(entry)
            report(entry)
            if configuration.patience > 0, let best, epoch - best.epoch >= configuration.patience { break }
        }
        if configuration.patience > 0, let best {
            model.load(weights: best.weights)
            return (history, best.epoch)
        }
        return (history, history.count)
    }

    /// Probabilities for every row, in batches.
    public static func predict(_ model: SequenceModel, _ data: SequenceDataset, batch: Int = 1024) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(data.count)
        let rows = Array(0..<data.count)
        for start in stride(from: 0, to: data.count, by: batch) {
            let (staticBatch, sequence) = data.batch(rows[start..<min(start + batch, data.count)])
            result += model.probabilities(static: staticBatch, sequence: sequence)
        }
        return result
    }
}

/// The two shards' losses, written from their threads.
private final class ShardLosses: @unchecked Sendable {
    private let lock = NSLock()
    private var values = [0.0, 0.0]

    func set(_ shard: Int, _ value: Double) { lock.withLock { values[shard] = value } }
    var sum: Double { lock.withLock { values[0] + values[1] } }
}
