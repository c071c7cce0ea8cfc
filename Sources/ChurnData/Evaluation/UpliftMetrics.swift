/// How well a ranking by predicted uplift finds the customers an offer keeps, judged on a
/// randomized campaign's customers (each treated or control, each with its outcome).
///
/// The response counted is **staying** (the outcome a retention offer wants). Customers are
/// ranked by score, highest first; at each distinct score (ties cut together) the Qini curve is
///
///     Q(k) = stayed_treated(k) − stayed_control(k) × treated(k) / control(k)
///
/// (just the treated stayers while no control customer is among the first k): the extra stayers the offer would have
/// produced had it gone to the first k customers. The **Qini coefficient** is the area between
/// that curve and the random ranking's straight line from (0, 0) to (n, Q(n)), divided by the
/// same area for the best possible ranking (treated stayers first, control stayers last):
/// 1 is perfect, 0 is no better than random, below 0 worse. These are the definitions of
/// scikit-uplift's `qini_curve`, `perfect_qini_curve(negative_effect=True)` and `qini_auc_score`.
public enum UpliftMetrics {
    /// One point of a Qini curve: the first `customers` ranked, and the extra stayers.
    public struct QiniPoint: Sendable, Hashable {
        public var customers: Int
        public var extraStayers: Double
    }

    /// The Qini curve of `scores` (higher = more expected uplift), starting at (0, 0).
    public static func qiniCurve(stayed: [Bool], treated: [Bool], scores: [Double]) -> [QiniPoint] {
        precondition(stayed.count == treated.count && treated.count == scores.count)
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [QiniPoint(customers: 0, extraStayers: 0)]
        var treatedCount = 0.0
        var controlCount = 0.0
        var treatedStayed = 0.0
        var controlStayed = 0.0
        var index = 0
        while index < order.count {
            let cut = scores[order[index]]
            while index < order.count, scores[order[index]] == cut {
                let row = order[index]
                if treated[row] {
                    treatedCount += 1
                    if stayed[row] { treatedStayed += 1 }
                } else {
                    controlCount += 1
                    if stayed[row] { controlStayed += 1 }
                }
                index += 1
            }
            let extra = controlCount > 0 ? treatedStayed - controlStayed * treatedCount / controlCount : treatedStayed
            points.append(QiniPoint(customers: index, extraStayers: extra))
        }
        return points
    }

    /// The area under a curve by the trapezoid rule.
    static func area(_ points: [QiniPoint]) -> Double {
        zip(points, points.dropFirst()).reduce(0) { total, pair in
            total + Double(pair.1.customers - pair.0.customers) * (pair.0.extraStayers + pair.1.extraStayers) / 2
        }
    }

    /// The Qini coefficient of `scores` (see the type's documentation); nil when either arm is
    /// empty or the best ranking is no better than random (nothing to normalise by).
    public static func qiniCoefficient(stayed: [Bool], treated: [Bool], scores: [Double]) -> Double? {
        guard treated.contains(true), treated.contains(false) else { return nil }
        let curve = qiniCurve(stayed: stayed, treated: treated, scores: scores)
        let total = Double(scores.count)
        let randomArea = total * (curve.last?.extraStayers ?? 0) / 2
        // The best ranking: treated stayers (+1), then everyone else (0), then control stayers (−1).
        let best = zip(stayed, treated).map { stayed, treated in stayed ? (treated ? 1.0 : -1.0) : 0 }
        let bestArea = area(qiniCurve(stayed: stayed, treated: treated, scores: best))
        guard bestArea - randomArea > 0 else { return nil }
        return (area(curve) - randomArea) / (bestArea - randomArea)
    }
}
