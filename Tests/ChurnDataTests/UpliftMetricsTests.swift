import Testing

@testable import ChurnData

/// The Qini curve and coefficient against a hand computation (and scikit-uplift's
/// `qini_auc_score`, which gives −0.031746 on the same ten customers).
@Suite("Uplift metrics")
struct UpliftMetricsTests {
    // Ten campaign customers: stayed, treated, predicted uplift (two tied at 0.8).
    let stayed = [true, false, true, true, false, true, false, false, true, true]
    let treated = [true, true, false, true, false, false, true, false, true, false]
    let scores = [0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]

    @Test func qiniCurveByHand() {
        let curve = UpliftMetrics.qiniCurve(stayed: stayed, treated: treated, scores: scores)
        // k=1: one treated stayer, no control yet → 1. k=3 (the tie cut together): 1 − 1×2/1 = −1.
        // k=4: 2 − 1×3/1 = −1. k=5: 2 − 1×3/2 = 0.5. k=6: 2 − 2×3/3 = 0. k=7: 2 − 2×4/3.
        // k=8: 2 − 2×4/4 = 0. k=9: 3 − 2×5/4 = 0.5. k=10: 3 − 3×5/5 = 0.
        #expect(curve.map(\.customers) == [0, 1, 3, 4, 5, 6, 7, 8, 9, 10])
        let expected = [0, 1, -1, -1, 0.5, 0, 2 - 8.0 / 3, 0, 0.5, 0]
        for (point, value) in zip(curve, expected) { #expect(abs(point.extraStayers - value) < 1e-12) }
    }

    @Test func qiniCoefficientByHand() throws {
        // Area under the curve −2/3; the random line ends at 0 (area 0); the best ranking
        // (treated stayers, then the rest, then control stayers) reaches 3 at k=3, keeps 3 to
        // k=7, ends at 0: area 4.5 + 12 + 4.5 = 21. Coefficient −(2/3)/21.
        let q = try #require(UpliftMetrics.qiniCoefficient(stayed: stayed, treated: treated, scores: scores))
        #expect(abs(q - -0.031746031746031744) < 1e-12)
    }

    @Test func bestRankingScoresOneAndOneArmScoresNothing() throws {
        let best = zip(stayed, treated).map { $0 ? ($1 ? 1.0 : -1.0) : 0 }
        let q = try #require(UpliftMetrics.qiniCoefficient(stayed: stayed, treated: treated, scores: best))
        #expect(abs(q - 1) < 1e-12)
        #expect(UpliftMetrics.qiniCoefficient(stayed: [true, false], treated: [true, true], scores: [0.2, 0.1]) == nil)
    }
}
