import Foundation

/// The UI's languages.
enum Language: String, Sendable, CaseIterable {
    case english = "en"
    case korean = "ko"

    /// The language a request asks for: `?lang=`, then the `churn_lang` cookie, then the first of
    /// ours in `Accept-Language` by quality, else English.
    static func negotiate(query: String?, cookie: String?, acceptLanguage: String?) -> Language {
        if let query, let language = Language(rawValue: query) { return language }
        if let cookie, let language = Language(rawValue: cookie) { return language }
        guard let acceptLanguage else { return .english }
        let ranked = acceptLanguage.split(separator: ",").enumerated().compactMap { position, part -> (Language, Double, Int)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), let language = Language(rawValue: String(tag.prefix(2))) else { return nil }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return (language, quality, position)
        }
        return ranked.sorted { ($0.1, -$0.2) > ($1.1, -$1.2) }.first?.0 ?? .english
    }
}

/// Every UI string in English and Korean, by key.
enum WebStrings {
    static func table(_ language: Language) -> [String: String] {
        var table: [String: String] = [:]
        for (key, pair) in strings { table[key] = language == .korean ? pair.1 : pair.0 }
        return table
    }

    /// The table as Mustache wants it: `nav.dashboard` becomes `t.nav.dashboard`.
    static func nested(_ language: Language) -> [String: Any] {
        var nested: [String: Any] = [:]
        for (key, value) in table(language) {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                var group = nested[parts[0]] as? [String: String] ?? [:]
                group[parts[1]] = value
                nested[parts[0]] = group
            } else {
                nested[key] = value
            }
        }
        return nested
    }

    static func text(_ key: String, _ language: Language) -> String {
        guard let pair = strings[key] else { return key }
        return language == .korean ? pair.1 : pair.0
    }

    /// The text of `key`, or `fallback` when there is none (an alias or status the UI does not
    /// name, shown as it is).
    static func text(_ key: String, _ language: Language, or fallback: String) -> String {
        guard let pair = strings[key] else { return fallback }
        return language == .korean ? pair.1 : pair.0
    }

    private static let strings: [String: (String, String)] = [
        "app": ("churn", "churn"),
        "nav.dashboard": ("Dashboard", "대시보드"),
        "nav.predict": ("Prediction", "예측"),
        "nav.retention": ("Retention", "고객 유지"),
        "nav.logout": ("Sign out", "로그아웃"),
        "nav.language": ("한국어", "English"),
        "login.title": ("Sign in", "로그인"),
        "login.user": ("User", "사용자"),
        "login.password": ("Password", "비밀번호"),
        "login.submit": ("Sign in", "로그인"),
        "login.failed": ("Wrong user or password.", "사용자 또는 비밀번호가 올바르지 않습니다."),
        "login.limited_user": (
            "Too many failed sign-ins for this user. Try again in {minutes} minutes.",
            "이 사용자의 로그인 실패가 너무 많습니다. {minutes}분 후에 다시 시도하세요."
        ),
        "login.limited_address": (
            "Too many failed sign-ins from your address. Try again in {minutes} minutes.",
            "이 주소에서 로그인 실패가 너무 많습니다. {minutes}분 후에 다시 시도하세요."
        ),
        "login.link_used": (
            "This sign-in link was already used: each link signs in once. Sign in with the user and the password printed beside it.",
            "이 로그인 링크는 이미 사용되었습니다: 링크는 한 번만 로그인할 수 있습니다. 링크와 함께 출력된 사용자와 비밀번호로 로그인하세요."
        ),
        "login.link_expired": (
            "This sign-in link has expired: links work for 5 minutes. Sign in with the user and the password printed beside it.",
            "이 로그인 링크는 만료되었습니다: 링크는 5분 동안만 유효합니다. 링크와 함께 출력된 사용자와 비밀번호로 로그인하세요."
        ),
        "login.link_unknown": (
            "This sign-in link is not valid (links end when churn web restarts). Sign in with your user and password.",
            "유효하지 않은 로그인 링크입니다 (churn web을 다시 시작하면 링크가 무효가 됩니다). 사용자와 비밀번호로 로그인하세요."
        ),
        "error.daemon": ("The daemon is not answering", "데몬이 응답하지 않습니다"),
        "error.daemon_access": ("The web UI may not use the daemon's socket", "웹 UI가 데몬 소켓을 사용할 권한이 없습니다"),
        "error.daemon_failed": ("The daemon could not answer", "데몬이 요청을 처리하지 못했습니다"),
        "error.daemon_start": ("Start it on this machine with", "이 컴퓨터에서 다음 명령으로 시작하세요:"),
        "dash.search_button": ("Search", "검색"),
        "dash.plugins_ready": ("plugins ready", "플러그인 준비됨"),
        "exp.arm": ("Arm", "그룹"),
        "exp.model": ("Model", "모델"),
        "exp.predictions": ("Predictions", "예측 수"),
        "exp.outcomes": ("With outcome", "결과 확인 수"),
        "exp.precision_top": ("Precision in the riskiest 10%", "위험 상위 10% 정밀도"),
        "exp.revenue_top": ("Churners' monthly revenue reached in the riskiest 10% (share of all churners')", "위험 상위 10%가 포함하는 이탈 고객 월 매출 (전체 이탈 고객 매출 대비)"),
        "verdict.better": ("Challenger better:", "챌린저가 더 우수함:"),
        "verdict.worse": ("Challenger worse:", "챌린저가 더 나쁨:"),
        "verdict.undecided": ("Not yet distinguishable:", "아직 구별할 수 없음:"),
        "verdict.too_few": ("Not enough outcomes yet:", "결과가 아직 부족함:"),
        "verdict.too_few_detail": ("a verdict needs 30 outcomes with at least 5 churners in each arm.", "판정하려면 그룹마다 이탈 고객 5명 이상을 포함한 결과 30건이 필요합니다."),
        "audit.register": ("registered", "등록"),
        "audit.import": ("imported", "가져오기"),
        "audit.promote": ("promoted", "승격"),
        "audit.rollback": ("rolled back", "롤백"),
        "audit.delete": ("deleted", "삭제"),
        "axis.fpr": ("false positive rate", "거짓 양성 비율"),
        "axis.tpr": ("true positive rate", "참 양성 비율"),
        "axis.points": ("points", "점 수"),
        "axis.predicted": ("predicted churn probability", "예측 이탈 확률"),
        "axis.observed": ("observed churn rate", "실제 이탈 비율"),
        "dash.reliability": ("Reliability of served probabilities (held-back test set)", "제공 확률의 신뢰도 (보류 테스트 세트)"),
        "dash.perfect": ("perfectly calibrated", "완벽한 보정"),
        "dash.calibration_method": ("calibration", "보정 방법"),
        "dash.ece": ("ECE before → served", "ECE 보정 전 → 제공"),
        "axis.importance": ("importance", "중요도"),
        "axis.trees": ("trees", "트리 수"),
        "axis.epoch": ("epoch", "에포크"),
        "axis.log_loss": ("log loss", "로그 손실"),
        "axis.series": ("series", "계열"),
        "unit.points": ("pts", "%p"),
        "error.csrf": ("This form has expired or did not come from this site. Reload the page and try again.", "양식이 만료되었거나 이 사이트에서 온 것이 아닙니다. 페이지를 새로 고친 후 다시 시도하세요."),
        "error.notfound": ("No such page.", "페이지가 없습니다."),
        "synthetic": ("Synthetic data: generated by churn, not real customers.", "합성 데이터: churn이 생성한 가상 고객입니다."),
        "dash.title": ("Customers at risk", "이탈 위험 고객"),
        "models.title": ("Models", "모델"),
        "status.running": ("running", "진행 중"),
        "status.stopped": ("stopped", "중지됨"),
        "said.register": ("registered {model} {to} ({kind})", "{model} {to} 등록 ({kind})"),
        "said.import": ("imported {model} {to} ({kind})", "{model} {to} 가져오기 ({kind})"),
        "said.promote": ("made {model} {to} the {alias} (was {from})", "{model} {to}을(를) {alias}(으)로 지정 (이전: {from})"),
        "said.challenger_cleared": ("{model} {to} stopped being the challenger: it became the champion", "{model} {to}은(는) 챔피언이 되어 챌린저에서 해제됨"),
        "said.rollback": ("rolled {model}'s {alias} back from {from} to {to}", "{model}의 {alias}을(를) {from}에서 {to}(으)로 롤백"),
        "said.delete": ("deleted {model} {version}", "{model} {version} 삭제"),
        "ret.threshold_input": ("At risk from", "위험 기준"),
        "gain.heading": ("How many to contact", "몇 명에게 연락할까"),
        "gain.title": ("Gain: what contacting the riskiest first reaches", "이득: 위험 순으로 연락할 때 도달하는 비율"),
        "gain.churners": ("expected churners reached", "도달한 이탈 예상 고객"),
        "gain.revenue": ("revenue at risk reached", "도달한 위험 매출"),
        "gain.at_risk": ("at-risk threshold", "위험 기준"),
        "gain.contacts": ("contacts within the budget", "예산 내 연락"),
        "gain.contacted": ("share of customers still with us contacted, riskiest first", "위험 순으로 연락한 현재 고객 비율"),
        "gain.reached": ("share reached", "도달 비율"),
        "gain.note": ("Customers still with us, riskiest first: the at-risk threshold takes the first {at_risk}. The budget's contact list (ranked by value kept) is {contacts} of them and reaches {reach} of the expected churners (the point). Expected churners are the sum of churn probabilities.", "현재 고객을 위험 순으로: 위험 기준은 상위 {at_risk}입니다. 예산 내 연락 목록(유지 가치 순)은 {contacts}이며 이탈 예상 고객의 {reach}에 도달합니다(점). 이탈 예상 고객은 이탈 확률의 합입니다."),
        "confusion.title": ("At the threshold, against who has left", "기준에서, 실제 이탈과 비교"),
        "confusion.note": ("Every customer in the file: churn probability ≥ {threshold} against the file's label (who has already left).", "파일의 모든 고객: 이탈 확률 ≥ {threshold} 와 파일의 레이블(이미 이탈한 고객) 비교."),
        "confusion.left": ("Left", "이탈"),
        "confusion.stayed": ("Stayed", "유지"),
        "confusion.at_risk": ("At risk", "위험"),
        "confusion.not_at_risk": ("Not at risk", "위험 아님"),
        "alias.champion": ("champion", "챔피언"),
        "alias.challenger": ("challenger", "챌린저"),
        "act.is_champion": ("already the champion", "이미 챔피언입니다"),
        "act.changed_meanwhile": ("the champion changed after the comparison was shown: look at it again", "비교를 보여 준 뒤 챔피언이 바뀌었습니다: 다시 확인하세요"),
        "act.is_challenger": ("already the challenger", "이미 챌린저입니다"),
        "act.champion_not_challenger": ("the champion cannot also be the challenger", "챔피언은 챌린저가 될 수 없습니다"),
        "confirm.promote_title": ("Promote {candidate} to champion?", "{candidate}을(를) 챔피언으로 승격할까요?"),
        "confirm.rollback_title": ("Roll the champion back to {candidate}?", "챔피언을 {candidate}(으)로 롤백할까요?"),
        "confirm.question": ("Every prediction that asks for the champion will be answered by {candidate} instead of {current}. Their held-back results:", "챔피언에 대한 모든 예측을 {current} 대신 {candidate}이(가) 답하게 됩니다. 보류 데이터 결과:"),
        "confirm.first": ("There is no champion yet: {candidate} will answer every prediction. Its held-back results:", "아직 챔피언이 없습니다: {candidate}이(가) 모든 예측에 답하게 됩니다. 보류 데이터 결과:"),
        "confirm.now": ("Now", "현재"),
        "confirm.after": ("After", "변경 후"),
        "confirm.yes_promote": ("Yes, promote", "예, 승격합니다"),
        "confirm.yes_rollback": ("Yes, roll back", "예, 롤백합니다"),
        "confirm.cancel": ("Cancel", "취소"),
        "confirm.measure": ("Held-back measure", "보류 데이터 지표"),
        "confirm.ece": ("Calibration error of served probabilities (ECE, lower is better)", "제공 확률의 보정 오차 (ECE, 낮을수록 좋음)"),
        "confirm.higher_better": ("higher is better", "높을수록 좋음"),
        "done.promoted": ("{candidate} is now the champion (was {previous}).", "{candidate}이(가) 이제 챔피언입니다 (이전: {previous})."),
        "done.challenger": ("{candidate} is now the challenger.", "{candidate}이(가) 이제 챌린저입니다."),
        "done.rolled_back": ("The champion is back to {candidate} (was {previous}).", "챔피언이 {candidate}(으)로 돌아갔습니다 (이전: {previous})."),
        "nav.models": ("Models", "모델"),
        "dash.at_risk": ("Customers at risk", "위험 고객"),
        "dash.of_still_with_us": ("of {count} still with us", "현재 고객 {count}명 중"),
        "dash.revenue_at_risk": ("Monthly revenue at risk", "위험 월 매출"),
        "dash.revenue_detail": ("Σ risk × monthly bill over the customers at risk", "위험 고객의 Σ 위험 × 월 요금"),
        "dash.churn_rate": ("Churn rate in the customer file", "고객 파일의 이탈률"),
        "dash.churn_rate_feedback": ("Churn rate from feedback", "피드백 기준 이탈률"),
        "dash.churn_rate_month": ("{churned} of {outcomes} outcomes in {month} churned", "{month} 결과 {outcomes}건 중 {churned}건 이탈"),
        "dash.trend_up": ("up {points} pts on {month}", "{month} 대비 {points}%p 상승"),
        "dash.trend_down": ("down {points} pts on {month}", "{month} 대비 {points}%p 하락"),
        "dash.trend_flat": ("level with {month}", "{month}과 비슷함"),
        "dash.churn_rate_detail": ("{left} of {all} customers have left", "{all}명 중 {left}명 이탈"),
        "dash.contacts": ("Contacts recommended", "추천 연락 고객"),
        "dash.contacts_detail": ("expected to keep {kept} a month for {spend}", "월 {spend}로 월 {kept} 유지 예상"),
        "dash.contacts_detail_count": ("expected to keep {kept} churners", "이탈 예상 고객 {kept}명 유지 예상"),
        "dash.within_budget": ("within a budget of {budget} a month", "월 예산 {budget} 이내"),
        "dash.no_budget": ("every offer worth its cost (no budget set)", "비용보다 가치 있는 모든 제안 (예산 없음)"),
        "dash.budget": ("Monthly budget for offers", "제안 월 예산"),
        "dash.apply": ("Apply", "적용"),
        "dash.first_contacts": ("Contact first", "먼저 연락할 고객"),
        "dash.all_contacts": ("The whole contact list, offers and segments →", "전체 연락 목록, 제안, 세그먼트 →"),
        "dash.months": ("What the months say", "월별 기록이 말하는 것"),
        "dash.riskiest_note": ("Customers still with us, riskiest first, scored by", "현재 고객을 위험 순으로, 평가 모델"),
        "dash.left": ("left", "이탈함"),
        "dash.daemon": ("Daemon", "데몬"),
        "dash.champion": ("Champion", "챔피언"),
        "dash.challenger": ("Challenger", "챌린저"),
        "dash.models": ("Model versions", "모델 버전"),
        "dash.version": ("Version", "버전"),
        "dash.kind": ("Kind", "종류"),
        "dash.created": ("Created", "생성"),
        "dash.aliases": ("Aliases", "별칭"),
        "dash.actions": ("Actions", "작업"),
        "dash.promote": ("Promote to champion", "챔피언으로 승격"),
        "dash.make_challenger": ("Make challenger", "챌린저로 지정"),
        "dash.rollback": ("Roll back champion", "챔피언 롤백"),
        "dash.rollback_to": ("Roll back champion to version {version}", "챔피언을 버전 {version}(으)로 롤백"),
        "act.experiment": (
            "Experiment {id} is comparing this model's champion and challenger: stop it first (churn experiment stop), then change them.",
            "실험 {id}이(가) 이 모델의 챔피언과 챌린저를 비교하고 있습니다: 먼저 실험을 중지한 후(churn experiment stop) 변경하세요."
        ),
        "act.nothing_to_roll_back": ("the champion has no earlier version to go back to.", "챔피언에 되돌아갈 이전 버전이 없습니다."),
        "act.no_champion": ("this model has no champion yet.", "이 모델에는 아직 챔피언이 없습니다."),
        "act.no_version": ("that version is no longer in the registry: reload the page.", "해당 버전이 더 이상 레지스트리에 없습니다: 페이지를 새로 고치세요."),
        "act.not_admin": (
            "the web UI's Unix user may not change models: an administrator can give it churnd's admin role (churnd --admin-user or --admin-group).",
            "웹 UI의 Unix 사용자는 모델을 변경할 수 없습니다: 관리자가 churnd의 관리자 역할을 부여할 수 있습니다 (churnd --admin-user 또는 --admin-group)."
        ),
        "act.refused": ("the daemon refused the change:", "데몬이 변경을 거부했습니다:"),
        "dash.compare": ("Latest version of each model kind", "모델 종류별 최신 버전 비교"),
        "dash.roc": ("ROC curves (held-back test set)", "ROC 곡선 (보류 테스트 세트)"),
        "dash.importance": ("Feature importance", "특성 중요도"),
        "dash.loss": ("Training curve", "학습 곡선"),
        "dash.distribution": ("Churn risk over the customer base", "고객 전체의 이탈 위험 분포"),
        "dash.riskiest": ("Riskiest customers", "이탈 위험이 가장 높은 고객"),
        "dash.search": ("Search by customer ID", "고객 ID로 검색"),
        "dash.experiment": ("Experiment", "실험"),
        "dash.no_experiment": ("No experiment is running.", "진행 중인 실험이 없습니다."),
        "dash.rescore": ("Score the customers again", "고객 다시 평가"),
        "dash.scored_by": ("Scored by", "평가 모델"),
        "dash.customers": ("customers", "명"),
        "dash.numbers": ("Numbers", "수치"),
        "dash.no_models": ("No model is registered yet: train one with `churn train`.", "등록된 모델이 없습니다: `churn train`으로 학습하세요."),
        "dash.no_champion": ("No champion yet: promote a version to score customers.", "챔피언이 없습니다: 버전을 승격해야 고객을 평가할 수 있습니다."),
        "dash.audit": ("Recent changes", "최근 변경"),
        "dash.page": ("Page", "페이지"),
        "dash.previous": ("Previous", "이전"),
        "dash.next": ("Next", "다음"),
        "dash.chart_missing": ("Charts need Chart.js: install it with `sudo apt-get install libjs-chart.js`. The numbers are shown as tables.", "차트에는 Chart.js가 필요합니다: `sudo apt-get install libjs-chart.js`로 설치하세요. 수치는 표로 표시됩니다."),
        "metric.accuracy": ("Accuracy", "정확도"),
        "metric.precision": ("Precision", "정밀도"),
        "metric.recall": ("Recall", "재현율"),
        "metric.f1": ("F1", "F1"),
        "metric.roc_auc": ("ROC-AUC", "ROC-AUC"),
        "col.customer": ("Customer", "고객"),
        "col.risk": ("Churn risk", "이탈 위험"),
        "pred.title": ("Churn prediction", "이탈 예측"),
        "pred.lookup": ("Look up a customer", "고객 조회"),
        "pred.lookup_button": ("Look up", "조회"),
        "pred.form": ("Or enter a customer", "또는 고객 정보 입력"),
        "pred.submit": ("Predict", "예측"),
        "pred.result": ("Result", "결과"),
        "pred.probability": ("Churn probability", "이탈 확률"),
        "pred.will_churn": ("likely to leave", "이탈 가능성 높음"),
        "pred.will_stay": ("likely to stay", "유지 가능성 높음"),
        "pred.answered_by": ("Answered by", "응답 모델"),
        "pred.arm": ("Arm", "그룹"),
        "pred.drivers": ("Why this risk", "위험의 이유"),
        "pred.reason": ("Reason", "이유"),
        "pred.drivers_note": (
            "What each field or month adds to the churn probability, in percentage points: + raises the risk, − lowers it.",
            "각 항목이나 월이 이탈 확률에 더하는 값(%p): +는 위험을 높이고 −는 낮춥니다."
        ),
        "pred.feature": ("Input", "입력"),
        "pred.effect": ("Effect on probability", "확률에 대한 영향"),
        "pred.months": ("The customer's months", "고객의 월별 기록"),
        "pred.period": ("Month", "월"),
        "pred.history": ("Months read", "사용한 월별 기록"),
        "pred.month_attention": ("Attention weight", "어텐션 가중치"),
        "pred.month_occlusion": ("What the month adds to the churn probability (with it − without it)", "해당 월이 이탈 확률에 더하는 값 (포함 − 제외)"),
        "pred.month_occlusion_note": (
            "Each bar is the churn probability with the month minus the probability without it, in percentage points: red, the month raises the risk; green, it lowers it.",
            "각 막대는 해당 월을 포함한 이탈 확률에서 제외한 확률을 뺀 값(%p)입니다: 빨간색은 그 달이 위험을 높이고, 초록색은 낮춥니다."
        ),
        "pred.month_attention_note": (
            "Each bar is the share of the model's attention the month received (the months add up to 100%): a taller bar weighed more in the prediction, whichever way it pushed.",
            "각 막대는 모델이 해당 월에 준 어텐션 비율입니다 (모든 월의 합은 100%): 막대가 높을수록 예측에 더 크게 반영된 달이며, 위험을 높였는지 낮췄는지는 나타내지 않습니다."
        ),
        "unit.points_axis": ("percentage points", "퍼센트포인트 (%p)"),
        "unit.attention_axis": ("% of attention", "어텐션 비율 (%)"),
        "history.inline": ("sent with the request", "요청과 함께 전송됨"),
        "history.stored": ("the daemon's stored months", "데몬에 저장된 월별 기록"),
        "history.none": ("none: scored on the customer's fields alone", "없음: 고객 필드만으로 예측"),
        "history.derived": ("derived from tenure and charges (not observed months)", "가입 기간과 요금에서 유도됨 (관측된 월 아님)"),
        "history.observed": ("observed months", "관측된 월별 기록"),
        "history.no_history": ("none", "없음"),
        "dash.history": ("History", "월별 기록"),
        "heat.note": ("Rows: the champion's riskiest customers still with us; columns: months, newest first; each cell on one scale. An empty cell is a month before the customer joined or without data.", "행: 챔피언 기준 위험이 가장 높은 현재 고객, 열: 최신 월부터. 각 칸은 하나의 척도를 사용합니다. 빈 칸은 가입 전이거나 데이터가 없는 달입니다."),
        "heat.scale": ("Scale:", "척도:"),
        "heat.empty": ("no month", "해당 월 없음"),
        "pred.fix": ("Fix the fields marked below.", "아래 표시된 항목을 수정하세요."),
        "pred.unknown_customer": ("No customer with that ID in the customer base.", "고객 목록에 해당 ID의 고객이 없습니다."),
        "ret.title": ("Retention solutions", "고객 유지 방안"),
        "ret.segments": ("At-risk segments", "위험 세그먼트"),
        "ret.size": ("Customers", "고객 수"),
        "ret.mean_risk": ("Mean risk", "평균 위험"),
        "ret.revenue": ("Monthly revenue at risk", "위험 월 매출"),
        "ret.reasons": ("Churn reasons seen", "확인된 이탈 사유"),
        "ret.no_reasons": ("Churn reasons show when the customer file's schema names a reason column.", "고객 파일의 스키마에 이탈 사유 열이 있으면 이탈 사유가 표시됩니다."),
        "ret.customers_kept": ("Churners kept (expected)", "유지되는 이탈 예상 고객 수"),
        "ret.inapplicable": ("Offers that do not fit this model's fields:", "이 모델의 필드에 맞지 않는 제안:"),
        "nav.model": ("Model", "모델"),
        "nav.show": ("Show", "보기"),
        "error.data": ("The customer data cannot be used", "고객 데이터를 사용할 수 없습니다"),
        "pred.form_schema": ("Fields of the schema of", "다음 모델의 스키마 필드:"),
        "form.yes": ("yes", "예"),
        "form.no": ("no", "아니요"),
        "form.id_rule": ("enter a customer ID of 1 to 64 characters", "1~64자의 고객 ID를 입력하세요"),
        "form.number": ("enter a number", "숫자를 입력하세요"),
        "form.got": ("got", "입력값:"),
        "ret.best": ("Best offer", "최적 제안"),
        "ret.actions": ("Recommended actions", "추천 조치"),
        "ret.method": ("A what-if simulation, not a measured effect: each offer is applied to every at-risk customer's record it fits and scored again by the champion (trained on observational data); for the share assumed to accept, the drop in risk times the monthly bill, less the offer's cost for those who stay, is the revenue it keeps.", "측정된 효과가 아닌 가상 시뮬레이션입니다: 각 제안을 해당되는 모든 위험 고객의 기록에 적용한 뒤 (관찰 데이터로 학습한) 챔피언 모델로 다시 평가합니다. 수락한다고 가정한 비율에 대해 위험 감소분 × 월 요금에서 유지 고객의 제안 비용을 뺀 값이 유지되는 매출입니다."),
        "ret.action": ("Offer", "제안"),
        "ret.eligible": ("At-risk customers it fits", "해당 위험 고객"),
        "ret.drop": ("Mean drop in risk", "평균 위험 감소"),
        "ret.kept": ("Monthly revenue kept", "유지 월 매출"),
        "ret.at_risk": ("{count} customers at risk, still with us", "위험 고객 {count}명 (현재 고객)"),
        "ret.threshold": ("at risk: churn probability ≥ {threshold}", "위험 기준: 이탈 확률 ≥ {threshold}"),
        "ret.accepts": ("{share} assumed to accept", "수락 가정 {share}"),
        "ret.contacts_summary": ("{contacts} of the {at_risk} customers at risk have an eligible offer worth its cost within the budget: expected to keep {kept} a month for {spend} a month", "위험 고객 {at_risk}명 중 {contacts}명에게 예산 안에서 비용보다 가치 있는 적격 제안이 있습니다: 월 {spend}로 월 {kept} 유지 예상"),
        "ret.uplift_not_better": ("Uplift model {model} is not yet better than ranking by risk on held-back campaign customers, so the list is ranked by the what-if simulation", "업리프트 모델 {model}은 보류된 캠페인 고객에서 아직 위험 순 정렬보다 낫지 않아, 목록은 가상 시뮬레이션으로 정렬됩니다"),
        "ret.by_risk": ("by risk", "위험 순"),
        "ret.uplift_untested": ("Uplift model {model} was trained before its held-back Qini was compared with ranking by risk: retrain it (churn campaign uplift) to test it; until then the list is ranked by the what-if simulation", "업리프트 모델 {model}은 보류 Qini를 위험 순 정렬과 비교하기 전에 학습되었습니다: 검증하려면 다시 학습하세요 (churn campaign uplift). 그때까지 목록은 가상 시뮬레이션으로 정렬됩니다"),
        "mode.ab": ("A/B", "A/B"),
        "mode.shadow": ("shadow", "섀도"),
        "health.ok": ("ok", "정상"),
        "health.degraded": ("degraded", "저하됨"),
        "ret.gain": ("gain 95%", "차이 95%"),
        "ret.other_segments": ("{count} smaller segments", "작은 세그먼트 {count}개"),
        "ret.segments_note": ("The customers at risk, by segment: the revenue at risk adds up to the headline's.", "위험 고객을 세그먼트별로 나눈 것입니다: 위험 매출의 합은 상단의 값과 같습니다."),
        "ret.reasons_words": ("Why at risk", "위험 이유"),
        "ret.revenue_over": ("monthly revenue at risk over them (Σ risk × monthly bill)", "이들의 위험 월 매출 (Σ 위험 × 월 요금)"),
        "ret.bills": ("their monthly bills", "이들의 월 요금 합계"),
        "ret.already_left": ("customers have already left (the file's label): not targeted", "명의 고객이 이미 이탈함 (파일의 레이블): 대상에서 제외"),
        "ret.already_left_at_risk": ("of them scored at risk", "명은 위험으로 평가됨"),
        "ret.cost": ("Monthly cost per customer who stays", "유지 고객당 월 비용"),
        "ret.of_bill": ("of the bill", "요금의"),
        "ret.acceptance": ("Assumed acceptance", "가정 수락률"),
        "ret.targets": ("Whom to contact", "연락할 고객"),
        "ret.campaigns": ("Campaigns and their measured effect", "캠페인과 측정된 효과"),
        "ret.campaign_status": ("Status", "상태"),
        "ret.campaign_arms": ("Treated / control", "처리 / 대조"),
        "ret.churn_treated": ("Churn treated (95%)", "처리군 이탈률 (95%)"),
        "ret.churn_control": ("Churn control (95%)", "대조군 이탈률 (95%)"),
        "ret.uplift": ("Uplift, points (95%)", "향상, 포인트 (95%)"),
        "ret.no_campaigns": ("No campaign yet: start one from the target list (churn campaign start --targets FILE); 20% is held back at random to measure the offer's effect.", "아직 캠페인이 없습니다: 대상 목록에서 시작하세요 (churn campaign start --targets FILE). 제안의 효과를 측정하기 위해 20%를 무작위로 제외합니다."),
        "ret.targets_note": ("ranked by the value kept (a what-if simulation)", "유지 가치 순 (가상 시뮬레이션)"),
        "ret.export_csv": ("Export all as CSV", "전체를 CSV로 내보내기"),
        "ret.customer": ("Customer", "고객"),
        "ret.risk": ("Risk", "위험"),
        "ret.bill": ("Monthly bill", "월 요금"),
        "ret.value": ("Expected monthly revenue kept, net of cost", "비용을 뺀 예상 유지 월 매출"),
        "ret.targets_note_uplift": ("ranked by predicted uplift (churn without the offer minus churn with it) learned from a campaign's treated and control groups, shown better than ranking by risk: measured evidence, not a simulation", "캠페인의 처리군과 대조군에서 학습한 예측 업리프트(제안이 없을 때의 이탈 확률 − 제안 시 이탈 확률) 순이며 위험 순 정렬보다 나음이 확인됨: 시뮬레이션이 아닌 측정된 근거"),
        "ret.uplift_source": ("Uplift model", "업리프트 모델"),
        "ret.campaign": ("campaign", "캠페인"),
        "ret.qini": ("held-back Qini (0 = random, 1 = best possible)", "보류 Qini (0 = 무작위, 1 = 최선)"),
        "ret.no_uplift": ("No uplift model yet: once a campaign has outcomes, `churn campaign uplift CAMPAIGN --data FILE` trains one and the list is ranked by measured evidence.", "아직 업리프트 모델이 없습니다: 캠페인 결과가 들어오면 `churn campaign uplift CAMPAIGN --data FILE` 로 학습하며, 그 후 목록은 측정된 근거로 정렬됩니다."),
        "ret.no_targets": ("No at-risk customer has an offer expected to keep more than it costs.", "비용보다 더 많이 유지할 것으로 예상되는 제안이 있는 위험 고객이 없습니다."),
        "ver.title": ("Model version", "모델 버전"),
        "ver.back": ("Back to the dashboard", "대시보드로 돌아가기"),
        "ver.created_by": ("by", "등록자"),
        "ver.params": ("Hyperparameters", "하이퍼파라미터"),
        "ver.notes": ("Notes", "메모"),
        "ver.tags": ("Tags", "태그"),
        "ver.metrics": ("Held-back test set", "보류 테스트 세트"),
        "ver.not_found": ("No version {ref} in the registry: it may have been deleted. The dashboard lists the versions there are.", "레지스트리에 {ref} 버전이 없습니다: 삭제되었을 수 있습니다. 있는 버전은 대시보드에 나열됩니다."),
        "lb.title": ("Leaderboard", "리더보드"),
        "lb.summary": (
            "{folds}-fold cross-validation on {rows} training rows (never the held-back test rows): {tried} configurations of {kinds} tried in {seconds} s, within a budget of {budget} s.",
            "학습 행 {rows}개에 대한 {folds}겹 교차 검증 (보류 테스트 행은 사용하지 않음): {kinds}의 구성 {tried}개를 {seconds}초 동안 시도함 (예산 {budget}초)."
        ),
        "lb.stopped_budget": ("Stopped by the budget, before the plan's {planned} trials.", "계획된 {planned}개 시도를 마치기 전에 예산이 소진되어 중단됨."),
        "lb.stopped_cancelled": ("Cancelled, before the plan's {planned} trials.", "계획된 {planned}개 시도를 마치기 전에 취소됨."),
        "lb.stopped_other": ("Stopped early: {reason}.", "일찍 중단됨: {reason}."),
        "lb.completed": ("The whole plan ran.", "계획을 모두 실행함."),
        "lb.top": ("The best {shown} of {total} configurations, best cross-validated ROC-AUC first", "구성 {total}개 중 상위 {shown}개, 교차 검증 ROC-AUC가 높은 순"),
        "lb.rank": ("#", "#"),
        "lb.trial": ("Trial", "시도"),
        "lb.rung": ("Rung", "단계"),
        "lb.cv_auc": ("CV ROC-AUC ± spread", "CV ROC-AUC ± 편차"),
        "lb.log_loss": ("Log loss (out of fold)", "로그 손실 (폴드 외)"),
        "lb.fold_seconds": ("Seconds per fold", "폴드당 초"),
        "lb.params": ("Hyperparameters", "하이퍼파라미터"),
        "lb.registered": ("registered", "등록됨"),
        "lb.defaults": ("defaults", "기본값"),
        "lb.blend": ("Blend", "블렌드"),
        "lb.blend_member": ("trial {trial} ({kind}) × {weight}", "시도 {trial} ({kind}) × {weight}"),
        "lb.nested_auc": ("nested-CV ROC-AUC", "중첩 CV ROC-AUC"),
        "lb.blend_registered": ("registered as this version", "이 버전으로 등록됨"),
        "lb.blend_not_better": ("no better than the best single model", "최고의 단일 모델보다 낫지 않음"),
    ]
}
