import ChurnData
import ChurnProtocol
import Foundation
import Testing

@testable import ChurnWeb

/// The retention page's money, checked against a hand computation on six customers.
@Suite("Retention money")
struct RetentionMoneyTests {
    /// Six Kaggle-telco customers: (id, monthly bill, churned per the file's label).
    static let customers: [(String, Double, Bool)] = [
        ("A", 100, false), ("B", 50, true), ("C", 200, false), ("D", 80, false), ("E", 10, true), ("F", 30, false),
    ]
    static let risk = [0.9, 0.8, 0.6, 0.3, 0.55, 0.2]

    private func scored() throws -> CustomerBase.Scored {
        let header = "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"
        let rows = Self.customers.map { id, bill, churned in
            "\(id),Female,0,Yes,No,12,Yes,No,DSL,No,No,No,No,No,No,Month-to-month,Yes,Electronic check,\(bill),\(bill * 12),\(churned ? "Yes" : "No")"
        }
        let (dataset, _) = try DatasetReader.read(
            bytes: Array(([header] + rows).joined(separator: "\n").utf8), name: "fixture.csv", schema: BuiltInSchemas.kaggle)
        let champion = ModelVersionInfo(
            name: "churn", version: 1, kind: "random_forest", pluginVersion: "1", protocolVersion: 1, createdAt: "", createdBy: "",
            params: [:], metrics: [:], aliases: ["champion"], artifact: ArtifactInfo(sha256: "", rawBytes: 1, compressedBytes: 1),
            trainingData: nil, notes: nil, tags: [])
        return CustomerBase.Scored(
            dataset: dataset, records: dataset.records, risk: Self.risk, champion: champion, scoredAt: Date(),
            byRisk: Self.risk.indices.sorted { Self.risk[$0] > Self.risk[$1] })
    }

    @Test func revenueAtRiskCountsOnlyTheAtRiskCustomersWhoHaveNotLeft() async throws {
        let report = try await RetentionReport.build(
            try scored(), configuration: RetentionOffers(offers: [], currency: "EUR"), link: DaemonLink(socketPath: "/nonexistent"))
        // At risk (≥ 0.5) and not yet left: A (0.9 × 100) and C (0.6 × 200). B and E have left.
        #expect(report.atRiskCustomers == 2)
        #expect(report.revenueAtRisk == 0.9 * 100 + 0.6 * 200)
        #expect(report.billsAtRisk == 300)
        #expect(report.alreadyLeft == 2)
        #expect(report.alreadyLeftAtRisk == 2)
        #expect(report.currency == "EUR")
        // Segments are of the customers at risk only: their revenue at risk adds up to the headline's.
        #expect(report.segments.reduce(0) { $0 + $1.customers } == 2)
        let segmentMoney: Double = report.segments.compactMap(\.revenueAtRisk).reduce(0, +)
        #expect(abs(segmentMoney - (report.revenueAtRisk ?? 0)) < 1e-9)
    }

    @Test func manySegmentsEndWithOneRowForTheRestSoTheRowsStillAddUp() {
        let segments = (0..<20).map { index in
            RetentionReport.Segment(values: ["v\(index)"], customers: index + 1, meanRisk: 0.6, revenueAtRisk: Double(index), reasons: [], bestOffer: nil)
        }
        let shown = RetentionReport.shown(segments, fields: ["plan"])
        #expect(shown.count == 12 && shown.last?.others == 9)
        #expect(shown.reduce(0) { $0 + $1.customers } == segments.reduce(0) { $0 + $1.customers })
        #expect(shown.compactMap(\.revenueAtRisk).reduce(0, +) == segments.compactMap(\.revenueAtRisk).reduce(0, +))
    }

    @Test func anUpliftModelIsEvidenceOnlyWhenItsQiniGainClearsZero() {
        func version(_ metrics: [String: Double]) -> ModelVersionInfo {
            ModelVersionInfo(
                name: "churn-uplift", version: 1, kind: "random_forest", pluginVersion: "1", protocolVersion: 1, createdAt: "", createdBy: "",
                params: [:], metrics: metrics, aliases: ["champion"], artifact: ArtifactInfo(sha256: "", rawBytes: 1, compressedBytes: 1),
                trainingData: nil, notes: nil, tags: [])
        }
        #expect(RetentionReport.UpliftStanding(version(["val_qini": 0.05, "val_qini_by_risk": 0.02, "val_qini_gain_low": 0.004, "val_qini_gain_high": 0.05])).isBetter)
        #expect(!RetentionReport.UpliftStanding(version(["val_qini": 0.022, "val_qini_by_risk": 0.021, "val_qini_gain_low": -0.01, "val_qini_gain_high": 0.012])).isBetter)
        #expect(!RetentionReport.UpliftStanding(version(["val_qini": 0.3])).isBetter, "without an interval, not shown better")
    }

    @Test func moneyHasItsCurrencyAndThousandsSeparators() {
        #expect(PageBuilder.money(92_501.4, currency: "USD") == "USD 92,501")
        #expect(PageBuilder.money(999.5, currency: "EUR") == "EUR 1,000")
        #expect(PageBuilder.money(-1_234_567.6, currency: "₩") == "−₩ 1,234,568", "a loss has its minus before the currency")
        #expect(PageBuilder.moneyCell(-209, currency: "USD")["loss"] as? Bool == true)
        #expect(PageBuilder.moneyCell(0.4, currency: "USD")["loss"] as? Bool == false)
        #expect(PageBuilder.money(0, currency: "USD") == "USD 0")
    }

    @Test func offersFilesCarryCurrencyAndAcceptanceChecked() throws {
        let offers = try RetentionOffers.parse(
            Array(#"{"currency": "KRW", "offers": [{"id": "two_year", "title": "2y", "set": {"Contract": "Two year"}, "acceptance": 0.3, "monthly_cost": 5}]}"#.utf8),
            source: "offers.json")
        #expect(offers.currency == "KRW")
        #expect(offers.offers[0].acceptance == 0.3)
        #expect(throws: DataError.self) {
            try RetentionOffers.parse(Array(#"{"offers": [{"id": "x", "title": "x", "set": {"Contract": "Two year"}, "acceptance": 1.5}]}"#.utf8), source: "bad.json")
        }
    }
}
