import ChurnData
import ChurnProtocol
import Testing

/// Reasons in words: each field by its display name, value and unit, each month by its calendar
/// month and lead panel column, all in points with one sign convention, in English and Korean.
@Suite("Reasons in words")
struct RiskReasonsTests {
    /// An operator's own schema (no telco field), with labels, units and value labels.
    static let schema: DatasetSchema = {
        let json = #"""
            {"name": "mobile-operator", "id": "subscriber",
             "label": {"column": "left", "positive": ["1"], "negative": ["0"]},
             "columns": [
               {"name": "plan_type", "type": "categorical", "values": ["prepaid", "postpaid"],
                "value_labels": {"ko": {"prepaid": "선불", "postpaid": "후불"}}},
               {"name": "monthsActive", "type": "numeric", "unit": {"en": "months", "ko": "개월"}, "labels": {"ko": "이용 기간"}},
               {"name": "AutoPay", "type": "boolean"},
               {"name": "ARPU", "type": "numeric", "blank": "missing", "labels": {"en": "Average revenue per user"}}],
             "history": {"customer": "subscriber", "period": "month", "window": 12,
               "columns": [{"name": "dropped_calls", "type": "numeric", "unit": "calls"}]}}
            """#
        return try! DatasetSchema.parse(Array(json.utf8), source: "mobile.json")
    }()

    static let explanation = ModelExplanation(
        churnProbability: 0.71,
        contributions: [
            Contribution(feature: "plan_type", value: "prepaid", contribution: 0.182),
            Contribution(feature: "monthsActive", value: .number(2), contribution: 0.061),
            Contribution(feature: "AutoPay", value: .bool(true), contribution: -0.004),
            Contribution(feature: "ARPU", value: .null, contribution: 0.0),
        ],
        history: "observed months",
        months: [
            MonthExplanation(period: "2026-10", weight: 0.4, values: ["dropped_calls": .number(6)], effect: 0.052, lead: "dropped_calls"),
            MonthExplanation(period: "2026-09", weight: 0.6, values: [:], effect: -0.011),
        ],
        monthMethod: "attention")

    @Test func fieldsAndMonthsRankTogetherInWordsWithOneSign() {
        let reasons = RiskReasons(schema: Self.schema).reasons(Self.explanation, top: 10)
        #expect(reasons.map(\.text) == [
            "Plan type: prepaid +18 pts", "Months active 2 months +6 pts", "Oct 2026: Dropped calls 6 calls +5 pts",
            "Sep 2026 -1 pts", "Auto pay: yes -0.4 pts",
        ])
        #expect(reasons[0].subject == .field("plan_type") && reasons[2].subject == .month("2026-10"))
        #expect(reasons.allSatisfy { $0.points != 0 }, "a reason of no effect is left out")
        #expect(RiskReasons(schema: Self.schema).line(Self.explanation, top: 2) == "Plan type: prepaid +18 pts; Months active 2 months +6 pts")
    }

    @Test func koreanUsesTheSchemasLabelsValuesAndUnits() {
        let reasons = RiskReasons(schema: Self.schema, language: "ko").reasons(Self.explanation, top: 4)
        #expect(reasons.map(\.text) == ["Plan type: 선불 +18%p", "이용 기간 2개월 +6%p", "2026년 10월: Dropped calls 6 calls +5%p", "2026년 9월 -1%p"])
    }

    @Test func theLabelIsUsedAndABlankIsSaid() {
        let wording = RiskReasons(schema: Self.schema)
        let blank = ModelExplanation(churnProbability: 0.3, contributions: [Contribution(feature: "ARPU", value: .null, contribution: -0.02)])
        #expect(wording.line(blank) == "Average revenue per user: blank -2 pts")
        // A field the schema does not have, and no schema at all: the name in words.
        let unknown = ModelExplanation(churnProbability: 0.3, contributions: [Contribution(feature: "roaming_minutes", value: .number(12.5), contribution: 0.031)])
        #expect(RiskReasons(schema: nil).line(unknown) == "Roaming minutes 12.50 +3 pts")
    }

    @Test func occlusionMonthsWithoutAnEffectUseTheirWeightAndDerivedMonthsSayTenure() {
        let plain = ModelExplanation(
            churnProbability: 0.5, history: "derived from tenure and charges",
            months: [MonthExplanation(period: "3", weight: 0.08), MonthExplanation(period: "4", weight: 0.0)], monthMethod: "occlusion")
        #expect(RiskReasons(schema: nil).line(plain) == "Tenure month 3 +8 pts")
        #expect(RiskReasons(schema: nil, language: "ko").line(plain) == "가입 3개월째 +8%p")
        // Attention weights alone are shares, not points: never a reason.
        let attentionOnly = ModelExplanation(
            churnProbability: 0.5, months: [MonthExplanation(period: "2026-10", weight: 0.9)], monthMethod: "attention")
        #expect(RiskReasons(schema: nil).reasons(attentionOnly).isEmpty)
    }

    @Test(arguments: [
        ("MonthlyCharges", "Monthly charges"), ("tenure", "Tenure"), ("StreamingTV", "Streaming TV"), ("dropped_calls", "Dropped calls"),
        ("data-GB", "Data GB"), ("plan2Year", "Plan2 year"), ("x", "X"),
    ])
    func fieldNamesInWords(name: String, words: String) {
        #expect(SchemaColumn.words(name) == words)
    }

    @Test func pointsAreSignedWholeFromOneAndTenthsBelow() {
        let wording = RiskReasons(schema: nil)
        #expect(wording.points(18.2) == "+18 pts")
        #expect(wording.points(-5.5) == "-6 pts")
        #expect(wording.points(0.44) == "+0.4 pts")
        #expect(wording.points(-0.04) == "-0.0 pts")
        #expect(RiskReasons(schema: nil, language: "ko").points(3) == "+3%p")
    }

    @Test func unitsAndValueLabelsRoundTripThroughTheSchemaFile() throws {
        let parsed = try DatasetSchema.parse(Array(Self.schema.prettyJSON().utf8), source: "again")
        #expect(parsed == Self.schema)
        let plan = try #require(parsed.input(named: "plan_type"))
        #expect(plan.displayValue("prepaid", "ko") == "선불" && plan.displayValue("prepaid", "en") == "prepaid")
        #expect(parsed.input(named: "monthsActive")?.unit("ko") == "개월")
        #expect(parsed.history?.columns.first?.unit("ko") == "calls", "a plain unit is every language's")
        let bad = #"{"label": {"column": "c", "positive": ["1"], "negative": ["0"]}, "columns": [{"name": "p", "type": "categorical", "values": ["a"], "value_labels": {"ko": {"a": 3}}}]}"#
        #expect {
            try DatasetSchema.parse(Array(bad.utf8), source: "bad.json")
        } throws: { error in
            "\(error)".contains("columns[0].value_labels.ko.a")
        }
    }
}
