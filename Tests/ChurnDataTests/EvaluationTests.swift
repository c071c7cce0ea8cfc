import ChurnData
import ChurnTestSupport
import Foundation
import Testing

private struct Fixtures: Decodable {
    struct Case: Decodable {
        var name: String
        var labels: [Bool]
        var probabilities: [Double]
        var expected: Expected
    }
    struct Expected: Decodable {
        var roc_auc, pr_auc, log_loss, brier, accuracy, precision, recall, f1, best_f1_threshold, best_f1: Double
        var confusion: [String: Int]
        var calibration_observed, calibration_predicted: [Double]
    }
    var cases: [Case]
}

@Suite("Metrics equal scikit-learn's; splits are stratified")
struct EvaluationTests {
    private static func fixtures() throws -> [Fixtures.Case] {
        let path = repositoryRoot + "/Tests/ChurnDataTests/Fixtures/metrics.json"
        return try JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: URL(fileURLWithPath: path))).cases
    }

    @Test func everyMetricMatchesTheFixtures() throws {
        for fixture in try Self.fixtures() {
            let y = fixture.labels, p = fixture.probabilities, expected = fixture.expected
            func close(_ actual: Double?, _ wanted: Double, _ metric: String) {
                #expect(actual.map { abs($0 - wanted) <= 1e-12 * max(1, abs(wanted)) } == true, "\(fixture.name): \(metric) \(String(describing: actual)) vs scikit-learn \(wanted)")
            }
            close(Metrics.rocAUC(y, p), expected.roc_auc, "roc_auc")
            close(Metrics.averagePrecision(y, p), expected.pr_auc, "pr_auc")
            close(Metrics.logLoss(y, p), expected.log_loss, "log_loss")
            close(Metrics.brier(y, p), expected.brier, "brier")
            let counts = Metrics.confusion(y, p)
            close(counts.accuracy, expected.accuracy, "accuracy")
            close(counts.precision, expected.precision, "precision")
            close(counts.recall, expected.recall, "recall")
            close(counts.f1, expected.f1, "f1")
            #expect(
                [counts.trueNegatives, counts.falsePositives, counts.falseNegatives, counts.truePositives]
                    == [expected.confusion["tn"], expected.confusion["fp"], expected.confusion["fn"], expected.confusion["tp"]],
                "\(fixture.name): confusion")
            let best = Metrics.bestF1Threshold(y, p)
            close(best.threshold, expected.best_f1_threshold, "best_f1_threshold")
            close(best.f1, expected.best_f1, "best_f1")
            let bins = Metrics.calibration(y, p)
            #expect(bins.count == expected.calibration_observed.count, "\(fixture.name): calibration bins")
            for (bin, (observed, predicted)) in zip(bins, zip(expected.calibration_observed, expected.calibration_predicted)) {
                close(bin.observedRate, observed, "calibration observed")
                close(bin.meanPredicted, predicted, "calibration predicted")
            }
        }
    }

    @Test func splitsAreStratifiedDisjointAndReproducible() {
        var random = SeededGenerator(seed: 1)
        let labels = (0..<1000).map { _ in Double.random(in: 0..<1, using: &random) < 0.27 }
        let split = StratifiedSplit.trainValidationTest(labels, testFraction: 0.2, validationFraction: 0.25, seed: 9)
        let all = split.train + split.validation + split.test
        #expect(Set(all).count == 1000 && all.count == 1000)
        let rate = { (rows: [Int]) in Double(rows.filter { labels[$0] }.count) / Double(rows.count) }
        let overall = rate(Array(0..<1000))
        for part in [split.train, split.validation, split.test] { #expect(abs(rate(part) - overall) < 0.01) }
        #expect(abs(Double(split.test.count) - 200) <= 1)
        let again = StratifiedSplit.trainValidationTest(labels, testFraction: 0.2, validationFraction: 0.25, seed: 9)
        #expect(again.train == split.train && again.test == split.test)
        #expect(StratifiedSplit.trainValidationTest(labels, testFraction: 0.2, validationFraction: 0.25, seed: 10).test != split.test)
    }

    @Test func foldsCoverEveryRowOnce() {
        let labels = (0..<103).map { $0 % 4 == 0 }
        let folds = StratifiedSplit.folds(labels, k: 5, seed: 0)
        #expect(folds.flatMap(\.test).sorted() == Array(0..<103))
        for fold in folds {
            #expect(Set(fold.train).isDisjoint(with: fold.test))
            #expect(fold.train.count + fold.test.count == 103)
            let positives = fold.test.filter { labels[$0] }.count
            #expect((5...6).contains(positives), "26 churners over 5 folds")
        }
    }
}

private struct ExperimentFixtures: Decodable {
    struct Case: Decodable {
        var name: String
        var labels: [Bool]
        var a: [Double]
        var b: [Double]
        var delong: [String: Double]
        var top10_a: [String: Double]
        var top20_b: [String: Double]
    }
    var cases: [Case]
}

@Suite("Experiment statistics equal the Python reference")
struct ExperimentStatisticsTests {
    @Test func deLongAndTopKMatchTheFixtures() throws {
        let path = repositoryRoot + "/Tests/ChurnDataTests/Fixtures/experiments.json"
        let fixtures = try JSONDecoder().decode(ExperimentFixtures.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        for fixture in fixtures.cases {
            let result = try #require(ExperimentStatistics.deLong(fixture.labels, scoresA: fixture.a, scoresB: fixture.b))
            for (key, value) in [("auc_a", result.aucA), ("auc_b", result.aucB), ("standard_error", result.standardError), ("z", result.z), ("p", result.p)] {
                let expected = fixture.delong[key]!
                #expect(abs(value - expected) <= 1e-9 * max(1, abs(expected)), "\(fixture.name): \(key) \(value) vs \(expected)")
            }
            let topA = ExperimentStatistics.atTop(fixture.labels, fixture.a, fraction: 0.1)
            #expect(topA.precision == fixture.top10_a["precision"] && topA.recall == fixture.top10_a["recall"], "\(fixture.name)")
            let topB = ExperimentStatistics.atTop(fixture.labels, fixture.b, fraction: 0.2)
            #expect(abs(topB.precision - fixture.top20_b["precision"]!) < 1e-12 && abs(topB.recall - fixture.top20_b["recall"]!) < 1e-12)
        }
    }

    @Test func bootstrapIntervalsBracketTheEstimateAndAreReproducible() {
        var random = SeededGenerator(seed: 8)
        let labels = (0..<600).map { _ in Double.random(in: 0..<1, using: &random) < 0.3 }
        let scores = labels.map { ($0 ? 0.6 : 0.4) + Double.random(in: -0.35...0.35, using: &random) }
        let first = ExperimentStatistics.bootstrap(labels, scores, seed: 3, metric: Metrics.rocAUC)!
        let second = ExperimentStatistics.bootstrap(labels, scores, seed: 3, metric: Metrics.rocAUC)!
        #expect(first == second)
        #expect(first.low < first.value && first.value < first.high)
        #expect(first.high - first.low < 0.15 && first.high - first.low > 0.02)
    }
}
