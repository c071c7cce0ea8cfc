import ChurnData
import ChurnForest
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Synchronization
import Testing

@testable import ChurnTuning

/// A clock tests move by hand: fits "take" the time a fake scorer says.
final class FakeClock: Sendable {
    private let seconds = Mutex<Double>(1000)
    var now: Double { seconds.withLock { $0 } }
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
}

/// Values recorded across copies of a scorer or from a progress callback.
final class Recorded<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

/// Counts calls across copies of a scorer.
final class CallCounter: Sendable {
    private let count = Mutex<Int>(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// Scores a fold from the labels with a quality the params decide, plus noise seeded by the
/// params and fold: quality 1 ranks every churner first, 0 is noise. Each fit costs
/// `secondsPerUnit` times the budget parameter on the fake clock.
struct FakeScorer: FoldScorer {
    let labels: [Bool]
    let folds: [[Int]]
    let clock: FakeClock
    let secondsPerUnit: Double
    let quality: @Sendable (String, [String: JSONValue]) -> Double
    /// Per kind, a factor on the cost of its fits.
    var costFactor: [String: Double] = [:]
    /// A factor on the cost of particular fits (by kind and params), on top of `costFactor`.
    var surprise: @Sendable (String, [String: JSONValue]) -> Double = { _, _ in 1 }
    let calls = CallCounter()
    /// The largest time limit a fit was given.
    let timeLimits = Recorded<Double>()

    func score(kind: String, params: [String: JSONValue], fold: Int, timeLimit: Double) async throws -> [Double] {
        calls.add()
        timeLimits.append(timeLimit)
        var units = 1.0
        if case .number(let trees)? = params["n_trees"] { units = trees }
        if case .number(let epochs)? = params["epochs"] { units = epochs }
        clock.advance(secondsPerUnit * units * (costFactor[kind] ?? 1) * surprise(kind, params))
        let q = quality(kind, params)
        var hash: UInt64 = 1469598103934665603
        for byte in "\(kind) \(ModelSearch.describe(params)) \(fold)".utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        var random = SeededRandom(seed: hash)
        return folds[fold].map { row in q * (labels[row] ? 1 : 0) + (1 - q) * random.unit() }
    }
}

@Suite struct SearchSpaceTests {
    @Test func configurationsStartWithTheDefaultsAndStayInTheirSearchRanges() throws {
        let space = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: false)
        let drawn = space.configurations(9, seed: 4)
        #expect(drawn.count == 9)
        #expect(drawn[0] == space.defaults)
        #expect(Set(drawn.map { ModelSearch.describe($0) }).count == 9)
        for configuration in drawn {
            #expect(configuration["history_window"] == nil, "no history: the window is not searched")
            #expect(configuration["n_trees"] == nil, "the budget parameter is set per rung, not drawn")
            guard case .number(let leaf)? = configuration["min_samples_leaf"] else {
                Issue.record("min_samples_leaf missing in \(configuration)")
                continue
            }
            #expect(leaf.rounded() == leaf && (1...50).contains(leaf))
            #expect([0, 8, 12, 20].map { JSONValue.number($0) }.contains(configuration["max_depth"]!) || configuration == drawn[0])
            // Every configuration is one the plugin accepts.
            _ = try ForestParameters.parse(configuration, width: 30)
        }
        #expect(space.configurations(9, seed: 4) == drawn, "the same seed draws the same configurations")
        #expect(space.configurations(9, seed: 5) != drawn)
        let withHistory = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: true)
        #expect(withHistory.configurations(9, seed: 4).dropFirst().allSatisfy { $0["history_window"] != nil })
        let fixed = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, fixed: ["max_depth": 5], hasHistory: false)
        #expect(fixed.configurations(9, seed: 4).allSatisfy { $0["max_depth"] == 5 }, "a parameter the request sets is not searched")
    }

    @Test func rungsGiveTheBudgetParameterAFactorEtaMoreEachTime() {
        let space = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: false)
        #expect(space.budgets(rungs: 3, eta: 3) == [33, 100, 300])
        let fixed = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, fixed: ["n_trees": 90], hasHistory: false)
        #expect(fixed.budgets(rungs: 3, eta: 3) == [10, 30, 90])
    }

    @Test func aBadValueIsRefusedNamingTheParameterAndItsRange() {
        #expect {
            _ = try ForestParameters.parse(["min_samples_leaf": 0], width: 10)
        } throws: { error in
            let message = "\(error)"
            return message.contains("params.min_samples_leaf") && message.contains("between 1 and 100000")
        }
        #expect {
            _ = try ForestParameters.parse(["class_weight": "heavy"], width: 10)
        } throws: { error in "\(error)".contains("params.class_weight") && "\(error)".contains("\"balanced\"") }
    }
}

@Suite struct ModelSearchTests {
    let labels: [Bool]
    let folds: [[Int]]

    init() {
        var random = SeededRandom(seed: 11)
        labels = (0..<600).map { _ in random.unit() < 0.25 }
        folds = StratifiedSplit.folds(labels, k: 5, seed: 3).map(\.test)
    }

    /// Quality peaks at min_samples_leaf 5 and is higher with more trees.
    static let forestQuality: @Sendable (String, [String: JSONValue]) -> Double = { _, params in
        guard case .number(let leaf)? = params["min_samples_leaf"], case .number(let trees)? = params["n_trees"] else { return 0 }
        return 0.3 / (1 + abs(log(leaf / 5))) + 0.1 * trees / 300
    }

    func search(budget: Double, clock: FakeClock, trials: Int = 9, seed: UInt64 = 0, quality: (@Sendable (String, [String: JSONValue]) -> Double)? = nil,
                kinds: [String] = ["random_forest"], blend: Bool = true) -> (ModelSearch, FakeScorer) {
        let scorer = FakeScorer(labels: labels, folds: folds, clock: clock, secondsPerUnit: 0.001, quality: quality ?? Self.forestQuality)
        let spaces = kinds.map { SearchSpace(kind: $0, specs: ForestParameters.specs, hasHistory: false) }
        let search = ModelSearch(
            spaces: spaces, labels: labels, folds: folds,
            settings: SearchSettings(budgetSeconds: budget, trialsPerKind: trials, seed: seed, blend: blend), scorer: scorer,
            now: { clock.now })
        return (search, scorer)
    }

    @Test func successiveHalvingGivesTheBestThirdAndTheDefaultsMoreTrees() async throws {
        let clock = FakeClock()
        let (search, scorer) = search(budget: 10_000, clock: clock)
        let outcome = try await search.run()
        let board = outcome.leaderboard
        #expect(board.stopped == nil)
        let byRung = Dictionary(grouping: board.entries, by: \.rung)
        #expect(byRung[0]?.count == 9)
        #expect((3...4).contains(byRung[1]?.count ?? 0))
        #expect((1...2).contains(byRung[2]?.count ?? 0))
        #expect(byRung[0]!.allSatisfy { $0.params["n_trees"] == 33 } && byRung[2]!.allSatisfy { $0.params["n_trees"] == 300 })
        for rung in 0...2 { #expect(byRung[rung]!.contains { $0.isDefault }, "the defaults reach rung \(rung)") }
        #expect(board.planned == 9 + 4 + 2)
        #expect(scorer.calls.value == board.entries.count * 5)
        // The choice is the best of the last rung, and never worse there than the defaults.
        guard case .single(let kind, let params) = outcome.choice else { Issue.record("expected one model"); return }
        let top = byRung[2]!.max { $0.rocAUC < $1.rocAUC }!
        #expect(kind == "random_forest" && params == top.params && board.chosenTrial == top.trial)
        #expect(top.rocAUC >= byRung[2]!.first { $0.isDefault }!.rocAUC)
        #expect(board.entries == board.entries.sorted { $0.rocAUC > $1.rocAUC || ($0.rocAUC == $1.rocAUC && $0.trial < $1.trial) })
    }

    @Test func theSameSeedGivesTheSameLeaderboardAndChoice() async throws {
        let first = try await search(budget: 10_000, clock: FakeClock(), seed: 7).0.run()
        let second = try await search(budget: 10_000, clock: FakeClock(), seed: 7).0.run()
        #expect(first.leaderboard == second.leaderboard)
        #expect(first.choice == second.choice)
        let other = try await search(budget: 10_000, clock: FakeClock(), seed: 8).0.run()
        #expect(other.leaderboard.entries.map(\.params) != first.leaderboard.entries.map(\.params))
    }

    @Test func theBudgetStopsTheSearchLeavingTimeForTheFinalFit() async throws {
        // A full plan costs (9·33 + 4·100 + 2·300)·5 folds·1 ms ≈ 6.5 s; give it 3.
        let clock = FakeClock()
        let (search, _) = search(budget: 3, clock: clock)
        let start = clock.now
        let outcome = try await search.run()
        let board = outcome.leaderboard
        #expect(board.stopped == "budget")
        #expect(board.entries.count < board.planned)
        // The chosen configuration is fitted with all 300 trees: 0.3 s a fold on this clock.
        let finalFit = 0.001 * 300 * search.settings.finalFitFactor
        #expect(clock.now - start + finalFit <= 3 * 1.1, "search \(clock.now - start) s + final fit \(finalFit) s within the budget")
        #expect(board.searchSeconds == clock.now - start)
    }

    @Test func aSlowKindCannotStarveTheOthers() async throws {
        // The first kind's fits cost 5 times more: alone its plan would take more than the budget.
        let clock = FakeClock()
        var scorer = FakeScorer(labels: labels, folds: folds, clock: clock, secondsPerUnit: 0.001, quality: Self.forestQuality)
        scorer.costFactor = ["a_slow": 5]
        let spaces = ["a_slow", "b_fast"].map { SearchSpace(kind: $0, specs: ForestParameters.specs, hasHistory: false) }
        let search = ModelSearch(
            spaces: spaces, labels: labels, folds: folds, settings: SearchSettings(budgetSeconds: 30, trialsPerKind: 9, blend: false),
            scorer: scorer, now: { clock.now })
        let board = try await search.run().leaderboard
        #expect(board.stopped == "budget")
        // Each kind's defaults first (what a fold costs), then the cheap kind's whole plan,
        // whatever the plugins' order.
        let byTrial = board.entries.sorted { $0.trial < $1.trial }
        #expect(byTrial.prefix(2).map(\.kind) == ["a_slow", "b_fast"] && byTrial.prefix(2).allSatisfy(\.isDefault))
        #expect(byTrial.dropFirst(2).prefix(13).allSatisfy { $0.kind == "b_fast" }, "the cheap kind is searched before the slow one")
        let fast = board.entries.filter { $0.kind == "b_fast" }
        #expect(fast.count == 9 + 4 + 2, "the fast kind completes its plan in the share the slow one left: \(fast.count)")
        #expect(board.entries.contains { $0.kind == "a_slow" })
        #expect(board.entries.filter { $0.kind == "a_slow" }.count < 15, "the slow kind's plan was cut")
        #expect(board.searchSeconds <= 30)
    }

    @Test func theReserveForASlowKindsFinalFitDoesNotStarveACheapKindInAnAutoRunWithABlend() async throws {
        // The run that starved before: slow kinds listed first, a blend possible (its final
        // fit reserves time for every member), a budget too small for the slow kinds' plans.
        let clock = FakeClock()
        var scorer = FakeScorer(labels: labels, folds: folds, clock: clock, secondsPerUnit: 0.001, quality: Self.forestQuality)
        scorer.costFactor = ["a_slow": 8, "b_slow": 8]
        let spaces = ["a_slow", "b_slow", "c_fast"].map { SearchSpace(kind: $0, specs: ForestParameters.specs, hasHistory: false) }
        let search = ModelSearch(
            spaces: spaces, labels: labels, folds: folds, settings: SearchSettings(budgetSeconds: 40, trialsPerKind: 9, blend: true),
            scorer: scorer, now: { clock.now })
        let start = clock.now
        let board = try await search.run().leaderboard
        #expect(board.entries.filter { $0.kind == "c_fast" }.count == 15, "the cheap kind completes its plan")
        #expect(board.entries.contains { $0.kind == "a_slow" } && board.entries.contains { $0.kind == "b_slow" })
        #expect(clock.now - start <= 40)
    }

    @Test func aTrialWhoseFoldsCostFarMoreThanEstimatedIsAbandonedBetweenFolds() async throws {
        // Fits with all 300 trees cost 50 times what the line through 33 and 100 trees says.
        let clock = FakeClock()
        var scorer = FakeScorer(labels: labels, folds: folds, clock: clock, secondsPerUnit: 0.001, quality: Self.forestQuality)
        scorer.surprise = { _, params in params["n_trees"] == 300 ? 50 : 1 }
        let search = ModelSearch(
            spaces: [SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: false)], labels: labels, folds: folds,
            settings: SearchSettings(budgetSeconds: 60, trialsPerKind: 9, blend: false), scorer: scorer, now: { clock.now })
        let lines = Recorded<String>()
        let start = clock.now
        let outcome = try await search.run(progress: { step in lines.append(step.message) })
        let board = outcome.leaderboard
        #expect(board.stopped == "budget")
        #expect(!board.entries.contains { $0.rung == 2 }, "no 300-tree trial finished: each was abandoned after its first fold")
        #expect(lines.all.contains { $0.contains("abandoned after 1 of 5 folds") })
        #expect(clock.now - start <= 60)
        // Every fit was given what was left of the budget plus a grace of a tenth of it.
        let limits = scorer.timeLimits.all
        #expect(limits.first.map { abs($0 - 66) < 1e-9 } == true, "first limit \(String(describing: limits.first)): 60 s left and a grace of 6")
        #expect(limits == limits.sorted(by: >), "the limit shrinks as the budget is spent")
    }

    @Test func whenEveryTrialFailsTheErrorNamesTheFirstTrialsKindParamsAndFold() async throws {
        struct Refusing: FoldScorer {
            func score(kind: String, params: [String: JSONValue], fold: Int, timeLimit: Double) async throws -> [Double] {
                throw RPCError.invalidParams(field: "params.min_samples_leaf", "out of range")
            }
        }
        let search = ModelSearch(
            spaces: [SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: false)], labels: labels, folds: folds,
            settings: SearchSettings(budgetSeconds: 60, trialsPerKind: 3), scorer: Refusing())
        await #expect {
            _ = try await search.run()
        } throws: { error in
            guard let rpc = (error as? RPCErrorConvertible)?.rpcError else { return false }
            return rpc.code == RPCErrorCode.invalidParams.rawValue && rpc.message.contains("every configuration tried failed (3)")
                && rpc.message.contains("trial 1 (random_forest ") && rpc.message.contains("fold 1 of 5")
                && rpc.message.contains("out of range")
        }
    }

    @Test func aCancelledSearchKeepsTheBestFoundSoFar() async throws {
        let clock = FakeClock()
        let (search, scorer) = search(budget: 10_000, clock: clock)
        let outcome = try await search.run(isCancelled: { scorer.calls.value >= 22 })
        #expect(outcome.leaderboard.stopped == "cancelled")
        #expect(outcome.leaderboard.entries.count == 4, "four whole trials of five folds before the 23rd fit was due")
        guard case .single = outcome.choice else { Issue.record("expected the best trial"); return }
    }

    @Test func aBlendIsChosenOnlyWhenItBeatsTheBestSingleKindInNestedCV() async throws {
        // Two kinds whose scores carry independent signal: averaging them helps.
        let independent: @Sendable (String, [String: JSONValue]) -> Double = { _, _ in 0.35 }
        let outcome = try await search(
            budget: 10_000, clock: FakeClock(), trials: 2, quality: independent, kinds: ["a_forest", "b_forest"]
        ).0.run()
        let blend = try #require(outcome.leaderboard.blend)
        let bestSingle = outcome.leaderboard.entries.map(\.rocAUC).max()!
        #expect(blend.chosen && blend.rocAUC > bestSingle)
        guard case .blend(let members) = outcome.choice else { Issue.record("expected a blend"); return }
        #expect(Set(members.map(\.kind)) == ["a_forest", "b_forest"])
        #expect(abs(members.map(\.weight).reduce(0, +) - 1) < 1e-9)
        // A kind that is noise adds nothing: the best single model is registered.
        let oneIsNoise: @Sendable (String, [String: JSONValue]) -> Double = { kind, _ in kind == "a_forest" ? 0.4 : 0 }
        let single = try await search(
            budget: 10_000, clock: FakeClock(), trials: 2, quality: oneIsNoise, kinds: ["a_forest", "b_forest"]
        ).0.run()
        #expect(single.leaderboard.blend?.chosen == false)
        guard case .single(let kind, _) = single.choice else { Issue.record("expected one model"); return }
        #expect(kind == "a_forest")
    }

    @Test func shuffledLabelsScoreNearChanceWithARealForest() async throws {
        // A real in-process forest on a generated operator file: with its labels it learns; with
        // the labels shuffled, the search finds nothing (no row leaks its label into a fold).
        let folder = NSTemporaryDirectory() + "churn-tuning-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = SyntheticOperator.generate(customers: 900, seed: 5)
        var shuffled = data
        var random = SeededRandom(seed: 9)
        shuffled.churned = data.churned!.shuffled(using: &random)
        for (name, dataset, range) in [("real", data, 0.7...1.0), ("shuffled", shuffled, 0.38...0.62)] {
            let subfolder = folder + "/" + name
            try FileManager.default.createDirectory(atPath: subfolder, withIntermediateDirectories: true)
            let files = try FoldFiles(data: dataset, panel: nil, k: 3, seed: 1, folder: subfolder)
            let space = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, fixed: ["n_trees": 30, "threads": 2], hasHistory: false)
            let search = ModelSearch(
                spaces: [space], labels: files.labels, folds: files.folds,
                settings: SearchSettings(budgetSeconds: 600, trialsPerKind: 3, rungs: 2, seed: 2),
                scorer: InProcessFoldScorer(plugins: ["random_forest": RandomForestPlugin()], files: files, seed: 2))
            let board = try await search.run().leaderboard
            let best = board.entries[0].rocAUC
            #expect(range.contains(best), "\(name) labels: best CV ROC-AUC \(best)")
            #expect(board.rows == 900)
        }
    }
}

/// On the real telco train file, the forest the search chooses is never worse in 5-fold
/// cross-validation than the forest's defaults before tuning existed (max_depth 10,
/// min_samples_leaf 20: 0.847 in `churn-bench forest`'s folds), scored on the same folds.
@Suite("Tuning on the real telco file", .serialized)
struct TelcoTuningTests {
    @Test func theTunedForestIsNeverWorseThanTheOldDefaultsInCrossValidation() async throws {
        let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("real telco data is missing at \(path): this test needs ../shared/data/telco beside the repository")
            return
        }
        let (data, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let folder = NSTemporaryDirectory() + "churn-telco-tuning-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FoldFiles(data: data, panel: nil, k: 5, seed: 0, folder: folder)
        let scorer = InProcessFoldScorer(plugins: ["random_forest": RandomForestPlugin()], files: files, seed: 0)
        let space = SearchSpace(kind: "random_forest", specs: ForestParameters.specs, hasHistory: true)
        let outcome = try await ModelSearch(
            spaces: [space], labels: files.labels, folds: files.folds,
            settings: SearchSettings(budgetSeconds: 3600, seed: 0), scorer: scorer
        ).run()
        #expect(outcome.leaderboard.stopped == nil)
        let chosen = try #require(outcome.leaderboard.entries.first { $0.trial == outcome.leaderboard.chosenTrial })
        var old: [Double] = []
        for fold in 0..<5 {
            let probabilities = try await scorer.score(
                kind: "random_forest", params: ["n_trees": 300, "max_depth": 10, "min_samples_leaf": 20], fold: fold, timeLimit: 600)
            old.append(Metrics.rocAUC(files.folds[fold].map { files.labels[$0] }, probabilities)!)
        }
        let oldMean = old.reduce(0, +) / 5
        #expect(chosen.params["n_trees"] == 300)
        #expect(chosen.rocAUC >= oldMean, "tuned \(chosen.rocAUC) (\(ModelSearch.describe(chosen.params))), old defaults \(oldMean)")
    }
}
