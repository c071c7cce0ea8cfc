import Foundation
import Testing

@testable import ChurnData

/// Calibration checked against hand computations and scikit-learn's numbers on small fixtures.
@Suite("Probability calibration")
struct CalibrationTests {
    @Test func isotonicPoolsAdjacentViolatorsAndInterpolates() {
        // Scores 0.1..0.4 with labels 0, 1, 0, 1: the middle two violate the order and pool to 0.5.
        let calibrator = Calibrator.isotonic([0.3, 0.1, 0.4, 0.2], [false, false, true, true])
        #expect(calibrator.x == [0.1, 0.2, 0.3, 0.4])
        #expect(calibrator.y == [0, 0.5, 0.5, 1])
        #expect(calibrator.apply(0.05) == 0, "clipped below the first point")
        #expect(calibrator.apply(0.25) == 0.5)
        #expect(abs(calibrator.apply(0.35) - 0.75) < 1e-12, "halfway between 0.5 and 1")
        #expect(calibrator.apply(0.9) == 1, "clipped above the last point")
        // Ties in the scores form one block: three 0.5s with one churner give 1/3.
        let tied = Calibrator.isotonic([0.5, 0.5, 0.5, 0.9], [true, false, false, true])
        #expect(tied.apply(0.5) == 1.0 / 3)
    }

    @Test func plattMatchesScikitLearnsSigmoidCalibration() {
        let p = [0.05, 0.1, 0.2, 0.3, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.15, 0.45, 0.55, 0.65, 0.95, 0.25]
        let y = [0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0].map { $0 == 1 }
        let calibrator = Calibrator.platt(p, y)
        // sklearn.calibration._sigmoid_calibration on logit(p): a = -0.69056524, b = 0.18074986 in its sign convention.
        #expect(abs((calibrator.a ?? 0) - 0.6905652412419447) < 1e-6)
        #expect(abs((calibrator.b ?? 0) - -0.18074985514700836) < 1e-6)
        #expect(abs(calibrator.apply(0.05) - 0.09849347) < 1e-6)
        #expect(abs(calibrator.apply(0.2) - 0.24267368) < 1e-6)
    }

    @Test func plattNeverReversesTheOrder() {
        // Scores that rank stayers above churners: the best order-keeping fit is the base rate.
        let calibrator = Calibrator.platt([0.9, 0.8, 0.2, 0.1], [false, false, true, true])
        #expect(calibrator.a == 0)
        #expect(calibrator.apply(0.1) == calibrator.apply(0.9))
    }

    @Test func expectedCalibrationErrorByHand() {
        // Bin [0, 0.1]: 0.05, 0.05 with one churner → |0.05 − 0.5| × 2/4; bin (0.9, 1]: 0.95, 0.95, both churned → |0.95 − 1| × 2/4.
        let ece = Metrics.expectedCalibrationError([true, false, true, true], [0.05, 0.05, 0.95, 0.95])
        #expect(abs(ece - (0.45 * 0.5 + 0.05 * 0.5)) < 1e-12)
    }

    @Test func choosingCalibratesAMiscalibratedScorerOnHeldOutRows() {
        // True churn probability t; the model reports t³ (far too low). Fit on one half, judge on the other.
        var random = SeededRandom(seed: 3)
        var truth: [Double] = []
        var labels: [Bool] = []
        for _ in 0..<4000 {
            let t = random.unit()
            truth.append(t)
            labels.append(random.unit() < t)
        }
        let scores = truth.map { $0 * $0 * $0 }
        let (fitted, losses) = Calibrator.choose(Array(scores[..<2000]), Array(labels[..<2000]), seed: 1)
        #expect(fitted.method == .platt || fitted.method == .isotonic)
        #expect(losses.count == 2)
        let heldOutLabels = Array(labels[2000...])
        let raw = Array(scores[2000...])
        let before = Metrics.expectedCalibrationError(heldOutLabels, raw)
        let after = Metrics.expectedCalibrationError(heldOutLabels, fitted.apply(raw))
        #expect(before > 0.15, "the fixture is badly calibrated: \(before)")
        #expect(after < 0.04, "calibrated on held-out rows: \(after)")
        // Calibration keeps the order, so ROC-AUC barely moves (isotonic ties can cost a little).
        let aucRaw = Metrics.rocAUC(heldOutLabels, raw) ?? 0
        let aucCalibrated = Metrics.rocAUC(heldOutLabels, fitted.apply(raw)) ?? 0
        #expect(abs(aucRaw - aucCalibrated) < 0.01)
    }

    @Test func tooFewValidationRowsMeansNoCalibration() {
        let (calibrator, losses) = Calibrator.choose([0.1, 0.9, 0.4], [false, true, false])
        #expect(calibrator.method == .none)
        #expect(losses.isEmpty)
        #expect(calibrator.apply(0.37) == 0.37)
    }
}
