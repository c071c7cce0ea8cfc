import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import NIOPosix

/// `experiments.*`, `feedback` and `metrics`.
struct ExperimentHandlers {
    let serving: ModelServing
    let resolver: ModelResolver
    let router: ExperimentRouter

    func register(into table: inout RPCMethodTable) {
        let serving = self.serving
        let resolver = self.resolver
        let registry = resolver.registry
        let router = self.router
        table.register(DaemonMethod.ExperimentsStart.self) { params, context in
            guard ExperimentMode.known.contains(params.mode) else {
                throw RPCError.invalidParams(field: "mode", "must be \"ab\" or \"shadow\", got \"\(params.mode)\"")
            }
            let share = params.share ?? (params.mode == .ab ? 0.1 : 0)
            if params.mode == .ab, !(share > 0 && share < 1) {
                throw RPCError.invalidParams(field: "share", "must be between 0 and 1 (exclusive), got \(share)")
            }
            guard let reference = ModelReference(parsing: params.challenger) else {
                throw RPCError.invalidParams(field: "challenger", "\"\(params.challenger)\" is not a model reference")
            }
            let challenger = try await registry.resolve(reference)
            let champion = try await registry.resolve(.champion(of: challenger.name))
            guard challenger.version != champion.version else {
                throw RPCError(.conflict, "\(challenger.ref) is the champion already: choose another version as challenger")
            }
            // Warm the challenger before it takes traffic.
            _ = try await resolver.prepare(challenger.ref.description)
            let experiment = try await registry.startExperiment(
                model: challenger.name, mode: params.mode, share: share, champion: champion.version, challenger: challenger.version,
                user: DaemonHandlers.user(context), note: params.note)
            _ = try? await registry.setAlias(
                ModelReference.challenger, of: challenger.name, to: challenger.version, user: DaemonHandlers.user(context),
                reason: "experiment \(experiment.id)")
            resolver.invalidate()
            if challenger.name == ModelReference.defaultName { router.set(experiment) }
            return experiment
        }
        table.register(DaemonMethod.ExperimentsStop.self) { params, context in
            let name = params.name ?? ModelReference.defaultName
            let experiment = try await registry.stopExperiment(model: name, user: DaemonHandlers.user(context))
            if name == ModelReference.defaultName { router.set(nil) }
            return experiment
        }
        table.register(DaemonMethod.ExperimentsStatus.self) { params, _ in
            let name = params.name ?? ModelReference.defaultName
            return ExperimentsStatusResult(
                running: try await registry.runningExperiment(model: name),
                experiments: try await registry.experiments(model: name))
        }
        table.register(DaemonMethod.ExperimentsReport.self) { params, _ in
            let fraction = params.topFraction ?? 0.1
            guard fraction > 0, fraction <= 1 else {
                throw RPCError.invalidParams(field: "top_fraction", "must be in (0, 1], got \(fraction)")
            }
            let experiment: ExperimentInfo
            if let id = params.experiment {
                guard let found = try await registry.experiment(id: id) else {
                    throw RPCError(.modelNotFound, "no experiment \(id): see `churn experiment status`", data: ["field": "experiment"])
                }
                experiment = found
            } else {
                let name = params.name ?? ModelReference.defaultName
                guard let latest = try await registry.experiments(model: name).first else {
                    throw RPCError(.modelNotFound, "no experiment on \(name) yet: start one with `churn experiment start`")
                }
                experiment = latest
            }
            await serving.settlePredictionLog()
            let outcomes = try await registry.experimentOutcomes(experiment)
            return try await NIOThreadPool.singleton.runIfActive {
                ExperimentReporting.report(experiment, outcomes: outcomes, topFraction: fraction)
            }
        }
        table.register(DaemonMethod.Feedback.self) { params, context in
            guard !params.outcomes.isEmpty else { throw RPCError.invalidParams(field: "outcomes", "must hold at least one outcome") }
            for (index, outcome) in params.outcomes.enumerated() {
                if outcome.customerID.isEmpty {
                    throw RPCError.invalidParams(field: "outcomes[\(index)].customerID", "must be a non-empty string")
                }
                if let date = outcome.date {
                    do throws(CalendarDate.Invalid) {
                        _ = try CalendarDate(parsing: date)
                    } catch {
                        throw RPCError.invalidParams(
                            field: "outcomes[\(index)].date", "\(error.reason) (the outcome of \(outcome.customerID))")
                    }
                }
            }
            await serving.settlePredictionLog()
            return try await registry.recordFeedback(params.outcomes, user: DaemonHandlers.user(context))
        }
        table.register(DaemonMethod.FeedbackSummary.self) { params, _ in
            let months = params.months ?? 12
            guard (1...120).contains(months) else { throw RPCError.invalidParams(field: "months", "must be between 1 and 120, got \(months)") }
            return FeedbackSummaryResult(months: try await registry.feedbackByMonth(months: months))
        }
        table.register(DaemonMethod.Metrics.self) { _, _ in
            MetricsResult(prometheus: serving.metrics.prometheusText())
        }
    }
}

/// The report of an experiment from the outcomes recorded so far.
enum ExperimentReporting {
    /// Fewest customers with outcomes (and churners among them) before a verdict is given.
    static let minimumOutcomes = 30
    static let minimumChurners = 5

    static func report(_ experiment: ExperimentInfo, outcomes: [ArmOutcomes], topFraction: Double) -> ExperimentReport {
        let arms = outcomes.map { arm -> ArmReport in
            let labels = arm.churned, scores = arm.probabilities
            func interval(_ metric: @escaping ([Bool], [Double]) -> Double?) -> Interval? {
                ExperimentStatistics.bootstrap(labels, scores, seed: UInt64(experiment.id), metric: metric).map {
                    Interval(value: $0.value, low: $0.low, high: $0.high)
                }
            }
            let usable = !labels.isEmpty
            // Revenue over the customers whose prediction logged a bill.
            let billed = arm.bills.indices.filter { arm.bills[$0] != nil }
            func revenue(_ part: @escaping ((reached: Double, share: Double)) -> Double) -> Interval? {
                guard !billed.isEmpty else { return nil }
                let bills = billed.map { arm.bills[$0]! }
                let billedLabels = billed.map { labels[$0] }
                let billedScores = billed.map { scores[$0] }
                return ExperimentStatistics.bootstrap(rows: billed.count, seed: UInt64(experiment.id)) { rows in
                    ExperimentStatistics.revenueAtTop(
                        rows.map { billedLabels[$0] }, rows.map { billedScores[$0] }, rows.map { bills[$0] }, fraction: topFraction
                    ).map(part)
                }.map { Interval(value: $0.value, low: $0.low, high: $0.high) }
            }
            return ArmReport(
                arm: arm.arm, version: arm.version, predictions: arm.predictions, outcomes: labels.count,
                churners: labels.filter { $0 }.count, rocAUC: usable ? interval(Metrics.rocAUC) : nil,
                logLoss: usable ? interval { Metrics.logLoss($0, $1) } : nil, brier: usable ? interval { Metrics.brier($0, $1) } : nil,
                precisionAtTop: usable ? interval { ExperimentStatistics.atTop($0, $1, fraction: topFraction).precision } : nil,
                recallAtTop: usable ? interval { ExperimentStatistics.atTop($0, $1, fraction: topFraction).recall } : nil,
                revenueAtTop: revenue(\.reached), revenueShareAtTop: revenue(\.share))
        }
        var paired: PairedTest?
        if experiment.mode == .shadow,
            let champion = outcomes.first(where: { $0.arm == .champion }), let shadow = outcomes.first(where: { $0.arm == .shadow })
        {
            let shadowScores = Dictionary(zip(shadow.customerIDs, shadow.probabilities), uniquingKeysWith: { _, last in last })
            var labels: [Bool] = [], a: [Double] = [], b: [Double] = []
            for (index, customer) in champion.customerIDs.enumerated() {
                guard let score = shadowScores[customer] else { continue }
                labels.append(champion.churned[index])
                a.append(champion.probabilities[index])
                b.append(score)
            }
            if let test = ExperimentStatistics.deLong(labels, scoresA: a, scoresB: b) {
                paired = PairedTest(customers: labels.count, aucDifference: test.aucB - test.aucA, standardError: test.standardError, z: test.z, p: test.p)
            }
        }
        return ExperimentReport(
            experiment: experiment, topFraction: topFraction, arms: arms, paired: paired, verdict: verdict(experiment, arms: arms, paired: paired),
            decision: decision(experiment, arms: arms, paired: paired))
    }

    /// The verdict's headline as a closed word.
    static func decision(_ experiment: ExperimentInfo, arms: [ArmReport], paired: PairedTest?) -> ExperimentDecision {
        let text = verdict(experiment, arms: arms, paired: paired)
        if text.hasPrefix("challenger better") { return .challengerBetter }
        if text.hasPrefix("challenger worse") { return .challengerWorse }
        if text.hasPrefix("not yet distinguishable: too few outcomes") { return .tooFewOutcomes }
        return .notDistinguishable
    }

    static func verdict(_ experiment: ExperimentInfo, arms: [ArmReport], paired: PairedTest?) -> String {
        let counts = arms.map { "\($0.arm) v\($0.version): \($0.predictions) scored, \($0.outcomes) outcomes, \($0.churners) churned" }
            .joined(separator: "; ")
        let challengerArm: Arm = experiment.mode == .shadow ? .shadow : .challenger
        guard let champion = arms.first(where: { $0.arm == .champion }), let challenger = arms.first(where: { $0.arm == challengerArm }),
            champion.outcomes >= minimumOutcomes, challenger.outcomes >= minimumOutcomes,
            champion.churners >= minimumChurners, challenger.churners >= minimumChurners
        else {
            return "not yet distinguishable: too few outcomes (need \(minimumOutcomes) per arm with \(minimumChurners) churners) — \(counts)"
        }
        if let paired {
            let detail = String(format: "AUC difference %+.4f, DeLong z %.2f, p %.4f over %d customers", paired.aucDifference, paired.z, paired.p, paired.customers)
            if paired.p < 0.05 { return (paired.aucDifference > 0 ? "challenger better" : "challenger worse") + ": \(detail) — \(counts)" }
            return "not yet distinguishable: \(detail) — \(counts)"
        }
        guard let a = champion.rocAUC, let b = challenger.rocAUC else { return "not yet distinguishable — \(counts)" }
        let detail = String(format: "ROC-AUC %.4f [%.4f, %.4f] vs champion %.4f [%.4f, %.4f]", b.value, b.low, b.high, a.value, a.low, a.high)
        if b.low > a.high { return "challenger better: \(detail) — \(counts)" }
        if b.high < a.low { return "challenger worse: \(detail) — \(counts)" }
        return "not yet distinguishable: \(detail) — \(counts)"
    }
}
