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
            """,
        subcommands: [Start.self, List.self, Report.self, Stop.self])

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
}
