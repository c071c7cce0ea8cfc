import ChurnClient
import ChurnProtocol
import Foundation
import HummingbirdTesting
import Testing

@testable import ChurnWeb

/// The dashboard's champion changes against a real daemon: only changes churnd would accept are
/// offered, and one it refuses anyway (a stale page) is said on the dashboard, in its language.
@Suite("Web UI champion changes", .serialized)
struct WebModelActionsTests {


    @Test func rollingBackIsOfferedOnlyWhenTheChampionHasAnEarlierVersion() async throws {
        let harness = try await WebHarness.start()
        // A model name with a version and no champion.
        let admin = try await harness.client()
        _ = try await admin.train(
            TrainParams(kind: "random_forest", data: harness.root + "/train.csv", params: ["n_trees": .number(10)], seed: 1, name: "spare"))
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            // churn@1 was the first champion: there is nothing before it.
            #expect(!(try await browser.get("/models").text.contains(#"id="rollback""#)))
            #expect(!(try await browser.get("/models?model=spare").text.contains(#"id="rollback""#)), "no champion, nothing to roll back")
            // Promoted from the page: going back to 1 is offered, and names where it goes.
            let promoted = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion", "confirm": "yes"])
            #expect(promoted.status == .seeOther && promoted.location == "/models?model=churn")
            let offered = try await browser.get("/models")
            #expect(offered.text.contains(#"<button id="rollback">Roll back champion to version 1</button>"#))
            #expect(!offered.text.contains(#"<input type="hidden" name="version" value="churn@2"><input type="hidden" name="alias" value="champion">"#), "the champion is not offered as champion again")
            let rolledBack = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "model": "churn", "confirm": "yes"])
            #expect(rolledBack.status == .seeOther)
            #expect(try await admin.model("champion").version == 1)
            // 1 again, as first promoted: nothing further back.
            #expect(!(try await browser.get("/models").text.contains(#"id="rollback""#)))
            // Twice promoted, once rolled back: the rollback goes where the registry's would.
            _ = try await admin.promote("2")
            _ = try await admin.promote("1")
            _ = try await admin.rollback()
            #expect(try await browser.get("/models").text.contains("Roll back champion to version 1"), "2 was promoted over 1")
        }
        await admin.close()
        try await harness.stop()
    }

    @Test func aRefusedChangeIsSaidOnTheDashboardItCameFromInItsLanguage() async throws {
        let harness = try await WebHarness.start()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            _ = try await browser.get("/models?lang=ko")
            // A rollback from a stale page: the champion has nothing to go back to.
            let refused = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "model": "churn"])
            #expect(refused.status == .seeOther)
            let location = try #require(refused.location)
            #expect(location == "/models?model=churn")
            let page = try await browser.get(location)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<p class="error" id="refusal">챔피언 롤백: 챔피언에 되돌아갈 이전 버전이 없습니다.</p>"#), "\(page.text.prefix(3000))")
            #expect(!(try await browser.get("/models").text.contains(#"id="refusal""#)), "said once")
            // In English, the same refusal in English.
            _ = try await browser.get("/models?lang=en")
            _ = try await browser.post("/models/rollback", form: ["csrf": try await WebPages.csrf(browser), "model": "churn"])
            #expect(try await browser.get("/models").text.contains("Roll back champion: the champion has no earlier version to go back to."))
        }
        try await harness.stop()
    }

    @Test func whileAnExperimentRunsTheChampionAndChallengerStayPut() async throws {
        let harness = try await WebHarness.start()
        let admin = try await harness.client()
        let experiment = try await admin.startExperiment(challenger: "2", mode: .shadow)
        await admin.close()
        try await harness.app.application().test(.router) { client in
            let browser = CookieBrowser(client)
            try await WebPages.signIn(browser)
            let page = try await browser.get("/models")
            #expect(!page.text.contains(#"action="/models/promote""#), "no promotion is offered")
            #expect(!page.text.contains(#"id="rollback""#))
            #expect(page.text.contains(#"id="changes-blocked""#) && page.text.contains("Experiment \(experiment.id) is comparing"))
            // A stale form posted from the Korean page: refused, and said there in Korean.
            _ = try await browser.get("/models?lang=ko")
            let refused = try await browser.post("/models/promote", form: ["csrf": try await WebPages.csrf(browser), "version": "churn@2", "alias": "champion", "confirm": "yes"])
            #expect(refused.status == .seeOther)
            let after = try await browser.get("/models")
            #expect(after.text.contains("챔피언으로 승격: 실험 \(experiment.id)이(가) 이 모델의 챔피언과 챌린저를 비교하고 있습니다"), "\(after.text.prefix(3000))")
        }
        try await harness.stop()
    }

    @Test func theRollbackTargetFollowsTheRegistrysRule() {
        func entry(_ action: AuditAction, _ from: Int?, _ to: Int?, alias: String = "champion", model: String = "churn") -> AuditRecord {
            AuditRecord(at: "", user: "u", action: action, model: model, fromVersion: from, toVersion: to, detail: alias + ": why")
        }
        // Newest first, as models.audit answers.
        let history = [entry(.rollback, 3, 2), entry(.promote, 2, 3), entry(.promote, 1, 2), entry(.promote, nil, 1)]
        #expect(ModelActions.rollbackTarget(of: "churn", alias: "champion", current: 2, versions: [1, 2, 3], audit: history) == 1)
        #expect(ModelActions.rollbackTarget(of: "churn", alias: "champion", current: 2, versions: [2, 3], audit: history) == nil, "1 was deleted")
        #expect(ModelActions.rollbackTarget(of: "churn", alias: "champion", current: 1, versions: [1, 2, 3], audit: [entry(.promote, nil, 1)]) == nil)
        // Another alias's or model's moves do not count.
        let other = [entry(.promote, 1, 2, alias: "challenger"), entry(.promote, 4, 2, model: "prepaid"), entry(.promote, nil, 2)]
        #expect(ModelActions.rollbackTarget(of: "churn", alias: "champion", current: 2, versions: [1, 2, 4], audit: other) == nil)
        #expect(ModelActions.rollbackTarget(of: "churn", alias: "champion", current: nil, versions: [1], audit: history) == nil)
    }
}
