import Testing

@testable import ChurnData

/// Campaign statistics against hand computations (checked with Python's math module).
@Suite("Campaign statistics")
struct CampaignStatisticsTests {
    @Test func wilsonIntervalOfTenInAHundred() throws {
        let interval = try #require(CampaignStatistics.wilson(10, of: 100))
        #expect(interval.rate == 0.1)
        #expect(abs(interval.low - 0.0552291370606751) < 1e-12)
        #expect(abs(interval.high - 0.17436566150491345) < 1e-12)
        #expect(CampaignStatistics.wilson(0, of: 0) == nil)
        let none = try #require(CampaignStatistics.wilson(0, of: 20))
        #expect(none.low == 0 && none.high > 0, "no churner still has an upper bound")
    }

    @Test func upliftOfTwentyVersusThirtyPercent() throws {
        // Treated 20/100 churned, control 30/100: uplift 0.10, Wald interval, pooled z-test.
        let test = try #require(CampaignStatistics.uplift(treatedChurned: 20, treated: 100, controlChurned: 30, control: 100))
        #expect(abs(test.uplift - 0.1) < 1e-12)
        #expect(abs(test.low - -0.01921995485894243) < 1e-12)
        #expect(abs(test.high - 0.21921995485894238) < 1e-12)
        #expect(abs(test.z - 1.6329931618554518) < 1e-12)
        #expect(abs(test.p - 0.1024704348597495) < 1e-12)
        #expect(CampaignStatistics.uplift(treatedChurned: 1, treated: 5, controlChurned: 0, control: 0) == nil)
    }

    @Test func revenueReachedInTheRiskiestTenthByHand() throws {
        // Ten customers; the riskiest 10% is one customer (rank 1: score 0.9, a churner paying 50).
        let labels = [true, false, true, true, false, false, true, false, false, false]
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
        let bills = [50.0, 80, 20, 30, 10, 10, 100, 10, 10, 10]
        let top = try #require(ExperimentStatistics.revenueAtTop(labels, scores, bills, fraction: 0.1))
        #expect(top.reached == 50 && abs(top.share - 50.0 / 200) < 1e-12)
        // The riskiest 30% (three customers): churners 50 + 20 of all churners' 200.
        let three = try #require(ExperimentStatistics.revenueAtTop(labels, scores, bills, fraction: 0.3))
        #expect(three.reached == 70 && abs(three.share - 0.35) < 1e-12)
        #expect(ExperimentStatistics.revenueAtTop([false, false], [0.1, 0.2], [5, 5], fraction: 0.5) == nil)
        // The bootstrap keeps the value and brackets it.
        let estimate = try #require(
            ExperimentStatistics.bootstrap(rows: 10, seed: 3) { rows in
                ExperimentStatistics.revenueAtTop(rows.map { labels[$0] }, rows.map { scores[$0] }, rows.map { bills[$0] }, fraction: 0.3)?.share
            })
        #expect(abs(estimate.value - 0.35) < 1e-12 && estimate.low <= 0.35 && estimate.high >= 0.35)
    }
}
