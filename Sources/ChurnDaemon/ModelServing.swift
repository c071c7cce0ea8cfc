import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import Logging
import Synchronization

/// Scores customers on what a reference names (``ModelResolver``): the champion by default,
/// split or shadowed by a running experiment (``ExperimentRouter``), through a dynamic batcher
/// per model, each customer checked once against the answering version's schema, with every
/// prediction logged and measured.
final class ModelServing: Sendable {
    typealias Part = ModelResolver.Part
    typealias Target = ModelResolver.Target

    let resolver: ModelResolver
    let router: ExperimentRouter
    let metrics = ServingMetrics()
    /// Customers' months for versions that read a monthly panel.
    let history: CustomerHistory
    private let predictionLog: PredictionLogger?
    private let predictTimeout: Duration
    private let batching: BatchingPolicy
    private let logger: Logger
    private let batchers = Mutex<[String: PredictBatcher<CheckedCustomers>]>([:])
    private let requests = Atomic<Int>(0)
    /// Runs shadow scorings off the hot path (a service of the daemon).
    let shadows: ShadowScorer
    private let epoch = Int(Date().timeIntervalSince1970)

    /// The most customers one `predict` or `explain` call may carry.
    static let maximumBatch = RequestLimits.maximumCustomers

    init(
        resolver: ModelResolver, router: ExperimentRouter, history: CustomerHistory, predictTimeout: Duration,
        batching: BatchingPolicy, predictionLog: PredictionLogger?, shadows: ShadowScorer, logger: Logger
    ) {
        self.shadows = shadows
        self.resolver = resolver
        self.router = router
        self.history = history
        self.predictTimeout = predictTimeout
        self.batching = batching
        self.predictionLog = predictionLog
        self.logger = logger
        predictionLog?.countLosses(in: metrics.predictionLogLost)
    }

    /// Follows a change another host made to a shared registry: warms the champion (and a
    /// running experiment's challenger) first, then forgets resolved references so routing
    /// switches to them without a request waiting on a load.
    func followRegistryChange() async {
        let registry = resolver.registry
        do {
            let champion = try await registry.resolve(.champion())
            _ = try await resolver.prepare(champion.ref.description)
            if let running = try await registry.runningExperiment(model: ModelReference.defaultName) {
                _ = try await resolver.prepare("\(running.model)@\(running.challengerVersion)")
            }
        } catch {
            logger.warning("could not warm the shared registry's champion: \(error)")
        }
        // Read last, just before it is applied: an experiment started on this host while the
        // models warmed must not be overwritten by an older read (a later change is followed
        // on the next notification or poll anyway).
        let running: ExperimentInfo?
        do {
            running = try await registry.runningExperiment(model: ModelReference.defaultName)
        } catch {
            logger.warning("cannot read the shared registry's experiments: \(error)")
            return
        }
        resolver.invalidate()
        router.set(running)
        logger.notice("followed a change to the shared registry")
    }

    /// The registry as `health` reports it.
    var registryHealth: RegistryHealth {
        let location = resolver.registry.location
        return RegistryHealth(
            engine: location.isShared ? "postgresql" : "sqlite", location: location.description,
            spooledLogEntries: predictionLog?.spooledEntries ?? 0, heldLogEntries: predictionLog?.heldEntries ?? 0,
            lostLogEntries: predictionLog?.lostEntries ?? 0)
    }

    // MARK: Predict

    /// Scores `customers` on the version `reference` names, or by default on the champion (or
    /// the arms of a running experiment).
    func predict(_ customers: [CustomerRecord], reference: String?, log: Bool = true) async throws -> [Prediction] {
        try await predict(.records(customers), reference: reference, log: log)
    }

    /// Scores a `predict` request's customers, as records or (read from its bytes) by column.
    func predict(_ customers: PredictParams.SentCustomers, reference: String?, log: Bool = true) async throws -> [Prediction] {
        let request: CustomerRequest
        switch customers {
        case .records(let records):
            try Self.checkCount(records)
            request = .records(records)
        case .columns(let columns):
            try Self.checkCount(columns.rows, field: "customers")
            request = .columns(columns)
        }
        let answers = try await answer(request, reference: reference, logging: log)
        return answers.probabilities.indices.map { row in
            let answerer = answers.answerer(of: row)
            let probability = answers.probabilities[row]
            return Prediction(
                customerID: answers.ids[row], churnProbability: probability, churn: probability >= 0.5, model: answerer.model,
                arm: answerer.arm, history: answers.histories[row])
        }
    }

    /// Scores a batch sent by column, like ``predict(_:reference:)``: checked column by column
    /// against the answering version's schema and forwarded by column to a plugin that takes
    /// batches, without a record per customer.
    func predictBatch(_ batch: CustomerBatch, reference: String?, log: Bool = true) async throws -> PredictBatchResult {
        try Self.checkCount(batch.rows, field: "batch.rows")
        let answers = try await answer(.batch(batch), reference: reference, logging: log)
        // Many large batches log faster than the registry writes: wait for it past a bound, so
        // that churnd's memory does not grow with the base being scored.
        if log { await predictionLog?.relieve() }
        let sources = answers.histories
        let same = sources.allSatisfy { $0 == sources.first ?? nil }
        return PredictBatchResult(
            probabilities: answers.probabilities, models: answers.answerers, answeredBy: answers.answeredBy,
            history: same ? sources.first ?? nil : nil, histories: same ? nil : sources)
    }

    /// Customers as a request carries them: records, a `predict.batch` by column, or a
    /// `predict`'s records read by column (problems are named as records' are).
    enum CustomerRequest: Sendable {
        case records([CustomerRecord])
        case batch(CustomerBatch)
        case columns(CustomerBatch)

        /// Each customer's id, as `validator` reads it (empty when missing: the check names it).
        func ids(_ validator: RecordValidator) -> [String] {
            switch self {
            case .records(let records): records.indices.map { validator.id(of: records[$0], index: $0) ?? "" }
            case .batch(let batch), .columns(let batch): validator.ids(of: batch)
            }
        }
    }

    /// A request's answers: per customer its id, probability, the version that answered and the
    /// months it read.
    struct Answers {
        var ids: [String]
        var probabilities: [Double]
        var answerers: [BatchAnswerer]
        /// Per customer, its index in ``answerers``; nil when one version answered all.
        var answeredBy: [Int]?
        var histories: [HistorySource?]

        func answerer(of row: Int) -> BatchAnswerer { answerers[answeredBy?[row] ?? 0] }
    }

    private func answer(_ request: CustomerRequest, reference: String?, logging: Bool = true) async throws -> Answers {
        let start = ContinuousClock.now
        // Not logged: nothing is written (and a shadow challenger, whose answers are only logged, is not asked).
        let requestID: String? = logging ? "\(epoch)-\(requests.wrappingAdd(1, ordering: .relaxed).newValue)" : nil
        if reference == nil, let experiment = router.running {
            return try await answerInExperiment(request, experiment: experiment, requestID: requestID, start: start)
        }
        let target = try await resolver.prepare(reference)
        let batch = try await checked(request, for: target)
        let probabilities = try await score(batch.customers, on: target, arm: target.arm, start: start)
        log(batch, probabilities, target: target, arm: target.arm, requestID: requestID, experiment: nil, start: start)
        return Answers(
            ids: batch.ids, probabilities: probabilities, answerers: [BatchAnswerer(model: target.version.ref, arm: target.arm)],
            answeredBy: nil, histories: batch.historyPerCustomer)
    }

    private func answerInExperiment(
        _ request: CustomerRequest, experiment: ExperimentInfo, requestID: String?, start: ContinuousClock.Instant
    ) async throws -> Answers {
        let champion = try await resolver.prepare(nil)
        let challengerReference = "\(experiment.model)@\(experiment.challengerVersion)"
        let championAnswerer = BatchAnswerer(model: champion.version.ref, arm: .champion)
        if experiment.mode == .shadow {
            let batch = try await checked(request, for: champion)
            let probabilities = try await score(batch.customers, on: champion, arm: .champion, start: start)
            log(batch, probabilities, target: champion, arm: .champion, requestID: requestID, experiment: experiment.id, start: start)
            // The challenger scores the same customers off the hot path (checked against its own
            // schema); its answers are only logged.
            if let requestID {
                shadows.submit {
                    let shadowStart = ContinuousClock.now
                    do {
                        let challenger = try await self.resolver.prepare(challengerReference)
                        let shadowBatch = try await self.checked(request, for: challenger)
                        let shadow = try await self.score(shadowBatch.customers, on: challenger, arm: .shadow, start: shadowStart)
                        self.log(shadowBatch, shadow, target: challenger, arm: .shadow, requestID: requestID, experiment: experiment.id, start: shadowStart)
                    } catch {
                        self.logger.warning("shadow scoring by \(challengerReference) failed: \(error)")
                    }
                }
            }
            return Answers(
                ids: batch.ids, probabilities: probabilities, answerers: [championAnswerer], answeredBy: nil,
                histories: batch.historyPerCustomer)
        }
        // A/B: a sticky share of customers, by hash of the experiment and customer ids; each arm
        // checks its customers against its own schema.
        let (championRows, challengerRows) = ExperimentRouter.split(request.ids(champion.validator), in: experiment)
        let challenger = challengerRows.isEmpty ? nil : try await resolver.prepare(challengerReference)
        let championBatch = try await checked(request, rows: championRows, for: champion)
        var challengerBatch: CheckedBatch?
        if let challenger { challengerBatch = try await checked(request, rows: challengerRows, for: challenger) }
        let championCustomers = championBatch.customers
        let challengerCustomers = challengerBatch?.customers
        async let championScores = championRows.isEmpty
            ? [] : score(championCustomers, on: champion, arm: .champion, start: start)
        async let challengerScores = challenger == nil
            ? [] : score(challengerCustomers!, on: challenger!, arm: .challenger, start: start)
        let (first, second) = try await (championScores, challengerScores)
        let count = championRows.count + challengerRows.count
        var answers = Answers(
            ids: [String](repeating: "", count: count), probabilities: [Double](repeating: 0, count: count),
            answerers: [championAnswerer], answeredBy: [Int](repeating: 0, count: count),
            histories: [HistorySource?](repeating: nil, count: count))
        let championHistories = championBatch.historyPerCustomer
        for (position, row) in championRows.enumerated() {
            answers.ids[row] = championBatch.ids[position]
            answers.probabilities[row] = first[position]
            answers.histories[row] = championHistories[position]
        }
        if let challenger, let challengerBatch {
            answers.answerers.append(BatchAnswerer(model: challenger.version.ref, arm: .challenger))
            let challengerHistories = challengerBatch.historyPerCustomer
            for (position, row) in challengerRows.enumerated() {
                answers.ids[row] = challengerBatch.ids[position]
                answers.probabilities[row] = second[position]
                answers.answeredBy![row] = 1
                answers.histories[row] = challengerHistories[position]
            }
            log(challengerBatch, second, target: challenger, arm: .challenger, requestID: requestID, experiment: experiment.id, start: start)
        }
        log(championBatch, first, target: champion, arm: .champion, requestID: requestID, experiment: experiment.id, start: start)
        if challengerRows.isEmpty { answers.answeredBy = nil }
        return answers
    }

    /// Waits (up to the predict timeout) for shadow scorings in flight, then writes the queued
    /// prediction log, so that feedback and reports see every prediction answered so far.
    func settlePredictionLog() async {
        await settleShadowScoring()
        await predictionLog?.flush()
    }

    /// Waits (up to the predict timeout) until shadow scorings in flight have been logged.
    func settleShadowScoring() async {
        await shadows.settle(within: predictTimeout)
    }

    /// Where a customer falls in [0, 1) for an experiment (``ExperimentRouter/bucket(experiment:customer:)``).
    static func bucket(experiment: Int, customer: String) -> Double {
        ExperimentRouter.bucket(experiment: experiment, customer: customer)
    }

    /// Where a key falls in [0, 1), the same on every host (``ExperimentRouter/bucket(key:)``).
    static func bucket(key: String) -> Double {
        ExperimentRouter.bucket(key: key)
    }

    /// Scores through the model's batcher (or directly), measuring the call.
    private func score(_ customers: CheckedCustomers, on target: Target, arm: Arm, start: ContinuousClock.Instant) async throws -> [Double] {
        try await measured(target.version.ref, arm: arm, customers: customers.count, since: start) {
            let probabilities: [Double]
            if target.parts.isEmpty {
                probabilities = try await rawScores(customers, part: target.part, ref: target.version.ref)
            } else {
                probabilities = try await blendScores(customers, parts: target.parts, ref: target.version.ref)
            }
            var checkedProbabilities = try checked(probabilities, count: customers.count, kind: target.version.kind)
            if let calibrator = target.calibrator { checkedProbabilities = calibrator.apply(checkedProbabilities) }
            return checkedProbabilities
        }
    }

    /// Runs `call` (a plugin call for `customers` customers on `model`), recording its latency
    /// since `start` and whether it failed in the serving metrics.
    private func measured<Answer>(
        _ model: ModelRef, arm: Arm, customers: Int, since start: ContinuousClock.Instant, _ call: () async throws -> Answer
    ) async throws -> Answer {
        do {
            let answer = try await call()
            metrics.record(model: model, arm: arm, customers: customers, latency: ContinuousClock.now - start, failed: false)
            return answer
        } catch {
            metrics.record(model: model, arm: arm, customers: customers, latency: ContinuousClock.now - start, failed: true)
            throw error
        }
    }

    /// One model's probabilities for `customers`, checked: through its batcher (or directly
    /// when batching is off, or for a request as large as a batch, which a batcher would send
    /// alone anyway); by column to a plugin that takes batches.
    private func rawScores(_ customers: CheckedCustomers, part: Part, ref: ModelRef) async throws -> [Double] {
        let probabilities: [Double]
        if batching.enabled, customers.count < batching.maximumRows {
            probabilities = try await batcher(for: part, ref: ref).predict(customers)
        } else {
            probabilities = try await Self.pluginPredict(customers, plugin: part.plugin, handle: part.handle, timeout: predictTimeout)
        }
        return try checked(probabilities, count: customers.count, kind: part.plugin.kind)
    }

    /// The plugin's `predict` for `customers` of model `handle`: by column when the plugin takes
    /// batches, over the connection its process gives now (a restarted plugin has a new one).
    private static func pluginPredict(
        _ customers: CheckedCustomers, plugin: PluginProcess, handle: String, timeout: Duration
    ) async throws -> [Double] {
        try await plugin.call(
            PluginMethod.Predict.self, customers.predictParams(handle: handle, columnar: plugin.supports("columnar")),
            over: try await plugin.connection(for: handle), timeout: timeout
        ).probabilities
    }

    /// A blend's probabilities: its members score in parallel, and their raw probabilities are
    /// averaged with the blend's weights.
    private func blendScores(_ customers: CheckedCustomers, parts: [Part], ref: ModelRef) async throws -> [Double] {
        let columns = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask { (index, try await self.rawScores(customers, part: part, ref: part.ref)) }
            }
            var columns = [[Double]](repeating: [], count: parts.count)
            for try await (index, column) in group { columns[index] = column }
            return columns
        }
        return (0..<customers.count).map { row in zip(parts, columns).reduce(0) { $0 + $1.0.weight * $1.1[row] } }
    }

    private func batcher(for part: Part, ref: ModelRef) -> PredictBatcher<CheckedCustomers> {
        let key = part.handle
        if let existing = batchers.withLock({ $0[key] }) { return existing }
        let plugin = part.plugin
        let handle = part.handle
        let timeout = predictTimeout
        let created = PredictBatcher(
            window: batching.window, maximumRows: batching.maximumRows, observer: metrics.batchObserver(model: ref)
        ) { (customers: CheckedCustomers) in
            try await Self.pluginPredict(customers, plugin: plugin, handle: handle, timeout: timeout)
        }
        return batchers.withLock { batchers in
            if let existing = batchers[key] { return existing }
            batchers[key] = created
            return created
        }
    }

    /// Queues the batch's predictions for the log, each with the customer's monthly bill when
    /// the version's schema names a revenue field (champion/challenger reports weigh by it).
    private func log(
        _ batch: CheckedBatch, _ probabilities: [Double], target: Target, arm: Arm, requestID: String?, experiment: Int?,
        start: ContinuousClock.Instant
    ) {
        guard let predictionLog, let requestID, !batch.ids.isEmpty else { return }
        let elapsed = ContinuousClock.now - start
        let microseconds = Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        let now = Date().timeIntervalSince1970
        let bills = target.validator.schema.revenue.map { batch.customers.numbers(of: $0) }
        predictionLog.append(
            probabilities.indices.map { row in
                let bill = bills.flatMap { $0[row].isFinite ? $0[row] : nil }
                return PredictionLogEntry(
                    requestID: requestID, customerID: batch.ids[row], model: target.version.name,
                    version: target.version.version, arm: arm, probability: probabilities[row], latencyMicroseconds: microseconds,
                    at: now, experimentID: experiment, monthlyBill: bill)
            })
    }

    /// Scores and explains `customers` on the version `reference` names.
    func explain(_ customers: [CustomerRecord], reference: String?, top: Int?) async throws -> [CustomerExplanation] {
        let start = ContinuousClock.now
        if let top, top < 0 { throw RPCError.invalidParams(field: "top", "must be 0 or more, got \(top)") }
        try Self.checkCount(customers)
        let target = try await resolver.prepare(reference)
        let batch = try await checked(.records(customers), for: target)
        let records = batch.customers.records
        let result = try await measured(target.version.ref, arm: target.arm, customers: records.count, since: start) {
            let result: PluginExplainResult
            if target.parts.isEmpty {
                result = try await target.part.plugin.call(
                    PluginMethod.Explain.self, PluginExplainParams(model: target.part.handle, customers: records, top: top ?? 10),
                    over: try await target.part.connection(), timeout: predictTimeout)
            } else {
                result = try await blendExplanations(records, parts: target.parts, top: top ?? 10)
            }
            _ = try checked(result.explanations.map(\.churnProbability), count: records.count, kind: target.version.kind)
            return result
        }
        return result.explanations.indices.map { row in
            // Clients read contributions as points of churn probability: a model that explains
            // in log-odds (exact TreeSHAP of boosted trees) is put on that scale first, from its
            // own probability. The probability is then the calibrated one the version serves;
            // the drivers explain the model's score before calibration (calibration keeps its
            // order).
            var explanation = result.explanations[row].onProbabilityScale()
            if let calibrator = target.calibrator { explanation.churnProbability = calibrator.apply(explanation.churnProbability) }
            return CustomerExplanation(
                customerID: batch.ids[row], model: target.version.ref, arm: target.arm, explanation: explanation,
                history: batch.sources?[row] ?? batch.source)
        }
    }

    /// Each customer's churn probability without and with the offer, from the uplift model
    /// `reference` names (its champion, or a version). Not logged: an uplift ranking is not a
    /// churn prediction to judge against outcomes.
    func uplift(_ customers: [CustomerRecord], reference: String) async throws -> UpliftPredictResult {
        let start = ContinuousClock.now
        try Self.checkCount(customers)
        // A bare name means its champion (predict's bare word would be an alias of `churn`).
        let target = try await resolver.prepare(reference.contains("@") ? reference : "\(reference)@\(ModelReference.champion)")
        guard UpliftEvidence(tags: target.version.tags).isUplift else {
            throw RPCError(
                .notSupported, "\(target.version.ref) is not an uplift model: train one from a campaign (churn campaign uplift CAMPAIGN --data FILE)",
                data: ["field": "model"])
        }
        let batch = try await checked(.records(customers), for: target)
        let records = batch.customers.records
        let result = try await measured(target.version.ref, arm: target.arm, customers: records.count, since: start) {
            let result = try await target.part.plugin.call(
                PluginMethod.Uplift.self, PluginPredictParams(model: target.part.handle, customers: records),
                over: try await target.part.connection(), timeout: predictTimeout)
            _ = try checked(result.untreated, count: records.count, kind: target.version.kind)
            _ = try checked(result.treated, count: records.count, kind: target.version.kind)
            return result
        }
        let evidence = UpliftEvidence(tags: target.version.tags)
        return UpliftPredictResult(
            model: target.version.ref, campaign: evidence.campaign, offer: evidence.offer,
            predictions: records.indices.map {
                UpliftPrediction(customerID: batch.ids[$0], churnWithoutOffer: result.untreated[$0], churnWithOffer: result.treated[$0])
            })
    }

    // MARK: Checking customers

    /// Customers checked for one version: as the plugin gets them (records with the months a
    /// panel model reads attached, or a table), each customer's id, and where each one's months
    /// came from.
    struct CheckedBatch: Sendable {
        var customers: CheckedCustomers
        var ids: [String]
        /// Per customer, for a panel model.
        var sources: [HistorySource]?
        /// For all customers, for a model without a panel (`derived`, or nil).
        var source: HistorySource?

        var historyPerCustomer: [HistorySource?] { sources ?? [HistorySource?](repeating: source, count: ids.count) }
    }

    /// Checked customers in the form they are forwarded in.
    enum CheckedCustomers: BatchedCustomers {
        /// Canonical records (the single-record form, and any customers with months).
        case records([CustomerRecord])
        /// A batch checked by column.
        case table(CustomerTable, idField: String)

        var count: Int {
            switch self {
            case .records(let records): records.count
            case .table(let table, _): table.count
            }
        }

        /// As records (for the methods that take records: explain, uplift, a plugin without
        /// the `columnar` capability).
        var records: [CustomerRecord] {
            switch self {
            case .records(let records): records
            case .table(let table, let idField): (0..<table.count).map { table.record(at: $0, idField: idField) }
            }
        }

        /// Tables one after another when all are (one version's checks give one layout and id
        /// field), else records.
        static func joined(_ parts: [CheckedCustomers]) -> CheckedCustomers {
            var tables: [CustomerTable] = []
            tables.reserveCapacity(parts.count)
            var idField: String?
            for part in parts {
                guard case .table(let table, let field) = part, idField == nil || (idField == field && table.layout == tables[0].layout)
                else {
                    return .records(parts.flatMap(\.records))
                }
                tables.append(table)
                idField = field
            }
            return .table(CustomerTable.joined(tables), idField: idField!)
        }

        /// A numeric field's values (NaN where missing or not a number).
        func numbers(of field: String) -> [Double] {
            switch self {
            case .records(let records):
                records.map { if case .number(let value)? = $0[field] { value } else { .nan } }
            case .table(let table, _):
                table.numberColumn(field) ?? [Double](repeating: .nan, count: table.count)
            }
        }

        /// The plugin `predict` params: a table by column when the plugin takes batches.
        func predictParams(handle: String, columnar: Bool) -> PluginPredictParams {
            if case .table(let table, let idField) = self, columnar {
                return PluginPredictParams(model: handle, batch: table.batch(idField: idField))
            }
            return PluginPredictParams(model: handle, customers: records)
        }
    }

    /// The customers of `request` (or those at `rows`) checked against `target`'s schema. A
    /// problem names the customer's index in the request and the field
    /// (`customers[3].history[0].data_gb`, `batch[3].tenure`). A batch for a version that reads
    /// a monthly panel becomes records, which carry each customer's months.
    func checked(_ request: CustomerRequest, rows: [Int]? = nil, for target: Target) async throws -> CheckedBatch {
        let validator = target.validator
        let readsPanel = validator.schema.history != nil && target.historySource == nil
        switch request {
        case .batch(let batch) where !readsPanel:
            let part = rows.map { batch.rows($0) } ?? batch
            let table = try validator.table(part, positions: rows)
            return CheckedBatch(customers: .table(table, idField: validator.idField), ids: table.ids, sources: nil, source: target.historySource)
        case .batch(let batch):
            return try await checked(batch.records, rows: rows, for: target)
        case .columns(let columns) where !readsPanel:
            let part = rows.map { columns.rows($0) } ?? columns
            do {
                let table = try validator.table(part, path: "customers", positions: rows)
                return CheckedBatch(customers: .table(table, idField: validator.idField), ids: table.ids, sources: nil, source: target.historySource)
            } catch {
                // Named as for records (`customers[3].tenure`, a field missing from a customer):
                // the records the columns hold, checked one by one, give the problem its exact words.
                return try await checked(columns.records, rows: rows, for: target)
            }
        case .columns(let columns):
            return try await checked(columns.records, rows: rows, for: target)
        case .records(let customers):
            return try await checked(customers, rows: rows, for: target)
        }
    }

    private func checked(_ customers: [CustomerRecord], rows: [Int]?, for target: Target) async throws -> CheckedBatch {
        let validator = target.validator
        let positions = rows ?? Array(customers.indices)
        let originals = rows.map { $0.map { customers[$0] } } ?? customers
        let records = try validator.canonicalRecords(originals, positions: rows)
        let ids = positions.map { validator.id(of: customers[$0], index: $0) ?? "" }
        guard let panel = validator.schema.history, target.historySource == nil else {
            return CheckedBatch(customers: .records(records), ids: ids, sources: nil, source: target.historySource)
        }
        let attached = try await history.attach(
            to: records, originals: originals, positions: positions, ids: ids, panel: panel, model: target.version.name)
        return CheckedBatch(customers: .records(attached.records), ids: ids, sources: attached.sources, source: nil)
    }

    /// A blend's explanations: each member explains in parallel; the blend's probability, bias
    /// and per-field contributions are the members' weighted by the blend's weights (so bias +
    /// contributions still sum to the blend's raw probability when every member's do); the
    /// months of the member with the largest weight that has them.
    private func blendExplanations(_ records: [CustomerRecord], parts: [Part], top: Int) async throws -> PluginExplainResult {
        let answers = try await withThrowingTaskGroup(of: (Int, PluginExplainResult).self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask {
                    let result = try await part.plugin.call(
                        PluginMethod.Explain.self, PluginExplainParams(model: part.handle, customers: records, top: nil),
                        over: try await part.connection(), timeout: self.predictTimeout)
                    _ = try self.checked(result.explanations.map(\.churnProbability), count: records.count, kind: part.plugin.kind)
                    return (index, result)
                }
            }
            var answers = [PluginExplainResult?](repeating: nil, count: parts.count)
            for try await (index, result) in group { answers[index] = result }
            return answers.map { $0! }
        }
        let byWeight = parts.indices.sorted { parts[$0].weight > parts[$1].weight }
        return PluginExplainResult(
            explanations: records.indices.map { row in
                var probability = 0.0
                var bias: Double? = 0
                var contributions: [String: Contribution] = [:]
                for (part, answer) in zip(parts, answers) {
                    let explanation = answer.explanations[row].onProbabilityScale()
                    probability += part.weight * explanation.churnProbability
                    bias = explanation.bias.flatMap { value in bias.map { $0 + part.weight * value } }
                    for contribution in explanation.contributions {
                        var merged = contributions[contribution.feature] ?? Contribution(feature: contribution.feature, value: contribution.value, contribution: 0)
                        merged.contribution += part.weight * contribution.contribution
                        contributions[contribution.feature] = merged
                    }
                }
                let ranked = contributions.values.sorted {
                    abs($0.contribution) != abs($1.contribution) ? abs($0.contribution) > abs($1.contribution) : $0.feature < $1.feature
                }
                let monthly = byWeight.map { answers[$0].explanations[row] }.first { $0.months != nil || $0.attention != nil }
                return ModelExplanation(
                    churnProbability: probability, bias: bias, contributions: Array(ranked.prefix(top)),
                    attention: monthly?.attention, history: monthly?.history ?? answers[0].explanations[row].history,
                    months: monthly?.months, monthMethod: monthly?.monthMethod)
            })
    }

    // MARK: Checks

    /// A request holds at least one customer and at most ``maximumBatch``.
    static func checkCount(_ customers: [CustomerRecord]) throws {
        try checkCount(customers.count, field: "customers")
    }

    /// `count` customers, named `field`, are at least one and at most ``maximumBatch``.
    static func checkCount(_ count: Int, field: String) throws {
        guard count > 0 else {
            throw RPCError.invalidParams(field: field, "must hold at least one customer")
        }
        guard count <= maximumBatch else {
            throw RPCError.invalidParams(field: field, "holds \(count) customers; at most \(maximumBatch) per call")
        }
    }

    fileprivate func checked(_ probabilities: [Double], count: Int, kind: String) throws -> [Double] {
        guard probabilities.count == count else {
            throw RPCError(
                .internalError, "plugin \(kind) returned \(probabilities.count) probabilities for \(count) customers")
        }
        if let bad = probabilities.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw RPCError(
                .internalError, "plugin \(kind) returned probability \(probabilities[bad]) for customer \(bad)")
        }
        return probabilities
    }
}

