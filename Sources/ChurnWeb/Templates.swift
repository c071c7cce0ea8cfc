import Mustache

/// The pages, as Mustache templates rendered on the server. `{{x}}` escapes HTML; `{{{x}}}` is
/// only used for JSON the app wrote itself (with `</` escaped).
enum Templates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in all { try library.register(text, named: name) }
        return library
    }

    static let all: [String: String] = [
        "head": head, "foot": foot, "blend_members": blendMembers, "login": login, "message": message, "dashboard": dashboard, "models": models,
        "predict": predict, "retention": retention, "version": version, "contact_rows": contactRows, "confirm": confirm, "chart_grid": chartGrid,
    ]

    static let head = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · churn</title>
        <link rel="stylesheet" href="/assets/app.css">
        </head>
        <body>
        <header>
          <strong>churn</strong>
          {{#user}}
          <nav>
            <a href="/?model={{model}}{{plan_query}}" {{#nav_dashboard}}aria-current="page"{{/nav_dashboard}}>{{t.nav.dashboard}}</a>
            <a href="/retention?model={{model}}{{plan_query}}" {{#nav_retention}}aria-current="page"{{/nav_retention}}>{{t.nav.retention}}</a>
            <a href="/predict?model={{model}}" {{#nav_predict}}aria-current="page"{{/nav_predict}}>{{t.nav.predict}}</a>
            <a href="/models?model={{model}}" {{#nav_models}}aria-current="page"{{/nav_models}}>{{t.nav.models}}</a>
          </nav>
          {{#several_models}}<form method="get" class="inline" id="model-switch"><label>{{t.nav.model}} <select name="model">{{#model_names}}<option {{#selected}}selected{{/selected}}>{{name}}</option>{{/model_names}}</select></label> <button>{{t.nav.show}}</button></form>{{/several_models}}
          {{/user}}
          <span class="spacer"></span>
          <a href="?lang={{other_lang}}" id="language">{{t.nav.language}}</a>
          {{#user}}
          <span class="user">{{user}}</span>
          <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button id="logout">{{t.nav.logout}}</button></form>
          {{/user}}
        </header>
        <main>
        {{#synthetic}}<p class="note synthetic">{{t.synthetic}}</p>{{/synthetic}}
        {{#daemon_error}}<div class="error" id="daemon-error"><p><strong>{{t.error.daemon}}</strong> ({{daemon_error}})</p><p>{{t.error.daemon_start}} <code>churn serve --socket {{socket}}</code></p></div>{{/daemon_error}}
        {{#daemon_access}}<p class="error" id="daemon-access"><strong>{{t.error.daemon_access}}</strong> ({{daemon_access}})</p>{{/daemon_access}}
        {{#daemon_failure}}<p class="error" id="daemon-failure">{{t.error.daemon_failed}}: {{daemon_failure}}</p>{{/daemon_failure}}
        {{#data_problem}}<p class="error" id="data-problem">{{t.error.data}}: {{data_problem}}</p>{{/data_problem}}
        {{#notice}}<p class="notice">{{notice}}</p>{{/notice}}
        """

    static let foot = """
        </main>
        {{#charts_json}}<script type="application/json" id="churn-charts">{{{charts_json}}}</script>{{/charts_json}}
        {{#chart_js}}<script src="/assets/chart.min.js"></script>{{/chart_js}}
        <script src="/assets/charts.js"></script>
        </body>
        </html>
        """

    static let login = """
        {{> head}}
        <section class="narrow">
        <h1>{{t.login.title}}</h1>
        {{#failed}}<p class="error" id="login-failed">{{t.login.failed}}</p>{{/failed}}
        {{#limited}}<p class="error" id="login-limited">{{limited}}</p>{{/limited}}
        {{#link_refused}}<p class="error" id="link-refused">{{link_refused}}</p>{{/link_refused}}
        <form method="post" action="/login">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="next" value="{{next}}">
          <label>{{t.login.user}} <input name="user" autocomplete="username" required value="{{entered_user}}"></label>
          <label>{{t.login.password}} <input name="password" type="password" autocomplete="current-password" required></label>
          <button type="submit">{{t.login.submit}}</button>
        </form>
        </section>
        {{> foot}}
        """

    /// The page's charts in a grid, each with its numbers as a table (open without Chart.js).
    static let chartGrid = """
        <div class="grid">
        {{#charts}}
          <figure><figcaption>{{title}}</figcaption><canvas id="{{id}}" height="{{height}}"></canvas>
            <details {{#open}}open{{/open}}><summary>{{t.dash.numbers}}</summary><div class="scroll"><table class="numbers"><thead><tr>{{#columns}}<th>{{.}}</th>{{/columns}}</tr></thead><tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody></table></div></details>
          </figure>
        {{/charts}}
        </div>
        """

    /// Asks before a change of champion, comparing the two versions.
    static let confirm = """
        {{> head}}
        <section class="narrow wide-enough">
        <h1 id="confirm-title">{{heading}}</h1>
        <p>{{question}}</p>
        <div class="scroll"><table id="confirm-compare"><thead><tr><th>{{t.confirm.measure}}</th><th>{{t.confirm.now}}: {{current_ref}}</th><th>{{t.confirm.after}}: {{candidate_ref}}</th></tr></thead><tbody>
        {{#rows}}<tr><th scope="row">{{name}}</th><td>{{now}}</td><td class="{{change}}">{{after}}</td></tr>{{/rows}}
        </tbody></table></div>
        <form method="post" action="{{action}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">{{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}<input type="hidden" name="confirm" value="yes"><button id="confirm">{{yes}}</button></form>
        <a href="{{cancel_link}}" id="cancel">{{t.confirm.cancel}}</a>
        </section>
        {{> foot}}
        """

    static let message = """
        {{> head}}
        <section class="narrow"><h1>{{heading}}</h1><p id="message">{{text}}</p></section>
        {{> foot}}
        """

    /// The manager's first screen: the figures, the first ten to contact, the risk over the
    /// base, what the champion's months say, and the riskiest customers still with us.
    static let dashboard = """
        {{> head}}
        <h1>{{t.dash.title}} · {{model}}</h1>
        {{#refusal}}<p class="error" id="refusal">{{refusal}}</p>{{/refusal}}
        {{#chart_missing}}<p class="note" id="chart-missing">{{t.dash.chart_missing}}</p>{{/chart_missing}}
        {{#daemon_ok}}
        {{#has_figures}}
        <section class="figures" id="figures">
          <div class="figure" id="figure-at-risk"><span class="label">{{t.dash.at_risk}}</span><strong>{{at_risk}}</strong><span class="detail">{{threshold}} · {{of_still_with_us}}</span></div>
          {{#has_revenue}}<div class="figure" id="figure-revenue"><span class="label">{{t.dash.revenue_at_risk}}</span><strong>{{revenue_at_risk}}</strong><span class="detail">{{t.dash.revenue_detail}}</span></div>{{/has_revenue}}
          {{#churn_rate}}<div class="figure" id="figure-churn-rate"><span class="label">{{churn_rate_label}}</span><strong class="trend-{{churn_trend}}">{{churn_rate}}</strong><span class="detail">{{churn_rate_detail}}</span>{{#has_churn_months}}<span class="detail months" id="churn-months">{{#churn_months}}<span title="{{outcomes}}">{{month}} {{rate}}</span> {{/churn_months}}</span>{{/has_churn_months}}</div>{{/churn_rate}}
          <div class="figure" id="figure-contacts"><span class="label">{{t.dash.contacts}}</span><strong id="contacts-count">{{contacts_count}}</strong><span class="detail">{{budget_text}} · {{contacts_detail}}</span></div>
        </section>
        <form method="get" action="/" class="inline" id="budget-form"><input type="hidden" name="model" value="{{model}}"><label>{{t.dash.budget}} ({{currency}}) <input name="budget" value="{{budget}}" inputmode="numeric" size="8"></label> <label>{{t.ret.threshold_input}} <input name="threshold" value="{{threshold_percent}}" inputmode="numeric" size="3">%</label> <button>{{t.dash.apply}}</button></form>
        <h2 id="first-contacts">{{t.dash.first_contacts}}</h2>
        {{> contact_rows}}
        <p><a href="{{retention_link}}" id="all-contacts">{{t.dash.all_contacts}}</a></p>
        {{/has_figures}}

        {{> chart_grid}}

        {{#heatmap}}
        <h2 id="heatmap-title">{{t.dash.months}} · {{model}}</h2>
        <p class="note">{{method}} · {{t.heat.note}} {{t.pred.history}}: {{provenance}}.</p>
        <div class="scroll"><table id="heatmap" class="heatmap"><thead><tr><th>{{t.col.customer}}</th>{{#columns}}<th>{{.}}</th>{{/columns}}</tr></thead><tbody>
        {{#rows}}<tr><th scope="row">{{id}}</th>{{#cells}}{{#empty}}<td class="empty"></td>{{/empty}}{{^empty}}<td class="{{level}}">{{value}}</td>{{/empty}}{{/cells}}</tr>{{/rows}}
        </tbody></table></div>
        <p class="legend" id="heatmap-legend">{{t.heat.scale}} {{#legend}}<span class="{{level}}">≥ {{value}}</span>{{/legend}} · <span class="empty-swatch"></span> {{t.heat.empty}}</p>
        {{/heatmap}}

        {{#base_problem}}<p class="error" id="base-problem">{{base_problem}}</p>{{/base_problem}}
        {{#has_customers}}
        <h2 id="riskiest">{{t.dash.riskiest}}</h2>
        <p class="note">{{t.dash.riskiest_note}} {{scored_by}} · {{customer_count}} {{t.dash.customers}}</p>
        <form method="get" action="/" class="inline" role="search"><input type="hidden" name="model" value="{{model}}"><input type="hidden" name="threshold" value="{{threshold_percent}}"><input type="hidden" name="budget" value="{{budget}}"><label>{{t.dash.search}} <input name="q" value="{{query}}"></label> <button id="search">{{t.dash.search_button}}</button></form>
        <form method="post" action="/rescore" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="model" value="{{model}}"><input type="hidden" name="threshold" value="{{threshold_percent}}"><input type="hidden" name="budget" value="{{budget}}"><button>{{t.dash.rescore}}</button></form>
        <div class="scroll"><table id="riskiest-table" class="stack"><thead><tr><th>{{t.col.customer}}</th><th>{{t.col.risk}}</th>{{#customer_columns}}<th>{{.}}</th>{{/customer_columns}}</tr></thead><tbody>
        {{#customers}}<tr><td data-label="{{t.col.customer}}"><a href="/predict?model={{model}}&amp;customer={{id_query}}">{{id}}</a>{{#left}} <span class="badge left">{{t.dash.left}}</span>{{/left}}</td><td data-label="{{t.col.risk}}">{{risk}}</td>{{#cells}}<td data-label="{{label}}">{{value}}</td>{{/cells}}</tr>{{/customers}}
        </tbody></table></div>
        <p class="pager">{{t.dash.page}} {{page}} / {{pages}}
          {{#previous}}<a href="/?model={{model}}{{plan_query}}&amp;q={{query_param}}&amp;page={{previous}}#riskiest">{{t.dash.previous}}</a>{{/previous}}
          {{#next}}<a href="/?model={{model}}{{plan_query}}&amp;q={{query_param}}&amp;page={{next}}#riskiest" id="next-page">{{t.dash.next}}</a>{{/next}}</p>
        {{/has_customers}}
        {{/daemon_ok}}
        {{> foot}}
        """

    /// Contacts as a table (cards on a phone): rank, customer, risk, bill, offer with its terms,
    /// the value expected to be kept (a loss in the loss colour), reasons in words.
    static let contactRows = """
        <div class="scroll"><table id="contacts" class="stack"><thead><tr><th>#</th><th>{{t.ret.customer}}</th><th>{{t.ret.risk}}</th>{{#has_revenue}}<th>{{t.ret.bill}}</th>{{/has_revenue}}<th>{{t.ret.action}}</th><th>{{#has_revenue}}{{t.ret.value}}{{/has_revenue}}{{^has_revenue}}{{t.ret.customers_kept}}{{/has_revenue}}</th><th>{{t.ret.reasons_words}}</th></tr></thead><tbody>
        {{#contacts}}<tr><td data-label="#">{{rank}}</td><td data-label="{{t.ret.customer}}"><a href="/predict?model={{model}}&amp;customer={{id_query}}">{{id}}</a></td><td data-label="{{t.ret.risk}}">{{risk}}</td>{{#has_revenue}}<td data-label="{{t.ret.bill}}">{{bill}}</td>{{/has_revenue}}<td data-label="{{t.ret.action}}" class="offer">{{offer}}<span class="terms">{{offer_terms}}</span></td><td data-label="{{#has_revenue}}{{t.ret.value}}{{/has_revenue}}{{^has_revenue}}{{t.ret.customers_kept}}{{/has_revenue}}"{{#value.loss}} class="loss"{{/value.loss}}>{{value.text}}</td><td data-label="{{t.ret.reasons_words}}" class="reasons">{{reasons}}</td></tr>{{/contacts}}
        </tbody></table></div>
        """

    /// Model operations: the daemon, champion and challenger, the experiment, every version
    /// with its actions, charts of held-back metrics, recent changes.
    static let models = """
        {{> head}}
        <h1>{{t.models.title}} · {{model}}</h1>
        {{#refusal}}<p class="error" id="refusal">{{refusal}}</p>{{/refusal}}
        {{#done}}<p class="notice" id="done">{{done}}</p>{{/done}}
        {{#chart_missing}}<p class="note" id="chart-missing">{{t.dash.chart_missing}}</p>{{/chart_missing}}
        {{#daemon_ok}}
        <section class="cards">
          <div class="card"><h3>{{t.dash.daemon}}</h3><p>{{health.status}} · {{health.plugins}}</p></div>
          <div class="card"><h3>{{t.dash.champion}}</h3><p>{{#champion}}{{.}}{{/champion}}{{^champion}}—{{/champion}}</p></div>
          <div class="card"><h3>{{t.dash.challenger}}</h3><p>{{#challenger}}{{.}}{{/challenger}}{{^challenger}}—{{/challenger}}</p></div>
        </section>

        <h2>{{t.dash.experiment}}</h2>
        {{#experiment}}
        <p id="experiment">{{experiment.mode}} · {{t.dash.champion}} {{experiment.champion}} · {{t.dash.challenger}} {{experiment.challenger}} · {{experiment.started}}</p>
        {{#report}}
        <div class="scroll"><table id="experiment-report"><thead><tr><th>{{t.exp.arm}}</th><th>{{t.exp.model}}</th><th>{{t.exp.predictions}}</th><th>{{t.exp.outcomes}}</th><th>{{t.metric.roc_auc}}</th><th>{{t.exp.precision_top}}</th><th>{{t.exp.revenue_top}}</th></tr></thead><tbody>
        {{#arms}}<tr><td>{{arm}}</td><td>{{model}}</td><td>{{predictions}}</td><td>{{labelled}}</td><td>{{auc}}</td><td>{{precision}}</td><td>{{revenue}}</td></tr>{{/arms}}
        </tbody></table></div>
        <p id="verdict"><strong>{{verdict_label}}</strong> {{verdict_evidence}}</p>
        {{/report}}
        {{/experiment}}
        {{^experiment}}<p>{{t.dash.no_experiment}}</p>{{/experiment}}

        <h2>{{t.dash.models}}</h2>
        {{^models}}<p>{{t.dash.no_models}}</p>{{/models}}
        {{#has_models}}
        {{#rollback_label}}<form method="post" action="/models/rollback" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="model" value="{{model}}"><button id="rollback">{{rollback_label}}</button></form>{{/rollback_label}}
        {{#changes_blocked}}<p class="note" id="changes-blocked">{{changes_blocked}}</p>{{/changes_blocked}}
        <div class="scroll"><table id="models"><thead><tr><th>{{t.dash.version}}</th><th>{{t.dash.kind}}</th><th>{{t.dash.created}}</th>
          <th>{{t.dash.history}}</th><th>{{t.metric.roc_auc}}</th><th>{{t.metric.accuracy}}</th><th>{{t.metric.precision}}</th><th>{{t.metric.recall}}</th><th>{{t.metric.f1}}</th>
          <th>{{t.dash.aliases}}</th><th>{{t.dash.actions}}</th></tr></thead><tbody>
        {{#models}}
        <tr><td><a href="{{link}}">{{ref}}</a></td><td>{{kind}}{{#has_members}}: {{> blend_members}}{{/has_members}}</td><td>{{created}}</td><td>{{history}}</td><td>{{roc_auc}}</td><td>{{accuracy}}</td><td>{{precision}}</td><td>{{recall}}</td><td>{{f1}}</td>
          <td>{{#aliases}}<span class="badge {{alias}}">{{label}}</span> {{/aliases}}</td>
          <td>{{#can_promote}}<form method="post" action="/models/promote" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{ref}}"><input type="hidden" name="alias" value="champion"><button>{{t.dash.promote}}</button></form>{{/can_promote}}{{^can_promote}}<button disabled title="{{promote_refusal}}">{{t.dash.promote}}</button> <span class="note why-not">{{promote_refusal}}</span>{{/can_promote}}
              {{#can_make_challenger}}<form method="post" action="/models/promote" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{ref}}"><input type="hidden" name="alias" value="challenger"><button>{{t.dash.make_challenger}}</button></form>{{/can_make_challenger}}{{^can_make_challenger}}<button disabled title="{{challenger_refusal}}">{{t.dash.make_challenger}}</button> <span class="note why-not">{{challenger_refusal}}</span>{{/can_make_challenger}}</td></tr>
        {{/models}}
        </tbody></table></div>

        <h2>{{t.dash.compare}}</h2>
        <div class="scroll"><table id="compare"><thead><tr><th>{{t.dash.kind}}</th><th>{{t.dash.version}}</th><th>{{t.metric.accuracy}}</th><th>{{t.metric.precision}}</th><th>{{t.metric.recall}}</th><th>{{t.metric.f1}}</th><th>{{t.metric.roc_auc}}</th></tr></thead><tbody>
        {{#compare}}<tr><td>{{kind}}</td><td>{{ref}}</td><td>{{accuracy}}</td><td>{{precision}}</td><td>{{recall}}</td><td>{{f1}}</td><td>{{roc_auc}}</td></tr>{{/compare}}
        </tbody></table></div>
        {{/has_models}}

        {{> chart_grid}}

        <h2>{{t.dash.audit}}</h2>
        <div class="scroll"><table id="audit" class="stack"><tbody>{{#audit}}<tr><td>{{at}}</td><td>{{user}}</td><td>{{said}}</td></tr>{{/audit}}</tbody></table></div>
        {{/daemon_ok}}
        {{> foot}}
        """

    static let predict = """
        {{> head}}
        <h1>{{t.pred.title}} · {{model}}</h1>
        <form method="get" action="/predict" class="inline"><input type="hidden" name="model" value="{{model}}"><label>{{t.pred.lookup}} <input name="customer" value="{{lookup}}"></label> <button>{{t.pred.lookup_button}}</button></form>
        {{#lookup_error}}<p class="error" id="lookup-error">{{lookup_error}}</p>{{/lookup_error}}
        {{#has_errors}}<p class="error" id="form-errors">{{t.pred.fix}}</p>{{/has_errors}}
        {{#result}}
        <section class="result" id="result">
          <h2>{{t.pred.result}}</h2>
          <p class="probability"><strong id="probability">{{probability}}</strong> {{t.pred.probability}} — {{verdict}}</p>
          <p>{{t.pred.answered_by}} <span id="answered-by">{{model}}</span> · {{t.pred.arm}} <span id="arm">{{arm}}</span></p>
          {{#has_drivers}}<h3>{{t.pred.drivers}}</h3>
          <p class="note">{{t.pred.drivers_note}}</p>
          <div class="scroll"><table id="drivers"><thead><tr><th>{{t.pred.reason}}</th><th>{{t.pred.effect}}</th></tr></thead><tbody>
          {{#drivers}}<tr><td>{{reason}}</td><td class="{{direction}}">{{effect}}</td></tr>{{/drivers}}</tbody></table></div>{{/has_drivers}}
          {{#history_source}}<p id="history-source">{{t.pred.history}}: {{history_source}}</p>{{/history_source}}
          {{#has_months}}<h3>{{t.pred.months}}</h3>
          <div class="multiples">
          {{#charts}}<figure {{#wide}}class="wide"{{/wide}}><figcaption>{{title}}</figcaption><canvas id="{{id}}" height="{{height}}"></canvas></figure>{{/charts}}
          </div>
          <p class="note" id="month-note">{{month_note}}</p>
          <div class="scroll"><table id="months"><thead><tr><th>{{t.pred.period}}</th><th>{{month_method}}</th>{{#month_columns}}<th>{{.}}</th>{{/month_columns}}</tr></thead><tbody>
          {{#months}}<tr><td>{{period}}</td><td>{{weight}}</td>{{#values}}<td>{{.}}</td>{{/values}}</tr>{{/months}}</tbody></table></div>{{/has_months}}
        </section>
        {{/result}}
        {{#form_model}}
        <h2>{{t.pred.form}}</h2>
        <p class="note">{{t.pred.form_schema}} {{form_model}}</p>
        <form method="post" action="/predict" class="fields" id="predict-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="model" value="{{model}}">
          {{#fields}}
          <label data-name="{{name}}">{{label}}
            {{#has_choices}}<select name="{{name}}">{{#choices}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{#shown}}{{shown}}{{/shown}}{{^shown}}{{value}}{{/shown}}</option>{{/choices}}</select>{{/has_choices}}
            {{#number}}<input name="{{name}}" value="{{value}}" inputmode="{{inputmode}}" autocomplete="off">{{#range}}<span class="note" data-range="{{name}}">{{range}}</span>{{/range}}{{/number}}
            {{#date}}<input name="{{name}}" value="{{value}}" type="date">{{/date}}
            {{#text}}<input name="{{name}}" value="{{value}}">{{/text}}
            {{#error}}<span class="field-error" data-field="{{name}}">{{error}}</span>{{/error}}
          </label>
          {{/fields}}
          <button type="submit">{{t.pred.submit}}</button>
        </form>
        {{/form_model}}
        {{> foot}}
        """

    /// A blend's members, each a link to its version with its kind and weight (the context has
    /// `members`: ``VersionPage/memberValues(_:)``).
    static let blendMembers = """
        {{#members}}{{^first}} + {{/first}}<a href="{{link}}" class="member">{{ref}}</a> ({{kind}}) × {{weight}}{{/members}}
        """

    /// One version in detail, with its leaderboard when it was tuned (``VersionPage``).
    static let version = """
        {{> head}}
        {{#has_version}}
        <h1>{{t.ver.title}} · {{ref}}</h1>
        <p><a href="/?model={{model}}">{{t.ver.back}}</a></p>
        <div class="scroll"><table id="version"><tbody>
        <tr><th scope="row">{{t.dash.kind}}</th><td id="version-kind">{{kind}}{{#has_members}}: {{> blend_members}}{{/has_members}}</td></tr>
        <tr><th scope="row">{{t.dash.created}}</th><td>{{created}} · {{t.ver.created_by}} {{created_by}}</td></tr>
        <tr><th scope="row">{{t.dash.aliases}}</th><td>{{#aliases}}<span class="badge {{.}}">{{.}}</span> {{/aliases}}{{^aliases}}—{{/aliases}}</td></tr>
        {{#has_params}}<tr><th scope="row">{{t.ver.params}}</th><td id="version-params">{{#params}}<code>{{name}}={{value}}</code> {{/params}}</td></tr>{{/has_params}}
        {{#notes}}<tr><th scope="row">{{t.ver.notes}}</th><td>{{notes}}</td></tr>{{/notes}}
        {{#tags}}<tr><th scope="row">{{t.ver.tags}}</th><td>{{tags}}</td></tr>{{/tags}}
        </tbody></table></div>

        <h2>{{t.ver.metrics}}</h2>
        <div class="scroll"><table id="version-metrics"><thead><tr>{{#metrics}}<th>{{name}}</th>{{/metrics}}</tr></thead><tbody>
        <tr>{{#metrics}}<td>{{value}}</td>{{/metrics}}</tr></tbody></table></div>

        {{#leaderboard}}
        <h2 id="leaderboard-title">{{t.lb.title}}</h2>
        <p id="leaderboard-summary">{{summary}}</p>
        <div class="scroll"><table id="leaderboard"><caption>{{caption}}</caption><thead><tr><th>{{t.lb.rank}}</th><th>{{t.lb.trial}}</th><th>{{t.dash.kind}}</th><th>{{t.lb.rung}}</th>
          <th>{{t.lb.cv_auc}}</th><th>{{t.lb.log_loss}}</th><th>{{t.lb.fold_seconds}}</th><th>{{t.lb.params}}</th></tr></thead><tbody>
        {{#rows}}<tr{{#registered}} class="registered"{{/registered}}><td>{{rank}}</td><td>{{trial}}{{#registered}} <span class="badge registered">{{t.lb.registered}}</span>{{/registered}}</td><td>{{kind}}</td><td>{{rung}}</td><td>{{auc}}</td><td>{{log_loss}}</td><td>{{fold_seconds}}</td><td>{{#defaults}}<span class="badge defaults">{{t.lb.defaults}}</span> {{/defaults}}{{#params}}<code>{{name}}={{value}}</code> {{/params}}</td></tr>
        {{/rows}}
        </tbody></table></div>
        {{#blend}}<p id="leaderboard-blend">{{t.lb.blend}}: {{members}} · {{t.lb.nested_auc}} {{auc}} · {{#chosen}}<strong>{{outcome}}</strong>{{/chosen}}{{^chosen}}{{outcome}}{{/chosen}}</p>{{/blend}}
        {{/leaderboard}}
        {{/has_version}}
        {{> foot}}
        """

    static let retention = """
        {{> head}}
        <h1>{{t.ret.title}}</h1>
        {{#report}}
        <p id="retention-headline">{{scored_by}} · {{at_risk_before}}<strong id="at-risk-count">{{at_risk}}</strong>{{at_risk_after}} ({{threshold}}){{#has_revenue}} · {{t.ret.revenue_over}}: <strong id="revenue-at-risk">{{revenue_at_risk}}</strong> ({{t.ret.bills}}: {{bills_at_risk}}){{/has_revenue}}</p>
        {{#has_left}}<p class="note" id="already-left">{{already_left}} {{t.ret.already_left}} ({{already_left_at_risk}} {{t.ret.already_left_at_risk}})</p>{{/has_left}}
        <h2 id="targets-title">{{t.ret.targets}}</h2>
        <form method="get" action="/retention" class="inline" id="budget-form"><input type="hidden" name="model" value="{{model}}"><label>{{t.dash.budget}} ({{currency}}) <input name="budget" value="{{budget}}" inputmode="numeric" size="8"></label> <label>{{t.ret.threshold_input}} <input name="threshold" value="{{threshold_percent}}" inputmode="numeric" size="3">%</label> <button>{{t.dash.apply}}</button></form>
        {{#has_uplift}}<p class="note" id="uplift-basis">{{uplift_basis}}</p>{{/has_uplift}}
        {{#uplift_set_aside}}<p class="note" id="uplift-not-better">{{uplift_set_aside}}</p>{{/uplift_set_aside}}
        {{^has_uplift}}{{^uplift_set_aside}}<p class="note" id="no-uplift">{{t.ret.no_uplift}}</p>{{/uplift_set_aside}}{{/has_uplift}}
        <p class="note" id="targets-note"><span id="contacts-summary">{{contacts_summary}}</span>{{#has_targets}} · {{targets_note}} · <a id="targets-csv" href="{{csv_link}}">{{t.ret.export_csv}}</a>{{/has_targets}}</p>
        {{#has_targets}}
        {{> contact_rows}}
        <p class="pager">{{#prev_link}}<a id="targets-prev" href="{{prev_link}}">←</a>{{/prev_link}} {{page}} / {{pages}} {{#next_link}}<a id="targets-next" href="{{next_link}}">→</a>{{/next_link}}</p>{{/has_targets}}
        {{^has_targets}}<p class="note" id="no-targets">{{t.ret.no_targets}}</p>{{/has_targets}}
        <h2 id="how-many">{{t.gain.heading}}</h2>
        <p class="note" id="gain-note">{{gain_note}}</p>
        <div class="grid">
        <figure><figcaption>{{t.gain.title}}</figcaption><canvas id="gain-chart" height="260"></canvas></figure>
        {{#confusion}}<div><h3>{{t.confusion.title}}</h3><p class="note">{{note}}</p>
        <div class="scroll"><table id="confusion"><thead><tr><th></th><th>{{t.confusion.left}}</th><th>{{t.confusion.stayed}}</th></tr></thead><tbody>
        <tr><th scope="row">{{t.confusion.at_risk}}</th><td>{{tp}}</td><td>{{fp}}</td></tr>
        <tr><th scope="row">{{t.confusion.not_at_risk}}</th><td>{{fn}}</td><td>{{tn}}</td></tr>
        </tbody></table></div>
        <p>{{t.metric.precision}} {{precision}} · {{t.metric.recall}} {{recall}}</p></div>{{/confusion}}
        </div>
        <h2>{{t.ret.actions}}</h2>
        <p class="note">{{t.ret.method}}</p>
        <div class="scroll"><table id="actions" class="stack"><thead><tr><th>#</th><th>{{t.ret.action}}</th><th>{{t.ret.eligible}}</th><th>{{t.ret.drop}}</th><th>{{t.ret.cost}}</th><th>{{t.ret.acceptance}}</th><th>{{#has_revenue}}{{t.ret.kept}}{{/has_revenue}}{{^has_revenue}}{{t.ret.customers_kept}}{{/has_revenue}}</th></tr></thead><tbody>
        {{#offers}}<tr><td data-label="#">{{rank}}</td><td data-label="{{t.ret.action}}">{{title}}</td><td data-label="{{t.ret.eligible}}">{{eligible}}</td><td data-label="{{t.ret.drop}}">{{drop}}</td><td data-label="{{t.ret.cost}}">{{cost}}</td><td data-label="{{t.ret.acceptance}}">{{acceptance}}</td><td data-label="{{#has_revenue}}{{t.ret.kept}}{{/has_revenue}}{{^has_revenue}}{{t.ret.customers_kept}}{{/has_revenue}}"{{#kept.loss}} class="loss"{{/kept.loss}}>{{kept.text}}</td></tr>{{/offers}}
        </tbody></table></div>
        {{#has_inapplicable}}<p class="note" id="inapplicable">{{t.ret.inapplicable}}</p><ul>{{#inapplicable}}<li>{{title}}: {{reason}}</li>{{/inapplicable}}</ul>{{/has_inapplicable}}
        <figure><figcaption>{{t.ret.kept}}</figcaption><canvas id="actions-chart" height="160"></canvas></figure>
        <h2>{{t.ret.campaigns}}</h2>
        {{#has_campaigns}}<div class="scroll"><table id="campaigns"><thead><tr><th>#</th><th>{{t.ret.action}}</th><th>{{t.ret.campaign_status}}</th><th>{{t.ret.campaign_arms}}</th><th>{{t.ret.churn_treated}}</th><th>{{t.ret.churn_control}}</th><th>{{t.ret.uplift}}</th><th>{{t.ret.kept}}</th></tr></thead><tbody>
        {{#campaigns}}<tr><td>{{id}}</td><td>{{offer}}</td><td>{{status}}</td><td>{{arms}}</td><td>{{treated}}</td><td>{{control}}</td><td>{{uplift}}</td><td>{{kept}}</td></tr>{{/campaigns}}
        </tbody></table></div>{{/has_campaigns}}
        {{^has_campaigns}}<p class="note" id="no-campaigns">{{t.ret.no_campaigns}}</p>{{/has_campaigns}}
        <h2>{{t.ret.segments}}</h2>
        <p class="note">{{t.ret.segments_note}}</p>
        {{^has_reasons}}<p class="note">{{t.ret.no_reasons}}</p>{{/has_reasons}}
        <div class="scroll"><table id="segments"><thead><tr>{{#segment_fields}}<th>{{.}}</th>{{/segment_fields}}<th>{{t.ret.size}}</th><th>{{t.ret.mean_risk}}</th>{{#has_revenue}}<th>{{t.ret.revenue}}</th>{{/has_revenue}}{{#has_reasons}}<th>{{t.ret.reasons}}</th>{{/has_reasons}}<th>{{t.ret.best}}</th></tr></thead><tbody>
        {{#segments}}<tr>{{#values}}<td>{{.}}</td>{{/values}}<td>{{size}}</td><td>{{mean_risk}}</td>{{#has_revenue}}<td>{{revenue}}</td>{{/has_revenue}}{{#has_reasons}}<td>{{reasons}}</td>{{/has_reasons}}<td>{{best}}</td></tr>{{/segments}}
        </tbody></table></div>
        {{/report}}
        {{> foot}}
        """
}
