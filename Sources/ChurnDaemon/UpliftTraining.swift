import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Foundation
import NIOPosix

/// `campaigns.train_uplift`: an uplift model from a randomized campaign's evidence. The
/// campaign's customers with an outcome are found in the customer file the client sends (their
/// fields under the campaign model's schema), a share of them held back per arm and outcome,
/// and the random forest plugin fits its two-forest ("T-learner") uplift model on the rest:
/// one forest on the treated, one on the control group. The held-back customers judge the
/// ranking by predicted uplift with the Qini coefficient (beside the ranking by risk). The
/// version is registered like any other, tagged with its campaign and offer
/// (``UpliftEvidence``), and answers `uplift.predict`.
extension ModelTraining {
    /// The plugin kind that trains uplift models.
    static let upliftKind = "random_forest"

    func trainUplift(_ params: UpliftTrainParams, context: RPCCallContext) async throws -> ModelVersionInfo {
        let opened = files.request()
        defer { opened.close() }
        do {
            return try await trainUpliftChecked(params, opened: opened, context: context)
        } catch let error as RPCErrorConvertible {
            throw opened.naming(error.rpcError)
        }
    }

    private func trainUpliftChecked(
        _ params: UpliftTrainParams, opened: RequestFiles, context: RPCCallContext
    ) async throws -> ModelVersionInfo {
        let shownData = files.displayName(params.data)
        let dataPath = try opened.open(params.data, field: "data")
        let holdout = params.holdout ?? 0.3
        guard (0.1...0.5).contains(holdout) else {
            throw RPCError.invalidParams(field: "holdout", "must be between 0.1 and 0.5, got \(holdout)")
        }
        let registry = resolver.registry
        let campaign = try await registry.campaign(params.campaign)
        let name = params.name ?? "\(campaign.model)-uplift"
        guard ModelReference.isValidName(name) else {
            throw RPCError.invalidParams(field: "name", "\"\(name)\" is not a model name: use letters, digits, _ - .")
        }
        guard name != campaign.model else {
            throw RPCError.invalidParams(
                field: "name", "\(name) is the campaign's churn model: an uplift model needs a name of its own (default \(name)-uplift)")
        }
        let riskModel = try await registry.resolve(.champion(of: campaign.model))
        let schema = try resolver.validator(for: riskModel).schema
        let members = try await registry.campaignMembers(params.campaign)
        let plugin = try resolver.supervisor.plugin(kind: Self.upliftKind)
        let connection = try await plugin.readyConnection()
        let seed = params.seed ?? 0
        let progress = { (stage: String, step: Int, total: Int?, message: String) in
            await context.progress(stage: stage, step: step, total: total, message: message)
        }

        await progress("split", 0, 1, "reading \(shownData)")
        let runs = runsDirectory
        let prepared = try await NIOThreadPool.singleton.runIfActive {
            try Self.prepareUplift(
                campaign: campaign, members: members, schema: schema, dataPath: dataPath, shownData: shownData, holdout: holdout,
                seed: seed, runs: runs)
        }
        await progress("split", 1, 1, prepared.summary)

        let (result, artifact) = try await runPlugin(
            plugin, over: connection,
            PluginTrainParams(
                trainPath: prepared.trainPath, validationPath: prepared.holdoutPath, params: params.params ?? [:], seed: seed,
                artifactPath: prepared.artifactPath, schema: prepared.schema.canonical.jsonValue,
                treatment: TreatmentColumn(column: prepared.treatmentColumn, treated: "treated")),
            context: context)
        var metrics = result.metrics
        metrics["campaign_outcomes"] = Double(prepared.outcomes)
        await progress(
            "evaluate", 1, 1,
            String(
                format: "held-back campaign customers (%d): Qini %.3f ranked by predicted uplift, %.3f ranked by risk (0 = random, 1 = best possible)",
                Int(metrics["val_rows"] ?? 0), metrics["val_qini"] ?? .nan, metrics["val_qini_by_risk"] ?? .nan))

        let description = await plugin.pluginDescription
        let registration = ModelRegistration(
            name: name, kind: plugin.kind, pluginVersion: description?.pluginVersion ?? "unknown", params: result.params,
            metrics: metrics, lossCurve: [], rocCurve: [], importances: result.importances, featureSchema: result.featureSchema,
            trainingData: TrainingDataInfo(sha256: prepared.dataSHA256, rows: prepared.outcomes, path: shownData),
            notes: params.notes ?? "uplift model from campaign \(campaign.id) (offer \(campaign.offer))",
            tags: UpliftEvidence.tags(campaign: campaign.id, offer: campaign.offer), lossCurveUnit: nil,
            datasetSchema: prepared.schema.jsonValue, historySource: result.historySource)
        let user = context.peer?.userName ?? PeerCredentials.currentUserName
        let version = try await registry.register(registration, stored: artifact, user: user)
        resolver.invalidate()
        Self.removeRun(of: prepared.artifactPath)
        await progress("register", 1, 1, "registered \(version.ref) (uplift model of campaign \(campaign.id))")
        logger.info("registered uplift model \(version.ref) from campaign \(campaign.id), held-back Qini \(metrics["val_qini"] ?? .nan)")
        return version
    }

    /// The files of one uplift training run.
    struct PreparedUplift: Sendable {
        let schema: DatasetSchema
        let outcomes: Int
        let summary: String
        let dataSHA256: String
        let treatmentColumn: String
        let trainPath: String
        let holdoutPath: String
        let artifactPath: String
    }

    static func prepareUplift(
        campaign: CampaignInfo, members: [CampaignMember], schema campaignSchema: DatasetSchema, dataPath: String, shownData: String,
        holdout: Double, seed: UInt64, runs: String
    ) throws -> PreparedUplift {
        guard campaignSchema.id != nil else {
            throw RPCError(
                .invalidData,
                "the schema of \(campaign.model) has no customer id column, so campaign customers cannot be found in a file",
                data: ["field": "data"])
        }
        let withOutcome = members.filter { $0.churned != nil }
        guard !withOutcome.isEmpty else {
            throw RPCError(
                .invalidData,
                "campaign \(campaign.id) has no outcomes yet: record who stayed and who left with churn feedback, then train",
                data: ["field": "campaign"])
        }
        for (arm, rows) in [("treated", withOutcome.filter(\.treated)), ("control", withOutcome.filter { !$0.treated })] {
            let churners = rows.filter { $0.churned == true }.count
            let stayers = rows.count - churners
            let needed = UpliftTrainingLimits.minimumPerClass
            guard churners >= needed, stayers >= needed else {
                throw RPCError(
                    .invalidData,
                    "campaign \(campaign.id)'s \(arm) group has \(churners) churners and \(stayers) stayers with outcomes: an uplift model needs at least \(needed) of each in both groups (wait for more feedback, or run a larger campaign)",
                    data: ["field": "campaign", "arm": .string(arm), "churners": .number(Double(churners)), "stayers": .number(Double(stayers))])
            }
        }
        // The model reads the customers' fields, not a monthly panel.
        var schema = campaignSchema
        schema.history = nil
        let (dataset, _) = try DatasetReader.read(dataPath, schema: schema, options: DatasetReadOptions(readLabel: false))
        var rowOf: [String: Int] = [:]
        for (row, id) in dataset.customers.ids.enumerated() where rowOf[id] == nil { rowOf[id] = row }
        let missing = withOutcome.filter { rowOf[$0.customerID] == nil }
        guard missing.isEmpty else {
            throw RPCError(
                .invalidData,
                "\(missing.count) of \(withOutcome.count) campaign customers with outcomes are not in \(shownData) (first: \(missing.prefix(3).map(\.customerID).joined(separator: ", "))): send the file with every campaign customer's fields as of the campaign's start",
                data: ["field": "data", "missing": .number(Double(missing.count))])
        }
        var cohort = dataset.rows(withOutcome.map { rowOf[$0.customerID]! })
        cohort.churned = withOutcome.map { $0.churned! }
        let treated = withOutcome.map(\.treated)
        // Held back per arm, stratified by outcome.
        var train: [Int] = []
        var held: [Int] = []
        for arm in [true, false] {
            let rows = treated.indices.filter { treated[$0] == arm }
            let split = StratifiedSplit.holdOut(rows.map { cohort.churned![$0] }, fraction: holdout, seed: seed &+ (arm ? 0 : 1))
            train += split.rest.map { rows[$0] }
            held += split.heldOut.map { rows[$0] }
        }
        train.sort()
        held.sort()
        let inputs = Set(schema.columns.map(\.name) + [cohort.idField, schema.label.name])
        var treatmentColumn = "campaign_arm"
        while inputs.contains(treatmentColumn) { treatmentColumn = "_" + treatmentColumn }
        let run = try makeRunFolder(runs, kind: "uplift")
        let trainPath = (run as NSString).appendingPathComponent("train.csv")
        let holdoutPath = (run as NSString).appendingPathComponent("holdout.csv")
        for (path, rows) in [(trainPath, train), (holdoutPath, held)] {
            try cohort.rows(rows).writeCSV(to: path, extra: (treatmentColumn, rows.map { treated[$0] ? "treated" : "control" }))
        }
        let count = { (rows: [Int], arm: Bool) in rows.filter { treated[$0] == arm }.count }
        let summary =
            "campaign \(campaign.id) (offer \(campaign.offer)): \(withOutcome.count) of \(members.count) customers have outcomes; "
            + "training on \(count(train, true)) treated and \(count(train, false)) control, \(held.count) held back (\(count(held, true)) treated, \(count(held, false)) control)"
        let digest = try Data(contentsOf: URL(fileURLWithPath: dataPath), options: .mappedIfSafe).sha256Hex
        return PreparedUplift(
            schema: schema, outcomes: withOutcome.count, summary: summary, dataSHA256: digest, treatmentColumn: treatmentColumn,
            trainPath: trainPath, holdoutPath: holdoutPath, artifactPath: (run as NSString).appendingPathComponent("model.artifact"))
    }
}

/// What an uplift model needs from a campaign.
enum UpliftTrainingLimits {
    /// Churners and stayers with outcomes, each, in both the treated and the control group.
    static let minimumPerClass = 10
}
