/// Stratified splits by seed: every part keeps the churn rate of the whole.
public enum StratifiedSplit {
    /// Row indices of each class, shuffled by `seed`.
    private static func shuffledClasses(_ labels: [Bool], seed: UInt64) -> [[Int]] {
        var random = SeededRandom(seed: seed)
        var positives = labels.indices.filter { labels[$0] }
        var negatives = labels.indices.filter { !labels[$0] }
        positives.shuffle(using: &random)
        negatives.shuffle(using: &random)
        return [positives, negatives]
    }

    /// Splits rows into a held-out part of about `fraction` of each class, and the rest.
    /// Both index lists are sorted.
    public static func holdOut(_ labels: [Bool], fraction: Double, seed: UInt64) -> (rest: [Int], heldOut: [Int]) {
        precondition(fraction > 0 && fraction < 1, "fraction must be in (0, 1)")
        var rest: [Int] = []
        var heldOut: [Int] = []
        for group in shuffledClasses(labels, seed: seed) {
            let count = Int((Double(group.count) * fraction).rounded())
            heldOut += group.prefix(count)
            rest += group.dropFirst(count)
        }
        return (rest.sorted(), heldOut.sorted())
    }

    /// Train, validation and test indices: `testFraction` held back first, then
    /// `validationFraction` of the rest.
    public static func trainValidationTest(
        _ labels: [Bool], testFraction: Double, validationFraction: Double, seed: UInt64
    ) -> (train: [Int], validation: [Int], test: [Int]) {
        let (rest, test) = holdOut(labels, fraction: testFraction, seed: seed)
        let (trainWithin, validationWithin) = holdOut(rest.map { labels[$0] }, fraction: validationFraction, seed: seed &+ 1)
        return (trainWithin.map { rest[$0] }, validationWithin.map { rest[$0] }, test)
    }

    /// `k` folds: each row is in exactly one test fold; folds differ in size by at most one per class.
    public static func folds(_ labels: [Bool], k: Int, seed: UInt64) -> [(train: [Int], test: [Int])] {
        precondition(k >= 2, "k must be at least 2")
        var assignment = [Int](repeating: 0, count: labels.count)
        var next = 0
        for group in shuffledClasses(labels, seed: seed) {
            for index in group {
                assignment[index] = next % k
                next += 1
            }
        }
        return (0..<k).map { fold in
            (labels.indices.filter { assignment[$0] != fold }, labels.indices.filter { assignment[$0] == fold })
        }
    }
}
