#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import ChurnRPC
import ChurnWeb
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run churn end to end: data, daemon and plugins, training, registry, promotion, predictions with reasons.",
        discussion: """
            Generates SYNTHETIC telco customers with their monthly histories (or uses --data and \
            --history) and keeps a quarter of the customers back as next month's cohort; starts churnd \
            with the plugins beside it; trains and registers a model with each plugin it finds, on the \
            months and (as model churn-no-history) without them, and prints what the months add; \
            promotes the best by held-back ROC-AUC and runs the runner-up \
            in shadow beside it; scores the cohort and explains the riskiest customers; on synthetic \
            customers, offers the cohort a two-year contract with half held back at random; then feeds \
            the cohort's outcomes back and prints the champion/challenger report and the campaign's \
            measured uplift, and learns an uplift model from the campaign to rank the customers still \
            with us by the churn the offer would prevent. State goes under --home (default ./var/demo); \
            the daemon's log is <home>/logs/churnd.log.

            Examples:
              churn demo
              churn demo --data ../shared/data/telco/telco_train.csv
              churn demo --data customers.csv --history months.csv
              churn demo --customers 20000 --keep-running
              churn demo --web            (then open the printed address: with a generated password, its one-time link)
            """)

    @Option(help: "State folder for the demo.")
    var home = "var/demo"

    @Option(help: "A labelled telco CSV to use instead of synthetic data.")
    var data: String?

    @Option(help: "The label column of --data, when it is not a built-in telco file.")
    var label: String?

    @Option(help: "A monthly panel CSV for the customers of --data (one row per customer and month).")
    var history: String?

    @Option(help: "Synthetic customers to generate.")
    var customers = 5000

    @Option(help: "Seed for the synthetic data and training.")
    var seed: UInt64 = 7

    @Flag(help: "Leave the daemon running at the end (stop it with Ctrl-C).")
    var keepRunning = false

    @Flag(help: "Then serve the web UI on the demo's results (next month's cohort) until Ctrl-C.")
    var web = false

    @Option(help: "The web UI's TCP port (with --web).")
    var webPort = 8080

    @OptionGroup var webAccounts: WebAccountOptions

    func validate() throws {
        if history != nil, data == nil {
            throw ValidationError("--history goes with --data (the synthetic data brings its own months)")
        }
    }

    func run() async throws {
        let home = ChurnPath.absolute(self.home)
        try FileManager.default.createDirectory(atPath: home + "/logs", withIntermediateDirectories: true)
        let socket = home + "/churnd.sock"

        // 1. Data: a labelled file to train on, and a later cohort nobody trains on, whose
        //    outcomes arrive as feedback "a month later".
        let dataset: Dataset
        var historyPath: String?
        var panelSchema: PanelSchema?
        if let data {
            let path = ChurnPath.absolute(data)
            do {
                let schema = try BuiltInSchemas.detect(header: CSVReader.header(of: path))
                    ?? SchemaInference.inspect(path, label: label).schema
                (dataset, _) = try DatasetReader.read(path, schema: schema, options: DatasetReadOptions(requireLabel: true))
            } catch {
                throw CleanExit.message("\(error)", code: 65)
            }
            step("data", "using \(path): \(dataset.customers.count) customers (schema \(dataset.schema.name))")
            historyPath = history.map(ChurnPath.absolute)
            if historyPath == nil, dataset.schema.derivedHistory != nil {
                step("data", "no monthly panel (--history): the LSTMs read the history derived from tenure and charges, a fallback, not observed months")
            }
        } else {
            let output = SyntheticTelco.generate(customers: customers, months: 24, seed: seed)
            dataset = output.dataset
            let rate = Double(output.dataset.churned!.filter { $0 }.count) / Double(customers)
            step("data", "generated \(customers) SYNTHETIC customers (seed \(seed), churn rate \(String(format: "%.1f%%", rate * 100)))")
            let panelPath = home + "/data/history.csv"
            try FileManager.default.createDirectory(atPath: home + "/data", withIntermediateDirectories: true)
            try output.panel.writeCSV(to: panelPath, ids: output.dataset.customers.ids)
            historyPath = panelPath
            panelSchema = output.panel.schema
            let months = output.panel.histories.values.reduce(0) { $0 + $1.count }
            step("data", "and their months: \(months) rows of \(output.panel.columns.joined(separator: ", ")) (\(panelPath)); the churn signal lives largely in how they change")
        }
        let labels = try dataset.requireLabels(file: data ?? "synthetic data")
        let split = StratifiedSplit.holdOut(labels, fraction: 0.25, seed: seed)
        let trainingPath = home + "/data/train.csv"
        try FileManager.default.createDirectory(atPath: home + "/data", withIntermediateDirectories: true)
        try dataset.rows(split.rest).writeCSV(to: trainingPath)
        let cohort = dataset.rows(split.heldOut)
        step("data", "\(split.rest.count) customers to train on (\(trainingPath)); \(split.heldOut.count) kept back as next month's cohort")

        // 2. Daemon and plugins.
        let daemon = try startDaemon(home: home, socket: socket)
        defer {
            if !keepRunning || web {
                daemon.terminate()
                daemon.waitUntilExit()
            }
        }
        let client = try await waitForDaemon(socket: socket, daemon: daemon, log: home + "/logs/churnd.log")
        let plugins = try await reporting { () async throws(ChurnClientError) in try await client.plugins() }
        let ready = plugins.filter { $0.state == .ready }
        step("daemon", "churnd (pid \(daemon.processIdentifier)) on \(socket); plugins: \(plugins.map { "\($0.kind) (\($0.state))" }.joined(separator: ", "))")
        guard !ready.isEmpty else { throw CleanExit.message("no plugin is ready: see \(home)/logs/churnd.log", code: 1) }

        // 3. Train and register a version with every plugin: on the months (model churn), and
        //    without them (model churn-no-history), to show what the months add.
        var versions: [ModelVersionInfo] = []
        var withoutMonths: [String: ModelVersionInfo] = [:]
        var withPanel = dataset.schema.canonical
        withPanel.history = panelSchema  // the generator's declared panel; an operator's is inferred
        let schema = withPanel.jsonValue
        withPanel.history = nil
        let staticSchema = withPanel.jsonValue
        for plugin in ready {
            let request = TrainParams(
                kind: plugin.kind, data: trainingPath, history: historyPath, seed: seed, notes: "churn demo", schema: schema)
            let version = try await train(request, client: client, quiet: false)
            versions.append(version)
            step("train", "registered \(version.ref) (\(version.kind), history: \(version.historySource ?? "none")): " + metricsLine(version.metrics))
            if historyPath != nil {
                let baseline = try await train(
                    TrainParams(kind: plugin.kind, data: trainingPath, seed: seed, name: "churn-no-history", notes: "churn demo, without the months", schema: staticSchema),
                    client: client, quiet: true)
                withoutMonths[plugin.kind] = baseline
                step("train", "registered \(baseline.ref) (\(baseline.kind), history: \(baseline.historySource ?? "none")): " + metricsLine(baseline.metrics))
            }
        }
        if !withoutMonths.isEmpty {
            step("history", "what the months add (held-back ROC-AUC, same split, same seed):")
            for version in versions {
                guard let baseline = withoutMonths[version.kind], let with = version.metrics["test_roc_auc"],
                    let without = baseline.metrics["test_roc_auc"]
                else { continue }
                print(String(format: "    %@ with the months %.3f, without %.3f (%@): %+.3f", version.kind.padding(toLength: 15, withPad: " ", startingAt: 0), with, without, baseline.historySource == "derived" ? "derived history" : "no history", with - without))
            }
        }

        // 4. Promote the best by held-back ROC-AUC; shadow the runner-up beside it.
        let ranked = versions.sorted { ($0.metrics["test_roc_auc"] ?? 0) > ($1.metrics["test_roc_auc"] ?? 0) }
        let best = ranked[0]
        let change = try await reporting { () async throws(ChurnClientError) in
            try await client.promote(best.ref.description, reason: "best held-back ROC-AUC in the demo")
        }
        step("promote", "\(change.name)@champion: \(change.from.map { "version \($0)" } ?? "unset") -> version \(change.to ?? 0) (\(best.kind))")
        let runnerUp = ranked.dropFirst().first
        if let runnerUp {
            let experiment = try await reporting { () async throws(ChurnClientError) in
                try await client.startExperiment(challenger: runnerUp.ref.description, mode: "shadow", note: "churn demo")
            }
            step("experiment", "#\(experiment.id): \(runnerUp.ref) (\(runnerUp.kind)) shadows the champion: it scores every request, the champion answers")
        }

        // 5. Score next month's cohort, explain the riskiest.
        let records = cohort.records
        var predictions: [Prediction] = []
        for start in stride(from: 0, to: records.count, by: 1000) {
            let batch = Array(records[start..<min(start + 1000, records.count)])
            predictions += try await reporting { () async throws(ChurnClientError) in try await client.predict(batch) }
        }
        let atRisk = predictions.filter(\.churn).count
        step("predict", "\(predictions.count) customers of the cohort scored by \(best.ref): \(atRisk) (\(String(format: "%.1f%%", 100 * Double(atRisk) / Double(predictions.count)))) likely to churn")
        let stored = predictions.filter { $0.history == .stored }.count
        if predictions.contains(where: { $0.history != nil }) {
            step("predict", "\(stored) of them scored on their stored months (stored at training; churn history import adds more), \(predictions.count - stored) without")
        }
        let riskiest = predictions.sorted { $0.churnProbability > $1.churnProbability }.prefix(5)
        let byID = Dictionary(uniqueKeysWithValues: zip(cohort.customers.ids, records).map { ($0, $1) })
        let explanations = try await reporting { () async throws(ChurnClientError) in
            try await client.explain(riskiest.map { byID[$0.customerID]! }, top: 3)
        }
        step("explain", "the five riskiest customers and why:")
        // The same reasons in words as `churn explain` and the web pages: fields and months together.
        let wording = RiskReasons(schema: cohort.schema)
        for explained in explanations {
            print(String(format: "    %@  %.3f  ", explained.customerID as NSString, explained.explanation.churnProbability)
                + wording.line(explained.explanation, top: 3))
        }

        // 6. A learning campaign: a two-year contract offer to the whole cohort, half held back at
        // random as the control group, so its evidence covers every kind of customer (an uplift
        // model learns nothing about customers a campaign never reached). On synthetic customers
        // the offer's effect is the generator's documented response (TreatmentResponse), a truth
        // to recover.
        var cohortLabels = cohort.churned!
        let rowOf = Dictionary(uniqueKeysWithValues: cohort.customers.ids.enumerated().map { ($1, $0) })
        let revenue = cohort.schema.revenue
        let targets = predictions.compactMap { prediction -> CampaignCustomer? in
            guard let row = rowOf[prediction.customerID], let segment = TreatmentResponse.segment(of: records[row]) else { return nil }
            let bill: Double? = if let revenue, case .number(let value)? = records[row][revenue] { value } else { nil }
            return CampaignCustomer(customerID: prediction.customerID, risk: prediction.churnProbability, monthlyBill: bill, segment: segment)
        }
        var campaignID: Int?
        if !targets.isEmpty {
            let campaign = try await reporting { () async throws(ChurnClientError) in
                try await client.startCampaign(
                    CampaignStartParams(offer: "two_year_contract", customers: targets, controlShare: 0.5, note: "churn demo: a learning campaign"))
            }
            campaignID = campaign.id
            step("campaign", "#\(campaign.id): two-year contract offer to \(campaign.treated) customers of the cohort, \(campaign.control) held back at random as control")
            let members = try await reporting { () async throws(ChurnClientError) in try await client.campaignMembers(campaign.id) }
            let segments = Dictionary(uniqueKeysWithValues: targets.map { ($0.customerID, $0.segment ?? "") })
            for member in members where member.arm == "treated" {
                guard let row = rowOf[member.customerID] else { continue }
                cohortLabels[row] = TreatmentResponse.outcome(
                    customerID: member.customerID, wouldChurn: cohortLabels[row], segment: segments[member.customerID] ?? "")
            }
        } else {
            step("campaign", "skipped: the generator's response model covers synthetic telco customers only")
        }

        // 7. A month later: who left. Feed it back and compare the champion with the shadow.
        let outcomes = cohort.customers.ids.enumerated().map { Outcome(customerID: $1, churned: cohortLabels[$0]) }
        let recorded = try await reporting { () async throws(ChurnClientError) in try await client.feedback(outcomes) }
        step("feedback", "\(recorded.recorded) outcomes recorded (\(cohortLabels.filter { $0 }.count) churned)")
        if runnerUp != nil {
            let report = try await reporting { () async throws(ChurnClientError) in try await client.experimentReport() }
            for arm in report.arms {
                let auc = arm.rocAUC.map { String(format: "%.3f [%.3f, %.3f]", $0.value, $0.low, $0.high) } ?? "n/a"
                let top = arm.precisionAtTop.map { String(format: "%.2f", $0.value) } ?? "n/a"
                let revenue = arm.revenueShareAtTop.map {
                    String(format: ", churners' revenue reached there %.0f%% [%.0f, %.0f]", $0.value * 100, $0.low * 100, $0.high * 100)
                } ?? ""
                print("    \(arm.arm) v\(arm.version): ROC-AUC \(auc), precision in the riskiest 10% \(top)\(revenue)")
            }
            step("report", report.verdict)
            if !keepRunning && !web {
                _ = try await reporting { () async throws(ChurnClientError) in try await client.stopExperiment() }
            }
        }
        if let campaignID {
            let report = try await reporting { () async throws(ChurnClientError) in try await client.campaignReport(campaignID) }
            func rate(_ arm: CampaignArm) -> String {
                arm.churnRate?.percentText ?? "n/a"
            }
            print("    treated: \(report.treated.outcomes) customers, churn \(rate(report.treated)); control: \(report.control.outcomes), churn \(rate(report.control))")
            for segment in report.segments {
                let uplift = segment.uplift.map { String(format: "uplift %+.1f points [%.1f, %.1f]", $0.uplift.value * 100, $0.uplift.low * 100, $0.uplift.high * 100) } ?? "no uplift yet"
                let few = min(segment.treated.outcomes, segment.control.outcomes) < 30 ? " (under 30 outcomes in an arm: too few to tell)" : ""
                print("    \(segment.segment): treated \(rate(segment.treated)), control \(rate(segment.control)), \(uplift)\(few)")
            }
            print(String(format: "    the generator's truth: the offer keeps %.0f%% of would-be churners among persuadables (month-to-month, under 24 months), none elsewhere", TreatmentResponse.persuadableEffect * 100))
            if let kept = report.monthlyRevenueKept { print(String(format: "    monthly revenue kept net of cost: %.0f", kept)) }
            step("campaign", report.verdict)
            try await learnFromCampaign(campaignID, cohort: cohort, base: dataset.rows(split.rest), home: home, client: client)
        }
        let health = try await reporting { () async throws(ChurnClientError) in try await client.health() }
        step("health", "\(health.status), champion \(health.champion?.description ?? "none")")
        await client.close()
        if web {
            let cohortPath = home + "/data/cohort.csv"
            if !FileManager.default.fileExists(atPath: cohortPath) { try cohort.writeCSV(to: cohortPath) }
            let (accounts, user, generated) = webAccounts.accounts()
            try await WebServer.run(
                configuration: WebConfiguration(
                    port: webPort, socketPath: socket, accounts: accounts, customersFile: cohortPath,
                    customersSchema: nil),
                user: user, generatedPassword: generated,
                announce: "the dashboards score next month's cohort (\(cohortPath)\(data == nil ? ", SYNTHETIC" : "")); Ctrl-C stops the UI and the daemon")
        } else if keepRunning {
            print("\nchurnd keeps running (pid \(daemon.processIdentifier)). Try:\n  churn models --socket \(socket)\n  churn predict --socket \(socket) \(trainingPath)")
            daemon.waitUntilExit()
        } else {
            print("\ndemo finished; state is in \(home) (run again with --keep-running to keep the daemon up)")
        }
    }

    /// 8. Learns from the campaign: an uplift model (a forest on the treated, one on the control
    /// group) judged on held-back campaign customers, promoted, and used to rank the customers
    /// still with us for the next campaign by the churn the offer is expected to prevent,
    /// checked against the generator's known truth (who is persuadable).
    private func learnFromCampaign(_ campaignID: Int, cohort: Dataset, base: Dataset, home: String, client: ChurnClient) async throws {
        let cohortPath = home + "/data/cohort.csv"
        try cohort.writeCSV(to: cohortPath)
        let uplift: ModelVersionInfo
        do {
            uplift = try await client.trainUplift(UpliftTrainParams(campaign: campaignID, data: cohortPath, seed: seed)) { update in
                if update.stage != "trees" { print("    [uplift \(update.stage)] \(update.message)") }
            }
        } catch {
            // Too few outcomes in an arm is a finding, not a failure of the demo.
            step("uplift", "not trained: \(error)")
            return
        }
        _ = try await reporting { () async throws(ChurnClientError) in
            try await client.promote(uplift.ref.description, reason: "uplift model of the demo's campaign")
        }
        step(
            "uplift",
            String(
                format: "%@ promoted: Qini on held-back campaign customers %.3f ranked by predicted uplift, %.3f ranked by risk (0 = random, 1 = best possible)",
                uplift.ref.description, uplift.metrics["val_qini"] ?? .nan, uplift.metrics["val_qini_by_risk"] ?? .nan))

        // The next campaign's candidates: customers of the training file who are still with us.
        let stayed = base.churned ?? []
        let candidates = base.rows(base.customers.ids.indices.filter { $0 < stayed.count && !stayed[$0] })
        let records = candidates.records
        var ranked: [UpliftPrediction] = []
        for start in stride(from: 0, to: records.count, by: 2000) {
            let batch = Array(records[start..<min(start + 2000, records.count)])
            ranked += try await reporting { () async throws(ChurnClientError) in
                try await client.predictUplift(batch, model: uplift.ref.description).predictions
            }
        }
        let segmentOf = Dictionary(uniqueKeysWithValues: zip(candidates.customers.ids, records).map { ($0, TreatmentResponse.segment(of: $1) ?? "") })
        let persuadable = { (predictions: ArraySlice<UpliftPrediction>) in
            Double(predictions.filter { segmentOf[$0.customerID] == "persuadable" }.count) / Double(max(1, predictions.count))
        }
        let budget = max(1, ranked.count / 5)
        let byRisk = ranked.sorted { ($0.churnWithoutOffer, $1.customerID) > ($1.churnWithoutOffer, $0.customerID) }
        ranked.sort { ($0.uplift, $1.customerID) > ($1.uplift, $0.customerID) }
        step(
            "targets",
            String(
                format: "next campaign, %d customers still with us ranked by predicted uplift; persuadable (the generator's truth) among the top 20%%: %.0f%% by uplift, %.0f%% by risk, %.0f%% overall",
                ranked.count, persuadable(ranked.prefix(budget)) * 100, persuadable(byRisk.prefix(budget)) * 100,
                persuadable(ranked[...]) * 100))
        print("    rank  customer     uplift  churn without  with   segment (truth)")
        for (index, prediction) in ranked.prefix(10).enumerated() {
            print(
                String(
                    format: "    %4d  %@  %+.3f  %.3f          %.3f  %@", index + 1,
                    prediction.customerID.padding(toLength: 11, withPad: " ", startingAt: 0), prediction.uplift,
                    prediction.churnWithoutOffer, prediction.churnWithOffer, segmentOf[prediction.customerID] ?? "?"))
        }
    }

    private func train(_ request: TrainParams, client: ChurnClient, quiet: Bool) async throws -> ModelVersionInfo {
        try await reporting { () async throws(ChurnClientError) in
            try await client.train(request) { update in
                guard !quiet else { return }
                if update.stage != "trees" || update.step == update.total {
                    print("    [\(request.kind) \(update.stage)] \(update.message)")
                }
            }
        }
    }

    private func step(_ name: String, _ message: String) {
        print("[\(name)] \(message)")
    }

    private func metricsLine(_ metrics: [String: Double]) -> String {
        ["roc_auc", "f1", "precision", "recall"].compactMap { key in
            metrics["test_" + key].map { "\(key) \(String(format: "%.3f", $0))" }
        }.joined(separator: ", ") + " (held-back)"
    }

    private func startDaemon(home: String, socket: String) throws -> Process {
        let executable = (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/churnd"
        let path = FileManager.default.isExecutableFile(atPath: executable)
            ? executable : ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map { ($0 as NSString).deletingLastPathComponent + "/churnd" } ?? executable)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CleanExit.message("churnd is not beside churn (\(path)): build everything with `swift build -c release`", code: 69)
        }
        if UnixSocketFile.isLive(socket) {
            throw CleanExit.message("a daemon already serves \(socket): stop it, or use another --home", code: 69)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--home", home, "--socket", socket]
        FileManager.default.createFile(atPath: home + "/logs/churnd.log", contents: nil)
        let log = FileHandle(forWritingAtPath: home + "/logs/churnd.log")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    private func waitForDaemon(socket: String, daemon: Process, log: String) async throws -> ChurnClient {
        for _ in 0..<600 {
            guard daemon.isRunning else { throw CleanExit.message("churnd exited at start: see \(log)", code: 1) }
            if UnixSocketFile.isLive(socket), let client = try? await ChurnClient.connect(socketPath: socket) {
                let plugins = (try? await client.plugins()) ?? []
                if !plugins.isEmpty, plugins.allSatisfy({ $0.state == .ready || $0.state == .refused }) { return client }
                await client.close()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CleanExit.message("churnd did not become ready within 30 s: see \(log)", code: 1)
    }
}
