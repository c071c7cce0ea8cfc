import ArgumentParser
import ChurnData
import ChurnProtocol
import Foundation
import Testing

@testable import ChurnCLI

/// The `churn` command line, parsed as swift-argument-parser parses it: commands exist, flags
/// that do nothing are refused, closed choices say what they accept, and the file readers
/// accept what the help promises.
@Suite("churn command line")
struct CommandLineTests {
    private func parse(_ arguments: [String]) throws -> any ParsableCommand {
        try ChurnCommand.parseAsRoot(arguments)
    }

    private func message(_ arguments: [String]) -> String {
        do {
            _ = try parse(arguments)
            return ""
        } catch {
            return ChurnCommand.message(for: error)
        }
    }

    private func scratchFile(_ name: String, _ text: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("churn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func explainIsACommandForOneCustomerOrAFile() throws {
        let one = try #require(try parse(["explain", "--customer", #"{"customerID":"a"}"#, "--top", "3"]) as? ExplainCommand)
        #expect(one.top == 3)
        let file = try #require(try parse(["explain", "customers.csv", "--json"]) as? ExplainCommand)
        #expect(file.input == "customers.csv")
        #expect(file.output.json)
        #expect(message(["explain"]).contains("either a file"))
    }

    @Test func explanationsPrintTheirDrivers() {
        let explained = CustomerExplanation(
            customerID: "C1", model: ModelRef(name: "churn", version: 3), arm: "champion",
            explanation: ModelExplanation(
                churnProbability: 0.62, bias: 0.27,
                contributions: [Contribution(feature: "Contract", value: "Month-to-month", contribution: 0.18)],
                history: "observed months",
                months: [
                    MonthExplanation(period: "2026-09", weight: 0.7, values: ["support_calls": .number(3), "plan": .string("basic")]),
                    MonthExplanation(period: "2026-10", weight: 0.3),
                ], monthMethod: "attention"),
            history: .stored)
        let text = ExplainCommand.text(explained)
        #expect(text.contains("C1: churn probability 0.620 (churn@3, champion)"))
        #expect(text.contains("+0.180  Contract = Month-to-month"))
        #expect(text.contains("  reasons: Contract: Month-to-month +18 pts"), "the reasons in words come first")
        #expect(text.contains("months: observed months (stored), weighed by attention"))
        #expect(text.contains("2026-09  0.700  plan basic, support_calls 3"))
        #expect(text.contains("2026-10  0.300"))
        let occluded = CustomerExplanation(
            customerID: "C2", model: ModelRef(name: "churn", version: 4), arm: "direct",
            explanation: ModelExplanation(
                churnProbability: 0.4, months: [MonthExplanation(period: "2026-10", weight: -0.05)], monthMethod: "occlusion"),
            history: .inline)
        #expect(ExplainCommand.text(occluded).contains("weighed by what the month adds to the probability (with it minus without it)"))
        #expect(ExplainCommand.text(occluded).contains("2026-10  -0.050"))
        let withoutMonths = CustomerExplanation(
            customerID: "C3", model: ModelRef(name: "churn", version: 4), arm: "direct",
            explanation: ModelExplanation(churnProbability: 0.2), history: .noMonths)
        #expect(ExplainCommand.text(withoutMonths).contains("months: none"))
    }

    @Test func historyImportAndShowAreCommandsAndPredictTakesAPanel() throws {
        let importing = try #require(try parse(["history", "import", "months.csv", "--model", "prepaid"]) as? HistoryCommand.Import)
        #expect(importing.file == "months.csv" && importing.model == "prepaid")
        #expect(message(["history", "import", "months.csv", "--batch-size", "0"]).contains("--batch-size"))
        let showing = try #require(try parse(["history", "show", "C1", "--json"]) as? HistoryCommand.Show)
        #expect(showing.customer == "C1" && showing.model == "churn" && showing.output.json)
        let predicting = try #require(try parse(["predict", "customers.csv", "--history", "months.csv"]) as? PredictCommand)
        #expect(predicting.history == "months.csv")
        let inspecting = try #require(try parse(["data", "inspect", "months.csv", "--panel", "--customer", "sub"]) as? DataCommand.Inspect)
        #expect(inspecting.panel && inspecting.customer == "sub")
        #expect(message(["data", "inspect", "months.csv", "--customer", "sub"]).contains("--panel"))
        #expect(message(["data", "inspect", "months.csv", "--panel", "--label", "Churn"]).contains("--label"))
        #expect(message(["demo", "--history", "months.csv"]).contains("--data"))
    }

    @Test func flagsThatDoNothingAreRefused() {
        #expect(message(["metrics", "--json"]).contains("--json"))
        #expect(message(["web", "--json"]).contains("--json"))
        #expect(message(["health", "--json"]).isEmpty)
        #expect(message(["models", "--json"]).isEmpty)
    }

    @Test func experimentModeIsAClosedChoiceThatListsItsValues() throws {
        let text = message(["experiment", "start", "--challenger", "2", "--mode", "shadw"])
        #expect(text.contains("shadw"))
        #expect(text.contains("ab") && text.contains("shadow"), "\(text)")
        let start = try #require(try parse(["experiment", "start", "--challenger", "2", "--mode", "shadow"]) as? ExperimentCommand.Start)
        #expect(start.mode == .shadow)
    }

    @Test func promotingToANewAliasNeedsCreateAlias() throws {
        let plain = try #require(try parse(["promote", "3", "--alias", "prepaid"]) as? PromoteCommand)
        #expect(!plain.createAlias)
        let creating = try #require(try parse(["promote", "3", "--alias", "prepaid", "--create-alias"]) as? PromoteCommand)
        #expect(creating.createAlias)
    }

    @Test func progressLinesSayEachThingOnce() {
        let trees = ProgressUpdate(request: .number(1), stage: "trees", step: 25, total: 300, message: "25/300 trees grown")
        #expect(ProgressLine.text(trees) == "25/300 trees grown")
        let silent = ProgressUpdate(request: .number(1), stage: "epoch", step: 3, total: 30, message: "")
        #expect(ProgressLine.text(silent) == "epoch 3/30")
    }

    @Test func feedbackTakesTheTrainingFilesOwnLabelColumn() throws {
        let path = try scratchFile(
            "train.csv", "customerID,tenure,Churn\nA-1,3,Yes\nA-2,40,No\n")
        let outcomes = try FeedbackCommand.read(path)
        #expect(outcomes == [Outcome(customerID: "A-1", churned: true), Outcome(customerID: "A-2", churned: false)])
    }

    @Test func feedbackTakesIBMsColumnsAndNamedOnes() throws {
        let ibm = try scratchFile("ibm.csv", "CustomerID,Churn Label,Churn Value\nB-1,Yes,1\nB-2,No,0\n")
        #expect(try FeedbackCommand.read(ibm).map(\.churned) == [true, false])
        let custom = try scratchFile("crm.csv", "Subscriber,Left,date\nS1,true,2026-11-30\n")
        let outcomes = try FeedbackCommand.read(custom, idColumn: "Subscriber", labelColumn: "Left")
        #expect(outcomes == [Outcome(customerID: "S1", churned: true, date: "2026-11-30")])
    }

    @Test func feedbackWithoutAnOutcomeColumnSaysWhichItLookedFor() throws {
        let path = try scratchFile("bad.csv", "customerID,status\nA,gone\n")
        do {
            _ = try FeedbackCommand.read(path)
            Issue.record("a file without an outcome column was accepted")
        } catch {}
    }

    @Test func feedbackNamesTheLineOfABadOutcome() throws {
        let path = try scratchFile("bad.csv", "customerID,churned\nA,yes\nB,maybe\n")
        do {
            _ = try FeedbackCommand.read(path)
            Issue.record("a bad outcome was accepted")
        } catch {}
    }

    @Test func dataInspectWritesASchemaToEditAndReportsWhatItFound() throws {
        let rows = (0..<120).map { "u\($0),\(["basic", "plus"][$0 % 2]),\($0 % 9),\($0 % 5 == 0 ? "Left" : "Stayed")" }
        let path = try scratchFile("accounts.csv", (["account_id,plan,complaints,Status"] + rows).joined(separator: "\n"))
        let out = (path as NSString).deletingLastPathComponent + "/schema.json"
        let command = try #require(try parse(["data", "inspect", path, "--label", "Status", "--write", out]) as? DataCommand.Inspect)
        try command.run()
        let schema = try DatasetSchema.read(file: out)
        #expect(schema.id?.column == "account_id")
        #expect(schema.label.column == "Status" && schema.label.positive == ["Left"], "the churn word means churned")
        #expect(schema.input(named: "plan")?.type == .categorical && schema.input(named: "complaints")?.type == .numeric)
        let text = SchemaReportPrinter.text(try SchemaInference.inspect(path, label: "Status"))
        #expect(text.contains("label:  Status: Left (churned) 24 = 20.0%"), "\(text)")
        #expect(message(["data", "inspect"]).contains("file"))
    }

    @Test func trainTakesASchemaOrALabel() throws {
        let command = try #require(try parse(["train", "--kind", "random_forest", "--data", "x.csv", "--label", "Churn"]) as? TrainCommand)
        #expect(command.label == "Churn" && command.schema == nil)
        let named = try #require(try parse(["train", "--kind", "lstm", "--data", "x.csv", "--schema", "ibm"]) as? TrainCommand)
        #expect(named.schema == "ibm")
    }

    /// Help as wide as it needs (no wrapping inside a phrase).
    private func help(_ command: any ParsableCommand.Type) -> String {
        ChurnCommand.helpMessage(for: command, columns: 10_000)
    }

    @Test func helpSaysWhatEachCommandDoesNow() {
        // Since uploads, churn reads the files it is given and sends them; churnd reads paths only when told.
        let train = help(TrainCommand.self)
        #expect(train.contains("churn reads --data (and --history, and a --mapping file) here and sends them to churnd"), "\(train)")
        #expect(!train.contains("read by churnd") && !train.contains("The daemon reads the file"))
        #expect(train.contains("With --files-on-server, churnd reads the paths itself"))
        #expect(help(CampaignCommand.Uplift.self).contains("(read here and sent to churnd)"))
        // An occlusion weight is the probability with the month minus without it.
        #expect(help(ExplainCommand.self).contains("what the month adds to the probability: with it minus without it"))
        #expect(!help(ExplainCommand.self).contains("change in probability without that month"))
        // A refused socket is its own exit status; not every command needs a daemon; an A/B challenger answers too.
        #expect(help(HealthCommand.self).contains("77 when its socket is closed to you"))
        #expect(help(ChurnCommand.self).contains("`data inspect`, `generate` and `registry migrate` work on files alone"))
        #expect(help(PredictCommand.self).contains("during an A/B experiment, the challenger answers its share"))
        #expect(help(FeedbackCommand.self).contains("experiment and campaign reports"))
        #expect(help(GenerateCommand.self).contains("operator: operator.csv"))
        #expect(help(DemoCommand.self).contains("learns an uplift model from the campaign"))
        #expect(help(RollbackCommand.self).contains("Refused when it has no earlier version"))
        #expect(!help(VerifyCommand.self).contains("Check the registry: SQLite's integrity check,"))
        // The export's explanation comes before its examples; the web's text is not broken mid-sentence.
        let export = help(ExportCommand.self)
        let explained = export.range(of: "churn receives the bytes")?.lowerBound
        let examples = export.range(of: "Examples:")?.lowerBound
        #expect(explained != nil && examples != nil && explained! < examples!, "\(export)")
        let web = help(WebCommand.self)
        #expect(web.contains("set CHURN_WEB_PASSWORD_BCRYPT (a bcrypt hash) or CHURN_WEB_PASSWORD, or let churn generate one and print it"))
        #expect(web.contains("printed only beside a generated password"))
    }

    @Test func predictingFromAFileNeverReadsItsLabelColumn() throws {
        let header =
            "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"
        let row =
            "C1,Female,0,Yes,No,1,No,No phone service,DSL,No,Yes,No,No,No,No,Month-to-month,Yes,Electronic check,29.85,29.85,unknown yet"
        let records = try CSVCustomers.records(
            from: Data((header + "\n" + row + "\n").utf8), source: "next-month.csv", schema: BuiltInSchemas.kaggle)
        #expect(records.count == 1)
        #expect(records[0]["Churn"] == nil)
    }
}
