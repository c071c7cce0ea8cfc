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
}
