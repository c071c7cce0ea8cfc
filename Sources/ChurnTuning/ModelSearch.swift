import ChurnData
import ChurnProtocol
import Foundation

/// Fits one configuration on every training row outside one cross-validation fold and scores the
/// fold's rows. churnd does it through a plugin (`train`, `load`, `predict`); tests and the
/// benchmark do it in-process.
public protocol FoldScorer: Sendable {
    /// The probabilities of fold `fold`'s rows, in the order of ``ModelSearch/folds```[fold]`.
    /// A fit still running after `timeLimit` seconds is given up with an error, where the
    /// scorer can interrupt it (through a plugin: the call times out).
    func score(kind: String, params: [String: JSONValue], fold: Int, timeLimit: Double) async throws -> [Double]
}

/// How a search is run.
public struct SearchSettings: Sendable {
    /// Seconds for the whole training run; the search stops early enough to leave the final fit
    /// its estimated time.
    public var budgetSeconds: Double
    /// Configurations per kind on the first rung (the kind's defaults among them).
    public var trialsPerKind: Int
    /// Successive halving keeps the best 1/`eta` of each rung (and the defaults) for the next,
    /// which gets `eta` times the budget parameter.
    public var eta: Int
    /// Rungs of successive halving (for kinds with a budget parameter).
    public var rungs: Int
    public var seed: UInt64
    /// Whether to consider a weighted blend of the kinds' best configurations.
    public var blend: Bool
    /// How many times its mean cross-validated fold time the final fit of a configuration is
    /// expected to take (it also scores validation rows, calibrates and registers).
    public var finalFitFactor: Double

    public init(
        budgetSeconds: Double, trialsPerKind: Int = 27, eta: Int = 3, rungs: Int = 3, seed: UInt64 = 0, blend: Bool = true,
        finalFitFactor: Double = 2
    ) {
        self.budgetSeconds = budgetSeconds
        self.trialsPerKind = trialsPerKind
        self.eta = eta
        self.rungs = rungs
        self.seed = seed
        self.blend = blend
        self.finalFitFactor = finalFitFactor
    }
}

/// One line of live progress: trial k of n, its kind and params, a fold's score, the best so far.
public struct SearchProgress: Sendable {
    public var trial: Int
    public var planned: Int
    public var kind: String
    public var params: [String: JSONValue]
    public var rung: Int
    /// The fold just scored (0-based) and its ROC-AUC; nil when the line reports a whole trial.
    public var fold: Int?
    public var foldROCAUC: Double?
    /// The trial's mean ROC-AUC once its folds are done.
    public var trialROCAUC: Double?
    public var bestROCAUC: Double?
    public var message: String
}

/// What the search chose to register.
public enum SearchChoice: Sendable, Equatable {
    case single(kind: String, params: [String: JSONValue])
    /// Members and weights (summing to 1).
    case blend([(kind: String, params: [String: JSONValue], weight: Double)])

    public static func == (lhs: SearchChoice, rhs: SearchChoice) -> Bool {
        switch (lhs, rhs) {
        case let (.single(a, p), .single(b, q)): return a == b && p == q
        case let (.blend(a), .blend(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.kind == $1.kind && $0.params == $1.params && $0.weight == $1.weight }
        default: return false
        }
    }
}

/// The result of a search: the leaderboard and the choice.
public struct SearchOutcome: Sendable {
    public var leaderboard: Leaderboard
    public var choice: SearchChoice
    /// Failed trials.
    public var failures: [TrialFailure]
}

/// Chooses a model for one dataset by stratified k-fold cross-validation on its training rows:
/// seeded random configurations per kind (the defaults first), compared by successive halving
/// on the kind's budget parameter (few trees or epochs first, the best third given more), within
/// a time budget, then a weighted blend of the kinds' best when it beats the best single one.
///
/// The same seed, data and plan give the same leaderboard and choice; a budget that runs out
/// first cuts the plan short (``Leaderboard/stopped`` says so) and the best found so far is chosen.
public struct ModelSearch: Sendable {
    public let spaces: [SearchSpace]
    /// Labels of the training rows.
    public let labels: [Bool]
    /// Each fold's rows (indices into `labels`); every row in exactly one fold.
    public let folds: [[Int]]
    public let settings: SearchSettings
    public let scorer: any FoldScorer
    /// Seconds on a monotonic clock.
    public let now: @Sendable () -> Double

    public init(
        spaces: [SearchSpace], labels: [Bool], folds: [[Int]], settings: SearchSettings, scorer: any FoldScorer,
        now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    ) {
        precondition(!spaces.isEmpty && folds.count >= 2)
        self.spaces = spaces
        self.labels = labels
        self.folds = folds
        self.settings = settings
        self.scorer = scorer
        self.now = now
    }

    /// A finished cross-validation of one configuration.
    struct Trial {
        var entry: LeaderboardEntry
        /// Out-of-fold probabilities of every training row.
        var outOfFold: [Double]
        /// The configuration without the budget parameter (how rungs recognise it).
        var configuration: [String: JSONValue]
    }

    /// Runs the search; `isCancelled` is asked before every fold fit.
    public func run(
        progress: @Sendable (SearchProgress) async -> Void = { _ in }, isCancelled: @Sendable () -> Bool = { false }
    ) async throws -> SearchOutcome {
        let start = now()
        let deadline = start + settings.budgetSeconds
        let eta = max(2, settings.eta)
        // Each kind's configurations and the budget parameter's amount per rung.
        let plans = spaces.enumerated().map { index, space in
            let budgets = distinct(space.budgets(rungs: max(1, settings.rungs), eta: eta))
            let configurations = space.configurations(
                max(1, settings.trialsPerKind), seed: settings.seed &+ UInt64(index) &* 0x9E37_79B9)
            return (space: space, budgets: budgets, configurations: configurations)
        }
        let planned = plans.reduce(0) { total, plan in
            // Each later rung: the best of the one before, plus the defaults when not among them.
            var count = plan.configurations.count
            var sum = count
            for _ in plan.budgets.dropFirst() {
                let next = (count + eta - 1) / eta
                sum += next + (next < count ? 1 : 0)
                count = next
            }
            return total + sum
        }
        var trials: [Trial] = []
        var failures: [TrialFailure] = []
        var stopped: String?
        var seconds: [String: [(budget: Int, seconds: Double)]] = [:]
        var trialNumber = 0

        let fullBudgets = Dictionary(uniqueKeysWithValues: plans.map { ($0.space.kind, $0.budgets.last) })
        let budgetNames = Dictionary(uniqueKeysWithValues: spaces.map { ($0.kind, $0.budgetParameter?.name) })
        func budgetAmount(_ entry: LeaderboardEntry) -> Int? {
            guard let name = budgetNames[entry.kind] ?? nil, case .number(let value)? = entry.params[name] else { return nil }
            return Int(value)
        }
        /// A chosen configuration as it is fitted: with the full amount of its budget parameter
        /// (a survivor of every rung gets it; one the budget stopped earlier gets it too).
        func fitted(_ entry: LeaderboardEntry) -> [String: JSONValue] {
            var params = entry.params
            if let name = budgetNames[entry.kind] ?? nil, let full = fullBudgets[entry.kind] ?? nil { params[name] = .number(Double(full)) }
            return params
        }
        /// Seconds one fold of `kind` takes with `budget` units of its budget parameter: a line
        /// (fixed cost plus cost per unit) through what its folds took so far once two amounts
        /// were measured, else proportional to the one amount measured (which overestimates
        /// larger amounts: on the safe side of the budget).
        func estimate(_ kind: String, budget: Int?) -> Double? {
            guard let measured = seconds[kind], !measured.isEmpty else { return nil }
            let units = Double(max(1, budget ?? 1))
            let xs = measured.map { Double(max(1, $0.budget)) }
            let ys = measured.map(\.seconds)
            let meanX = xs.reduce(0, +) / Double(xs.count)
            let meanY = ys.reduce(0, +) / Double(ys.count)
            let variance = xs.reduce(0) { $0 + ($1 - meanX) * ($1 - meanX) }
            if variance > 0 {
                let slope = max(0, zip(xs, ys).reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) } / variance)
                let fixed = max(0, meanY - slope * meanX)
                return fixed + slope * units
            }
            return meanY / meanX * units
        }
        func reserve() -> Double {
            // The final fit of what would be chosen now: the best trial, or every kind's best
            // when a blend may be chosen.
            let best = Self.candidates(trials)
            guard let top = best.first else { return 0 }
            let members = settings.blend && best.count > 1 ? Array(best.prefix(3)) : [top]
            return members.reduce(0) { total, member in
                // Fitted with the full amount of its budget parameter.
                let full = fullBudgets[member.entry.kind] ?? nil
                let fold = estimate(member.entry.kind, budget: full ?? budgetAmount(member.entry)) ?? member.entry.fitSeconds
                return total + fold * settings.finalFitFactor
            }
        }

        /// Seconds a fold fit may take before the scorer gives up on it: what is left of the
        /// budget, and a grace (a tenth of the budget, 5 s at least) for a first fit whose cost
        /// is not known yet.
        func foldTimeLimit() -> Double {
            max(0, deadline - now()) + max(5, settings.budgetSeconds / 10)
        }

        enum Step { case next, halt }
        /// Cross-validates one configuration at `rung` unless its estimated cost would run past
        /// `shareEnd` or leave too little for the final fit; between folds, abandons it when the
        /// folds still to come would.
        func evaluate(
            _ space: SearchSpace, budget: Int?, configuration: [String: JSONValue], rung: Int, until shareEnd: Double
        ) async -> Step {
            if isCancelled() {
                stopped = "cancelled"
                return .halt
            }
            let kind = space.kind
            var params = configuration
            if let name = space.budgetParameter?.name, let budget { params[name] = .number(Double(budget)) }
            let cost = estimate(kind, budget: budget).map { $0 * Double(folds.count) } ?? 0
            if now() + cost > shareEnd || now() + cost + reserve() > deadline || now() + reserve() >= deadline {
                stopped = "budget"
                return .next
            }
            trialNumber += 1
            let number = trialNumber
            let best = trials.map(\.entry.rocAUC).max()
            var outOfFold = [Double](repeating: .nan, count: labels.count)
            var foldAUC: [Double] = []
            let trialStart = now()
            var currentFold = 0
            do {
                for fold in folds.indices {
                    currentFold = fold
                    if isCancelled() {
                        stopped = "cancelled"
                        return .halt
                    }
                    if fold > 0 {
                        // The folds to come, at the pace of those done: an unfinished trial is
                        // not comparable, so one that would overrun is abandoned now.
                        let ahead = (now() - trialStart) / Double(fold) * Double(folds.count - fold)
                        if now() + ahead > shareEnd || now() + ahead + reserve() > deadline {
                            stopped = "budget"
                            seconds[kind, default: []].append((budget ?? 1, (now() - trialStart) / Double(fold)))
                            throw SearchStop.abandoned
                        }
                    }
                    let rows = folds[fold]
                    let probabilities = try await scorer.score(kind: kind, params: params, fold: fold, timeLimit: foldTimeLimit())
                    guard probabilities.count == rows.count else {
                        throw SearchStop.wrongCount(expected: rows.count, got: probabilities.count)
                    }
                    for (position, row) in rows.enumerated() { outOfFold[row] = probabilities[position] }
                    let auc = Metrics.rocAUC(rows.map { labels[$0] }, probabilities) ?? 0.5
                    foldAUC.append(auc)
                    await progress(
                        SearchProgress(
                            trial: number, planned: planned, kind: kind, params: params, rung: rung, fold: fold,
                            foldROCAUC: auc, trialROCAUC: nil, bestROCAUC: best,
                            message: String(
                                format: "trial %d of at most %d, %@ rung %d%@, fold %d/%d: ROC-AUC %.4f%@", number, planned, kind, rung,
                                fold == 0 ? " (" + Self.describe(params) + ")" : "", fold + 1, folds.count, auc,
                                best.map { String(format: " (best so far %.4f)", $0) } ?? "")))
                }
            } catch SearchStop.abandoned {
                await progress(
                    SearchProgress(
                        trial: number, planned: planned, kind: kind, params: params, rung: rung, fold: nil, foldROCAUC: nil,
                        trialROCAUC: nil, bestROCAUC: best,
                        message: "trial \(number) of at most \(planned), \(kind): abandoned after \(currentFold) of \(folds.count) folds, its remaining folds would overrun the budget"))
                return .next
            } catch {
                let failure = TrialFailure(trial: number, kind: kind, params: params, fold: currentFold, folds: folds.count, error: error)
                failures.append(failure)
                if now() >= deadline { stopped = "budget" }
                await progress(
                    SearchProgress(
                        trial: number, planned: planned, kind: kind, params: params, rung: rung, fold: nil, foldROCAUC: nil,
                        trialROCAUC: nil, bestROCAUC: best, message: "trial \(number) of at most \(planned), \(kind): failed on fold \(currentFold + 1): \(error)"))
                return .next
            }
            let elapsed = (now() - trialStart) / Double(folds.count)
            seconds[kind, default: []].append((budget ?? 1, elapsed))
            let mean = foldAUC.reduce(0, +) / Double(foldAUC.count)
            let spread = (foldAUC.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(foldAUC.count)).squareRoot()
            let entry = LeaderboardEntry(
                trial: number, kind: kind, params: params, rung: rung, isDefault: configuration == space.defaults,
                rocAUC: mean, rocAUCStd: spread, foldROCAUC: foldAUC, logLoss: Metrics.logLoss(labels, outOfFold),
                fitSeconds: elapsed)
            trials.append(Trial(entry: entry, outOfFold: outOfFold, configuration: configuration))
            let bestNow = max(best ?? mean, mean)
            await progress(
                SearchProgress(
                    trial: number, planned: planned, kind: kind, params: params, rung: rung, fold: nil, foldROCAUC: nil,
                    trialROCAUC: mean, bestROCAUC: bestNow,
                    message: String(
                        format: "trial %d of at most %d, %@ %@: CV ROC-AUC %.4f ± %.4f, %.1f s a fold (best so far %.4f)", number, planned,
                        kind, Self.describe(params), mean, spread, elapsed, bestNow)))
            return .next
        }

        // First each kind's defaults at its first rung, in the plugins' order: what a fold of
        // each kind costs is then known. Then kinds cheapest first (a fast kind is never starved
        // by a slow one ahead of it, nor by the reserve for a slow kind's final fit), each with
        // an equal share of what is left of the budget (what a fast kind leaves passes to the
        // next); within a kind, rung by rung.
        var halted = false
        for plan in plans where !halted {
            guard let first = plan.configurations.first else { continue }
            // A first fit's cost is unknown: it may use what is left, not just a share.
            halted = await evaluate(plan.space, budget: plan.budgets.first, configuration: first, rung: 0, until: deadline) == .halt
        }
        let order = plans.enumerated().sorted { a, b in
            let costA = estimate(a.element.space.kind, budget: a.element.budgets.first) ?? .infinity
            let costB = estimate(b.element.space.kind, budget: b.element.budgets.first) ?? .infinity
            return costA != costB ? costA < costB : a.offset < b.offset
        }.map(\.element)
        search: for (position, plan) in order.enumerated() where !halted {
            let shareEnd = now() + max(0, deadline - now() - reserve()) / Double(order.count - position)
            for rung in 0..<max(1, plan.budgets.count) {
                let kind = plan.space.kind
                let budget = plan.budgets.isEmpty ? nil : plan.budgets[rung]
                let configurations: [[String: JSONValue]]
                if rung == 0 {
                    // The defaults were cross-validated first.
                    configurations = Array(plan.configurations.dropFirst())
                } else {
                    var keep = plan.configurations.count
                    for _ in 0..<rung { keep = (keep + eta - 1) / eta }
                    configurations = promoted(from: trials, kind: kind, rung: rung - 1, keep: keep, defaults: plan.space.defaults)
                }
                for configuration in configurations {
                    if await evaluate(plan.space, budget: budget, configuration: configuration, rung: rung, until: shareEnd) == .halt {
                        break search
                    }
                }
            }
        }
        guard !trials.isEmpty else {
            if let first = failures.first { throw SearchStop.everyTrialFailed(first: first, count: failures.count) }
            throw SearchStop.nothingFinished(stopped ?? "budget")
        }

        // The choice: each kind's best at its highest completed rung; a blend of them when it
        // beats the best of them in nested cross-validation.
        let candidates = Self.candidates(trials)
        let best = candidates[0]
        var blendSummary: BlendSummary?
        var choice = SearchChoice.single(kind: best.entry.kind, params: fitted(best.entry))
        var chosenTrial: Int? = best.entry.trial
        if settings.blend, candidates.count > 1 {
            let members = Array(candidates.prefix(3))
            let blend = BlendSearch(labels: labels, folds: folds, members: members.map(\.outOfFold))
            let (weights, foldScores) = blend.run()
            let mean = foldScores.reduce(0, +) / Double(foldScores.count)
            let spread = (foldScores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(foldScores.count)).squareRoot()
            let used = weights.filter { $0 > 0 }.count
            let chosen = used > 1 && mean > best.entry.rocAUC + 1e-4
            blendSummary = BlendSummary(
                members: zip(members, weights).map { BlendWeight(trial: $0.entry.trial, kind: $0.entry.kind, weight: $1) },
                rocAUC: mean, rocAUCStd: spread, foldROCAUC: foldScores, chosen: chosen)
            if chosen {
                choice = .blend(
                    zip(members, weights).filter { $1 > 0 }.map { (kind: $0.entry.kind, params: fitted($0.entry), weight: $1) })
                chosenTrial = nil
            }
        }
        let entries = trials.map(\.entry).sorted {
            $0.rocAUC != $1.rocAUC ? $0.rocAUC > $1.rocAUC : $0.trial < $1.trial
        }
        let leaderboard = Leaderboard(
            folds: folds.count, rows: labels.count, seed: settings.seed, budgetSeconds: settings.budgetSeconds,
            searchSeconds: now() - start, planned: planned, stopped: stopped, kinds: spaces.map(\.kind), entries: entries,
            chosenTrial: chosenTrial, blend: blendSummary)
        return SearchOutcome(leaderboard: leaderboard, choice: choice, failures: failures)
    }

    /// The configurations of `kind` promoted from `rung`: its best `keep` (the plan's size of
    /// the next rung), and the defaults.
    private func promoted(
        from trials: [Trial], kind: String, rung: Int, keep: Int, defaults: [String: JSONValue]
    ) -> [[String: JSONValue]] {
        let ranked = trials.filter { $0.entry.kind == kind && $0.entry.rung == rung }.sorted {
            $0.entry.rocAUC != $1.entry.rocAUC ? $0.entry.rocAUC > $1.entry.rocAUC : $0.entry.trial < $1.entry.trial
        }
        var chosen = ranked.prefix(keep).map(\.configuration)
        if !chosen.contains(defaults), ranked.contains(where: { $0.configuration == defaults }) { chosen.append(defaults) }
        return chosen
    }

    /// Each kind's best trial at the highest rung it completed, best first.
    static func candidates(_ trials: [Trial]) -> [Trial] {
        var byKind: [String: Trial] = [:]
        for trial in trials {
            guard let current = byKind[trial.entry.kind] else {
                byKind[trial.entry.kind] = trial
                continue
            }
            if trial.entry.rung > current.entry.rung
                || (trial.entry.rung == current.entry.rung && trial.entry.rocAUC > current.entry.rocAUC)
            {
                byKind[trial.entry.kind] = trial
            }
        }
        return byKind.values.sorted {
            $0.entry.rocAUC != $1.entry.rocAUC ? $0.entry.rocAUC > $1.entry.rocAUC : $0.entry.trial < $1.entry.trial
        }
    }

    /// `values` without repeats, in order (a full budget of 2 gives rungs [1, 2], not [1, 1, 2]).
    private func distinct(_ values: [Int]?) -> [Int] {
        var seen: [Int] = []
        for value in values ?? [] where !seen.contains(value) { seen.append(value) }
        return seen
    }

    /// `{"max_depth": 8, ...}` as `max_depth=8 ...`, names sorted.
    public static func describe(_ params: [String: JSONValue]) -> String {
        params.keys.sorted().map { "\($0)=\(params[$0]!.brief)" }.joined(separator: " ")
    }
}

/// A trial that failed: which configuration, on which fold, and why.
public struct TrialFailure: Sendable, CustomStringConvertible {
    public var trial: Int
    public var kind: String
    public var params: [String: JSONValue]
    /// The fold (0-based) being fitted or scored when it failed.
    public var fold: Int
    public var folds: Int
    public var error: any Error

    public var description: String {
        "trial \(trial) (\(kind) \(ModelSearch.describe(params))), fold \(fold + 1) of \(folds): \(error)"
    }
}

/// Why a search stopped without a result, or abandoned a trial.
public enum SearchStop: Error, CustomStringConvertible, RPCErrorConvertible {
    case abandoned
    case wrongCount(expected: Int, got: Int)
    case nothingFinished(String)
    /// Every trial failed; the first failure says where and why.
    case everyTrialFailed(first: TrialFailure, count: Int)

    /// As a JSON-RPC error: the first failure's code (a bad parameter stays -32602) with the
    /// trial, kind, params and fold in its message.
    public var rpcError: RPCError {
        switch self {
        case .everyTrialFailed(let first, let count):
            let cause = (first.error as? RPCErrorConvertible)?.rpcError
            var data: [String: JSONValue] = [:]
            if case .object(let fields)? = cause?.data { data = fields }
            data["kind"] = .string(first.kind)
            data["fold"] = .number(Double(first.fold + 1))
            return RPCError(
                code: cause?.code ?? RPCErrorCode.internalError.rawValue,
                message: "every configuration tried failed (\(count)); the first, \(first.description)", data: .object(data))
        case .nothingFinished(let reason):
            return reason == "cancelled" ? RPCError(.timeout, description) : RPCError.invalidParams(field: "budget", description)
        default: return RPCError(.internalError, description)
        }
    }

    public var description: String {
        switch self {
        case .abandoned: return "the trial was abandoned when the budget ran out"
        case .wrongCount(let expected, let got): return "the plugin scored \(got) of a fold's \(expected) rows"
        case .everyTrialFailed: return rpcError.message
        case .nothingFinished(let reason):
            return reason == "cancelled"
                ? "the search was cancelled before any configuration was cross-validated"
                : "the budget ran out before any configuration was cross-validated: raise --budget"
        }
    }
}
