import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Run retention campaigns with a randomized control group and measure their effect.",
        discussion: """
            A campaign gives an offer to a cohort of customers and holds a random share back as a \
            control group (default 20%, the same customers for the same campaign every time). Record \
            who stayed and who left with `churn feedback`; the report compares churn treated vs \
            control and gives the uplift with its 95% interval and test.

            Examples:
              churn campaign start --offer two_year_contract --targets churn-targets.csv
              churn campaign start --offer discount_10 --targets targets.csv --control 0.3 --cost 6.5
              churn campaign list
              churn campaign report 1
              churn campaign stop 1
              churn campaign uplift 1 --data customers.csv
              churn campaign targets customers.csv --model churn-uplift --top 50

            Once a campaign has outcomes, `uplift` trains an uplift model from them (two forests, \
            treated and control: a T-learner) and `targets` ranks customers by the churn the offer \
            is expected to prevent, instead of by risk.
            """,
        subcommands: [Start.self, List.self, Report.self, Stop.self, Uplift.self, Targets.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a campaign from a target list (the web's CSV export, or any CSV with a customer_id column).",
            discussion: """
                Columns read: customer_id (or customerID), and when present risk, monthly_bill, segment and \
                offer (when the file has an offer column, only the rows of --offer are the cohort).
                """)

        @Option(help: "The offer given to the treated customers.")
        var offer: String

        @Option(help: "CSV of the customers to target.")
        var targets: String

        @Option(help: "Share held back as the control group, in (0, 1).")
        var control: Double = 0.2

        @Option(help: "Monthly cost of the offer for each treated customer who stays.")
        var cost: Double = 0

        @Option(help: "The model whose targets these are.")
        var model: String?

        @Option(help: "Why, kept with the campaign.")
        var note: String?

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let cohort = try Self.cohort(file: ChurnPath.absolute(targets), offer: offer)
            guard !cohort.isEmpty else { throw ValidationError("\(targets) has no customer for offer \(offer)") }
            let client = try await connection.connect()
            let info = try await reporting { () async throws(ChurnClientError) in
                try await client.startCampaign(
                    CampaignStartParams(offer: offer, customers: cohort, controlShare: control, monthlyCost: cost, model: model, note: note))
            }
            if output.json { return try printJSON(info) }
            print("campaign \(info.id) running: offer \(info.offer) to \(info.treated) customers, \(info.control) held back as control")
        }

        /// The cohort a target CSV names, with a line number in every problem.
        static func cohort(file: String, offer: String) throws -> [CampaignCustomer] {
            var rows: [(line: Int, fields: [String])] = []
            try CSVReader(path: file).forEachRecord { record in
                rows.append((record.line, (0..<record.count).map { record.lossyString($0).trimmingCharacters(in: .whitespaces) }))
            }
            guard let header = rows.first?.fields else { throw ValidationError("\(file) is empty") }
            guard let idColumn = header.firstIndex(of: "customer_id") ?? header.firstIndex(of: "customerID") else {
                throw ValidationError("\(file): line 1 has no customer_id column (columns: \(header.joined(separator: ", ")))")
            }
            let offerColumn = header.firstIndex(of: "offer")
            var cohort: [CampaignCustomer] = []
            for (line, fields) in rows.dropFirst() {
                func value(_ column: Int?) -> String? {
                    guard let column, column < fields.count, !fields[column].isEmpty else { return nil }
                    return fields[column]
                }
                func number(_ name: String) throws -> Double? {
                    guard let text = value(header.firstIndex(of: name)) else { return nil }
                    guard let number = Double(text) else {
                        throw ValidationError("\(file): line \(line), column \(name): \"\(text)\" is not a number")
                    }
                    return number
                }
                if let rowOffer = value(offerColumn), rowOffer != offer { continue }
                guard let id = value(idColumn) else { throw ValidationError("\(file): line \(line): the customer_id is empty") }
                cohort.append(
                    CampaignCustomer(
                        customerID: id, risk: try number("risk"), monthlyBill: try number("monthly_bill"),
                        segment: value(header.firstIndex(of: "segment"))))
            }
            return cohort
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List campaigns, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let campaigns = try await reporting { () async throws(ChurnClientError) in try await client.campaigns() }
            if output.json { return try printJSON(campaigns) }
            printTable(
                ["ID", "STATUS", "OFFER", "TREATED", "CONTROL", "STARTED", "BY"],
                campaigns.map { [String($0.id), $0.status.rawValue, $0.offer, String($0.treated), String($0.control), String($0.startedAt.prefix(19)), $0.startedBy] })
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Churn treated vs control, the uplift and its test, revenue kept, per segment.")
        @Argument(help: "The campaign id.")
        var campaign: Int
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let report = try await reporting { () async throws(ChurnClientError) in try await client.campaignReport(campaign) }
            if output.json { return try printJSON(report) }
            func rate(_ arm: CampaignArm) -> String {
                arm.churnRate?.percentText ?? "-"
            }
            print("campaign \(report.campaign.id): offer \(report.campaign.offer), \(report.campaign.status.rawValue)")
            printTable(
                ["ARM", "CUSTOMERS", "OUTCOMES", "CHURNED", "CHURN RATE (95%)"],
                [("treated", report.treated), ("control", report.control)].map { [$0.0, String($0.1.customers), String($0.1.outcomes), String($0.1.churned), rate($0.1)] })
            if let revenue = report.monthlyRevenueKept { print(String(format: "monthly revenue kept net of cost: %.2f", revenue)) }
            for segment in report.segments {
                print("  \(segment.segment): treated \(rate(segment.treated)), control \(rate(segment.control))"
                    + (segment.uplift.map { String(format: ", uplift %.1f points (p %.3f)", $0.uplift.value * 100, $0.p) } ?? ""))
            }
            print(report.verdict)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a campaign (its report stays).")
        @Argument(help: "The campaign id.")
        var campaign: Int
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try await connection.connect()
            let info = try await reporting { () async throws(ChurnClientError) in try await client.stopCampaign(campaign) }
            if output.json { return try printJSON(info) }
            print("campaign \(info.id) stopped")
        }
    }

    struct Uplift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train an uplift model from a campaign's outcomes (two forests: treated and control).",
            discussion: """
                --data is a customer CSV holding every campaign customer with an outcome, with their fields \
                as of the campaign's start (the file the targets came from); its label column is not read: \
                the outcomes are the campaign's feedback. A share of the campaign's customers (--holdout) \
                is held back to judge the ranking with the Qini coefficient. The version is registered \
                under --name (default <model>-uplift); promote it to use it.
                """)

        @Argument(help: "The campaign id.")
        var campaign: Int

        @Option(help: "Customer CSV with the campaign customers' fields (read here and sent to churnd).")
        var data: String

        @Option(help: "The model name to register under (default <campaign model>-uplift).")
        var name: String?

        @Option(help: "Share of campaign customers held back to judge the model, 0.1-0.5.")
        var holdout: Double = 0.3

        @Option(help: "Random forest hyperparameters as a JSON object, e.g. '{\"n_trees\": 200}'.")
        var params: String?

        @Option(help: "Seed for the split and the forests.")
        var seed: UInt64 = 0

        @Flag(help: "DATA is a path on churnd's host (under its --data-root) instead of a file here.")
        var filesOnServer = false

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let hyperparameters = try Hyperparameters.parse(params)
            let client = try await connection.connect()
            let request = UpliftTrainParams(
                campaign: campaign, data: filesOnServer ? data : ChurnPath.absolute(data), name: name, params: hyperparameters,
                seed: seed, holdout: holdout)
            let quiet = output.json
            let version = try await reporting { () async throws(ChurnClientError) in
                try await client.trainUplift(request, filesOnServer: filesOnServer) { update in
                    guard !quiet else { return }
                    FileHandle.standardError.write(Data((ProgressLine.text(update) + "\n").utf8))
                }
            }
            if output.json { return try printJSON(version) }
            print("registered \(version.ref) (uplift model of campaign \(campaign))")
            if let q = version.metrics["val_qini"] {
                print(String(format: "Qini on held-back campaign customers: %.3f by predicted uplift, %.3f by risk (0 = random ranking, 1 = best possible)", q, version.metrics["val_qini_by_risk"] ?? .nan))
            }
            print("promote it with: churn promote \(version.ref)")
        }
    }

    struct Targets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rank customers by the churn an offer is expected to prevent (an uplift model's champion).",
            discussion: """
                Ranks by predicted uplift: churn without the offer minus churn with it, learned from a \
                campaign's treated and control groups. Customers whose churn the offer is not expected \
                to change (or to raise) rank last.
                """)

        @Argument(help: "A .csv or .json file of customers.")
        var input: String

        @Option(help: "The uplift model (its champion answers), or NAME@VERSION.")
        var model: String = "churn-uplift"

        @Option(help: "Show the first N.")
        var top: Int = 20

        @Option(help: "Write every customer, ranked, to this CSV file.")
        var csv: String?

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
        }

        func run() async throws {
            let client = try await connection.connect()
            let reference = model.contains("@") ? model : "\(model)@champion"
            let customers = try await CustomerInput.read(file: input, inline: nil, schema: nil, model: reference, client: client)
            var predictions: [UpliftPrediction] = []
            var answered: UpliftPredictResult?
            for start in stride(from: 0, to: customers.count, by: 2000) {
                let batch = Array(customers[start..<min(start + 2000, customers.count)])
                let result = try await reporting { () async throws(ChurnClientError) in try await client.predictUplift(batch, model: reference) }
                predictions += result.predictions
                answered = result
            }
            predictions.sort { ($0.uplift, $1.customerID) > ($1.uplift, $0.customerID) }
            if let csv {
                var writer = try CSVWriter(path: ChurnPath.absolute(csv))
                try writer.write(["rank", "customer_id", "uplift", "churn_without_offer", "churn_with_offer", "offer"])
                for (index, prediction) in predictions.enumerated() {
                    try writer.write([
                        String(index + 1), prediction.customerID, String(format: "%.4f", prediction.uplift),
                        String(format: "%.4f", prediction.churnWithoutOffer), String(format: "%.4f", prediction.churnWithOffer),
                        answered?.offer ?? "",
                    ])
                }
                try writer.close()
            }
            if output.json { return try printJSON(predictions) }
            if let answered {
                print("ranked by \(answered.model): offer \(answered.offer ?? "?") (evidence: campaign \(answered.campaign.map(String.init) ?? "?"))")
            }
            printTable(
                ["RANK", "CUSTOMER", "UPLIFT", "CHURN WITHOUT", "CHURN WITH"],
                predictions.prefix(top).enumerated().map { index, prediction in
                    [
                        String(index + 1), prediction.customerID, String(format: "%+.3f", prediction.uplift),
                        String(format: "%.3f", prediction.churnWithoutOffer), String(format: "%.3f", prediction.churnWithOffer),
                    ]
                })
            if let csv { print("all \(predictions.count) ranked in \(csv)") }
        }
    }
}
