import ChurnClient
import ChurnProtocol
import ChurnRegistry
import Foundation
import HummingbirdTesting
import Testing

@testable import ChurnWeb

/// A version's page against a real daemon: a tuned version's leaderboard (how the search ran,
/// its best ten configurations with the registered one and the defaults marked, the blend it
/// weighed), escaped like everything else; a blend's members as links to their versions.
@Suite("Web UI version page", .serialized)
struct VersionPageTests {

    /// A hyperparameter value no page may show unescaped.
    static let hostile = "<script>alert(1)</script>"

    /// Twelve configurations, best first: trial 9 (second) registered, trial 1 the forest's
    /// defaults, trial 4 with a hostile value; the blend of trials 9 and 5 not better.
    static func leaderboard(chosenTrial: Int?, blendChosen: Bool) -> Leaderboard {
        let trials = [3, 9, 1, 4, 5, 6, 7, 8, 2, 10, 11, 12]
        let entries = trials.enumerated().map { index, trial -> LeaderboardEntry in
            LeaderboardEntry(
                trial: trial, kind: trial == 5 ? "lstm_attention" : "random_forest",
                params: trial == 5 ? ["epochs": .number(4)]
                    : ["n_trees": .number(Double(100 + trial)), "max_features": .number(0.35), "criterion": .string(trial == 4 ? hostile : "gini")],
                rung: index < 4 ? 2 : 0, isDefault: trial == 1, rocAUC: 0.85 - Double(index) * 0.01, rocAUCStd: 0.012 + Double(index) * 0.001,
                foldROCAUC: [], logLoss: 0.40 + Double(index) * 0.01, fitSeconds: 0.25 * Double(index + 1))
        }
        return Leaderboard(
            folds: 5, rows: 900, seed: 7, budgetSeconds: 20, searchSeconds: 17.46, planned: 30, stopped: "budget",
            kinds: ["random_forest", "lstm_attention"], entries: entries, chosenTrial: chosenTrial,
            blend: BlendSummary(
                members: [BlendWeight(trial: 9, kind: "random_forest", weight: 0.7), BlendWeight(trial: 5, kind: "lstm_attention", weight: 0.3)],
                rocAUC: 0.8432, rocAUCStd: 0.0151, foldROCAUC: [], chosen: blendChosen))
    }

    /// The cells of each row of the table with `id`, as text between `<td>` and `</td>`.
    static func rows(of id: String, in html: String) throws -> [(tag: String, cells: [String])] {
        let start = try #require(html.range(of: #"<table id="\#(id)">"#))
        let body = try #require(html[start.upperBound...].range(of: "<tbody>"))
        let end = try #require(html[body.upperBound...].range(of: "</tbody>"))
        return html[body.upperBound..<end.lowerBound].components(separatedBy: "</tr>").compactMap { row in
            guard let open = row.range(of: "<tr") else { return nil }
            let tag = String(row[open.lowerBound...].prefix { $0 != ">" })
            let cells = row.components(separatedBy: "<td>").dropFirst().map { $0.components(separatedBy: "</td>")[0] }
            return (tag, cells)
        }
    }

    @Test func aTunedVersionShowsItsBestTenConfigurationsWithTheRegisteredOneMarkedAndEveryValueEscaped() async throws {
        let harness = try await WebHarness.start()
        // churn@3: a tuned forest, registered where churnd registers (its registry file).
        let registry = try ModelRegistry(path: harness.root + "/home/registry.sqlite")
        let tuned = try await registry.register(
            ModelRegistration(
                name: "churn", kind: "random_forest", pluginVersion: "1", params: ["n_trees": .number(109), "criterion": .string("gini")],
                metrics: ["test_roc_auc": 0.8312], tags: ["tuned"], leaderboard: Self.leaderboard(chosenTrial: 9, blendChosen: false)),
            artifact: Data("a tuned forest".utf8), user: "test")
        #expect(tuned.ref.description == "churn@3")
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/version?model=churn&version=3")
            #expect(page.status == .ok)
            let html = page.text
            #expect(html.contains(#"<h2 id="leaderboard-title">Leaderboard</h2>"#))
            #expect(
                html.contains(
                    #"<p id="leaderboard-summary">5-fold cross-validation on 900 training rows (never the held-back test rows): 12 configurations of random_forest, lstm_attention tried in 17.5 s, within a budget of 20 s. Stopped by the budget, before the plan&#39;s 30 trials.</p>"#),
                "\(html)")
            #expect(html.contains("<caption>The best 10 of 12 configurations, best cross-validated ROC-AUC first</caption>"))

            let rows = try Self.rows(of: "leaderboard", in: html)
            #expect(rows.count == 10, "the best ten of twelve")
            #expect(rows.map { $0.cells[0] } == (1...10).map { "\($0)" })
            // Rank 1: trial 3, its numbers as the leaderboard has them.
            #expect(
                rows[0].cells == [
                    "1", "3", "random_forest", "2", "0.8500 ± 0.0120", "0.4000", "0.25",
                    "<code>criterion=gini</code> <code>max_features=0.35</code> <code>n_trees=103</code> ",
                ], "\(rows[0].cells)")
            // Rank 5: the lstm's trial 5, at rung 0.
            #expect(rows[4].cells == ["5", "5", "lstm_attention", "0", "0.8100 ± 0.0160", "0.4400", "1.25", "<code>epochs=4</code> "])
            // The registered trial (9, second) is marked, and only it.
            #expect(rows[1].tag == #"<tr class="registered""#)
            #expect(rows[1].cells[1] == #"9 <span class="badge registered">registered</span>"#)
            #expect(rows.filter { $0.tag.contains("registered") }.count == 1)
            #expect(html.components(separatedBy: #"class="badge registered""#).count == 2)
            // Trial 1 was the forest's defaults.
            #expect(rows[2].cells[1] == "1")
            #expect(rows[2].cells[7].hasPrefix(#"<span class="badge defaults">defaults</span> <code>criterion=gini</code>"#))
            #expect(rows.filter { $0.cells[7].contains("badge defaults") }.count == 1)
            // Trial 4's hostile value is text, never markup.
            #expect(rows[3].cells[7].contains("<code>criterion=&lt;script&gt;alert(1)&lt;/script&gt;</code>"), "\(rows[3].cells[7])")
            #expect(!html.contains(Self.hostile))
            #expect(!html.contains("<script>alert"))
            // The blend it weighed, and that it lost to the best single model.
            #expect(
                html.contains(
                    #"<p id="leaderboard-blend">Blend: trial 9 (random_forest) × 0.70 + trial 5 (lstm_attention) × 0.30 · nested-CV ROC-AUC 0.8432 ± 0.0151 · no better than the best single model</p>"#),
                "\(html)")
            // The version itself.
            #expect(html.contains(#"<td id="version-params"><code>criterion=gini</code> <code>n_trees=109</code> </td>"#))
            #expect(html.contains("<td>0.831</td>"), "the held-back ROC-AUC")

            // In Korean, the same table in Korean.
            let korean = try await browser.get("/version?model=churn&version=3&lang=ko").text
            #expect(korean.contains(#"<h2 id="leaderboard-title">리더보드</h2>"#))
            #expect(korean.contains(#"9 <span class="badge registered">등록됨</span>"#))
            #expect(korean.contains("최고의 단일 모델보다 낫지 않음"))
            #expect(korean.contains("학습 행 900개에 대한 5겹 교차 검증"))
            _ = try await browser.get("/models?lang=en")

            // The dashboard links each version to its page; a version not tuned has no leaderboard.
            let dashboard = try await browser.get("/models").text
            #expect(dashboard.contains(#"<td><a href="/version?model=churn&amp;version=3">churn@3</a></td>"#))
            let forest = try await browser.get("/version?model=churn&version=1")
            #expect(forest.status == .ok)
            #expect(forest.text.contains(#"<td id="version-kind">random_forest</td>"#))
            #expect(!forest.text.contains(#"id="leaderboard""#))
            #expect(forest.text.contains("<code>n_trees=40</code>"))
            // No such version: a 404 that says so.
            let missing = try await browser.get("/version?model=churn&version=99")
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("No version churn@99 in the registry"))
            #expect(try await browser.get("/version?model=churn&version=x").status == .notFound)
        }
        try await harness.stop()
    }

    @Test func aBlendShowsItsMembersAsLinksToTheirVersionsWithTheirWeights() async throws {
        let harness = try await WebHarness.start()
        let registry = try ModelRegistry(path: harness.root + "/home/registry.sqlite")
        // churn@3: a blend of churn@1 (the forest) and churn@2 (the attention model), chosen
        // because it beat the best single configuration (no trial registered on its own).
        let members = [
            BlendMember(version: 1, kind: "random_forest", weight: 0.6, sha256: String(repeating: "a", count: 64)),
            BlendMember(version: 2, kind: "lstm_attention", weight: 0.4, sha256: String(repeating: "b", count: 64)),
        ]
        let blend = try await registry.register(
            ModelRegistration(
                name: "churn", kind: "blend", pluginVersion: "1",
                params: ["members": .array(members.map { .object(["version": .number(Double($0.version)), "kind": .string($0.kind), "weight": .number($0.weight)]) })],
                leaderboard: Self.leaderboard(chosenTrial: nil, blendChosen: true), members: members),
            artifact: Data("a blend manifest".utf8), user: "test")
        #expect(blend.ref.description == "churn@3")
        let links =
            #"blend: <a href="/version?model=churn&amp;version=1" class="member">churn@1</a> (random_forest) × 0.60 + <a href="/version?model=churn&amp;version=2" class="member">churn@2</a> (lstm_attention) × 0.40"#
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/version?model=churn&version=3")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<td id="version-kind">"# + links + "</td>"), "\(page.text)")
            #expect(!page.text.contains(#"id="version-params""#), "a blend's params are its members, shown as links")
            // No trial was registered on its own: none is marked; the blend was.
            #expect(!page.text.contains(#"class="badge registered""#))
            #expect(page.text.contains("nested-CV ROC-AUC 0.8432 ± 0.0151 · <strong>registered as this version</strong>"))
            // The dashboard's list shows the members beside the kind (models.list carries them).
            let dashboard = try await browser.get("/models").text
            #expect(dashboard.contains("<td>" + links + "</td>"), "\(dashboard)")
            // A member's link opens its version.
            let member = try await browser.get("/version?model=churn&version=2")
            #expect(member.status == .ok)
            #expect(member.text.contains(#"<td id="version-kind">lstm_attention</td>"#))
        }
        try await harness.stop()
    }
}
