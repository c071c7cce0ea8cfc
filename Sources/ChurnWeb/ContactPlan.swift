import Hummingbird

/// Who the manager means to contact: the at-risk threshold (`?threshold=`, a whole percentage
/// from 5 to 95; default 50) and the monthly budget for offers (`?budget=`, whole currency units
/// up to a billion; none: every contact worth its cost), as every figure, list and link reads
/// them. Both are rounded as they are read, so the page, its links and its export use the same
/// plan.
struct ContactPlan {
    /// The churn probability from which a customer still with us is at risk.
    var threshold: Double
    /// Monthly budget for offers, in the offers' currency (nil: no limit).
    var budget: Double?

    static let defaultThreshold = 0.5
    static let largestBudget = 1e9

    init(threshold: Double = Self.defaultThreshold, budget: Double?) {
        self.threshold = threshold
        self.budget = budget
    }

    /// The plan a page asks for; anything out of range is the default.
    init(request: Request, context: WebRequestContext) {
        func asked(_ name: String) -> Double? {
            (request.uri.queryParameters.get(name) ?? context.form[name]).flatMap { Double($0.replacingOccurrences(of: ",", with: "")) }
        }
        budget = asked("budget").flatMap { (0...Self.largestBudget).contains($0) ? $0.rounded() : nil }
        threshold = asked("threshold").flatMap { (5...95).contains($0.rounded()) ? $0.rounded() / 100 : nil } ?? Self.defaultThreshold
    }

    /// What pages carry of the plan: the query for links, and the form fields' values.
    var values: [String: Any] {
        ["plan_query": query, "threshold_percent": "\(thresholdPercent)", "budget": budget.map { String(Int($0)) } ?? ""]
    }

    /// The threshold as a whole percentage.
    var thresholdPercent: Int { Int((threshold * 100).rounded()) }

    /// The plan as query members (`&threshold=40&budget=500`), each only when not the default.
    var query: String {
        (threshold == Self.defaultThreshold ? "" : "&threshold=\(thresholdPercent)") + (budget.map { "&budget=\(Int($0))" } ?? "")
    }
}
