import ChurnClient
import ChurnData
import ChurnProtocol
import HTTPTypes
import Hummingbird

/// The prediction page: a customer looked up by id, or typed into a form built from the
/// answering version's schema, scored by the champion with its reasons in words and, for a
/// sequence model, its months.
struct PredictionController {
    let app: ChurnWebApp

    var endpoints: RouteCollection<WebRequestContext> {
        let routes = RouteCollection(context: WebRequestContext.self)
        routes.get("/predict") { request, context in try await predictPage(request, context) }
        routes.post("/predict") { request, context in try await predictPage(request, context) }
        return routes
    }

    /// The dataset schema of the version a prediction goes to: the champion, else the newest.
    private func predictionSchema(_ model: String) async throws -> (ModelVersionInfo, DatasetSchema) {
        let champion = await Result { () async throws(ChurnClientError) -> ModelVersionInfo in
            try await app.link.with { client throws(ChurnClientError) in try await client.model("\(model)@champion") }
        }
        if case .success(let version) = champion { return (version, try CustomerBase.schema(of: version)) }
        let newest = try await app.link.with { client throws(ChurnClientError) in try await client.models(name: model) }.first
        guard let newest else { return try (champion.get(), BuiltInSchemas.kaggle) }
        let version = try await app.link.with { client throws(ChurnClientError) in try await client.model(newest.ref.description) }
        return (version, try CustomerBase.schema(of: version))
    }

    private func predictPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let model = app.selectedModel(request, context)
        var values: [String: Any] = ["title": app.text("pred.title", context), "nav_predict": true]
        var status = HTTPResponse.Status.ok
        do {
            let everyVersion = try await app.link.with { client throws(ChurnClientError) in try await client.models() }
            values.merge(app.pages.modelSwitch(everyVersion, selected: model)) { $1 }
            let (version, schema) = try await predictionSchema(model)
            let form = PredictionForm(schema: schema)
            values["form_model"] = version.ref.description
            var entered: [String: String] = [:]
            var record: CustomerRecord?
            if request.method == .post {
                entered = context.form
                switch form.validate(context.form, language: context.language) {
                case .success(let valid): record = valid
                case .failure(let errors):
                    values["has_errors"] = true
                    values["fields"] = form.fields(entered, errors: errors.errors, language: context.language)
                    status = .unprocessableContent
                }
            } else if let id = request.uri.queryParameters.get("customer"), !id.isEmpty {
                values["lookup"] = id
                let base = try? app.base(model)
                if let found = try await base?.customer(id: id, app.link) {
                    record = found
                    entered = form.values(of: found)
                    values["synthetic"] = base?.isSynthetic ?? false
                } else {
                    values["lookup_error"] = app.text("pred.unknown_customer", context)
                    status = .notFound
                }
            } else if let first = try? await app.bases[model]?.current(app.link).records.first {
                entered = form.values(of: first)
                entered[form.idField] = "web-0001"
            }
            if values["fields"] == nil { values["fields"] = form.fields(entered, errors: [:], language: context.language) }
            if let record {
                let prediction = try await app.link.with { client throws(ChurnClientError) in
                    try await client.predict([record], model: "\(model)@champion")
                }
                if let answer = prediction.first {
                    let explanation = try? await app.link.with { client throws(ChurnClientError) in
                        try await client.explain([record], model: answer.model.description, top: 8)
                    }.first
                    values["result"] = app.pages.predictionValues(answer, explanation: explanation, schema: schema, context: context)
                    if let explanation { values.merge(app.pages.chartValues(app.pages.monthCharts(explanation, context: context))) { $1 } }
                }
            }
        } catch {
            values.merge(app.failure(error)) { $1 }
            status = .serviceUnavailable
        }
        return app.render("predict", status: status, context: context, values: values)
    }

}
