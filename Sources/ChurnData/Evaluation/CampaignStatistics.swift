import ChurnProtocol
import Foundation

/// The statistics of a retention campaign: churn rates with Wilson intervals, and the uplift
/// (control rate − treated rate) with a Wald interval and the pooled two-proportion z-test.
public enum CampaignStatistics {
    /// z for a two-sided 95% interval.
    public static let z95 = 1.959963984540054

    /// The 95% Wilson score interval of `successes` out of `trials` (nil for no trials).
    public static func wilson(_ successes: Int, of trials: Int) -> (rate: Double, low: Double, high: Double)? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z95 * z95
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z95 * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n)
        return (p, max(0, centre - half), min(1, centre + half))
    }

    /// Control churn rate minus treated churn rate, its 95% Wald interval, and the pooled
    /// two-proportion z-test's z and two-sided p (nil when an arm has no outcomes).
    public static func uplift(treatedChurned: Int, treated: Int, controlChurned: Int, control: Int)
        -> (uplift: Double, low: Double, high: Double, z: Double, p: Double)?
    {
        guard treated > 0, control > 0 else { return nil }
        let pt = Double(treatedChurned) / Double(treated)
        let pc = Double(controlChurned) / Double(control)
        let difference = pc - pt
        let error = (pt * (1 - pt) / Double(treated) + pc * (1 - pc) / Double(control)).squareRoot()
        let pooled = Double(treatedChurned + controlChurned) / Double(treated + control)
        let pooledError = (pooled * (1 - pooled) * (1 / Double(treated) + 1 / Double(control))).squareRoot()
        let z = pooledError > 0 ? difference / pooledError : 0
        let p = pooledError > 0 ? erfc(abs(z) / 2.squareRoot()) : 1
        return (difference, difference - z95 * error, difference + z95 * error, z, p)
    }
}

extension Interval {
    /// A rate and its interval in percent, for people: `20.0% [17.3, 23.0]`.
    public var percentText: String { String(format: "%.1f%% [%.1f, %.1f]", value * 100, low * 100, high * 100) }
}
