import ChurnData
import ChurnProtocol
import Foundation

/// The configurations a tuner may try for one kind, read from the plugin's ``ParameterSpec``s:
/// the parameters with a `search`, except those the request fixed and, when the data has no
/// monthly history, those with the `history` role. The `budget` parameter (trees, epochs) is not
/// searched: successive halving sets it per rung.
public struct SearchSpace: Sendable {
    public let kind: String
    public let specs: [ParameterSpec]
    /// Values the request set: sent with every configuration, never searched.
    public let fixed: [String: JSONValue]
    /// Whether the data has monthly history (a panel, or history derived from the record).
    public let hasHistory: Bool

    public init(kind: String, specs: [ParameterSpec], fixed: [String: JSONValue] = [:], hasHistory: Bool) {
        self.kind = kind
        self.specs = specs
        self.fixed = fixed
        self.hasHistory = hasHistory
    }

    /// The parameters searched.
    public var searched: [ParameterSpec] {
        specs.filter { spec in
            spec.search != nil && spec.role != .budget && fixed[spec.name] == nil && (spec.role != .history || hasHistory)
        }
    }

    /// The parameter whose amount successive halving varies, when the plugin declares one.
    public var budgetParameter: ParameterSpec? { specs.first { $0.role == .budget } }

    /// The full amount of the budget parameter: what the request set, else its default.
    public var fullBudget: Int? {
        guard let spec = budgetParameter else { return nil }
        if case .number(let value)? = fixed[spec.name], let whole = Int(exactly: value) { return whole }
        if case .number(let value) = spec.defaultValue, let whole = Int(exactly: value) { return whole }
        return nil
    }

    /// The kind's defaults: the searched parameters at their default values, with the fixed ones.
    public var defaults: [String: JSONValue] {
        var params = fixed
        for spec in searched { params[spec.name] = spec.defaultValue }
        return params
    }

    /// `count` distinct configurations: the defaults first, then draws from `seed` (uniform over
    /// choices; uniform over a range, or over its logarithm on a `log` scale; whole numbers for
    /// integer parameters). Fewer when the space holds fewer distinct configurations.
    public func configurations(_ count: Int, seed: UInt64) -> [[String: JSONValue]] {
        var random = SeededRandom(seed: seed)
        var found = [defaults]
        guard !searched.isEmpty else { return found }
        var attempts = 0
        while found.count < count, attempts < count * 50 {
            attempts += 1
            var params = fixed
            for spec in searched { params[spec.name] = draw(spec, &random) }
            if !found.contains(params) { found.append(params) }
        }
        return found
    }

    private func draw(_ spec: ParameterSpec, _ random: inout SeededRandom) -> JSONValue {
        let search = spec.search!
        if let choices = search.choices, !choices.isEmpty {
            return choices[random.below(choices.count)]
        }
        let low = search.minimum ?? spec.minimum ?? 0
        let high = search.maximum ?? spec.maximum ?? low
        var value: Double
        if (search.scale ?? spec.scale) == .log, low > 0 {
            value = exp(log(low) + random.unit() * (log(high) - log(low)))
        } else {
            value = low + random.unit() * (high - low)
        }
        if spec.type == "integer" {
            value = min(max(value.rounded(), low.rounded(.up)), high.rounded(.down))
        } else {
            // Four significant digits: configurations a person can read and type again.
            value = Double(String(format: "%.4g", value)) ?? value
        }
        return .number(value)
    }

    /// The budget parameter's amount on each of `rungs` rungs, the last the full amount, each a
    /// factor `eta` below the next (at least 1).
    public func budgets(rungs: Int, eta: Int) -> [Int]? {
        guard let full = fullBudget else { return nil }
        let minimum = Int(budgetParameter?.minimum ?? 1)
        return (0..<rungs).map { rung in
            var amount = Double(full)
            for _ in rung..<(rungs - 1) { amount /= Double(eta) }
            return max(minimum, Int(amount.rounded()))
        }
    }
}
