/// A batch of monthly sequences: `values[(row * steps + step) * features + feature]`, with
/// `mask[row * steps + step]` 1 for a real month and 0 for padding (a customer with fewer months
/// than the window). Padding steps hold zeros.
public struct SequenceBatch: Sendable, Hashable {
    public var count: Int
    public var steps: Int
    public var features: Int
    public var values: [Float]
    public var mask: [Float]
    /// What each feature is, for explanations.
    public var featureNames: [String]
    /// The month (since joining) of each step of each row, 0 for padding: `months[row * steps + step]`.
    public var months: [Int]

    public init(count: Int, steps: Int, features: Int, featureNames: [String]) {
        self.count = count
        self.steps = steps
        self.features = features
        self.values = [Float](repeating: 0, count: count * steps * features)
        self.mask = [Float](repeating: 0, count: count * steps)
        self.featureNames = featureNames
        self.months = [Int](repeating: 0, count: count * steps)
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> SequenceBatch {
        var batch = SequenceBatch(count: indices.count, steps: steps, features: features, featureNames: featureNames)
        let stride = steps * features
        for (target, source) in indices.enumerated() {
            batch.values.replaceSubrange(target * stride..<(target + 1) * stride, with: values[source * stride..<(source + 1) * stride])
            batch.mask.replaceSubrange(target * steps..<(target + 1) * steps, with: mask[source * steps..<(source + 1) * steps])
            batch.months.replaceSubrange(target * steps..<(target + 1) * steps, with: months[source * steps..<(source + 1) * steps])
        }
        return batch
    }
}
