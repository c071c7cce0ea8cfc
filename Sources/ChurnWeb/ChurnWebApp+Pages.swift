import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What every page's controller shares: rendering in the page's language, what a failed daemon
/// call shows, the refusal kept for the next page, and the retention report (the dashboard's
/// first screen and the retention page read the same one).
extension ChurnWebApp {

    func render(_ template: String, status: HTTPResponse.Status, context: WebRequestContext, values: [String: Any]) -> Response {
        var all = values
        all["t"] = WebStrings.nested(context.language)
        all["lang"] = context.language.rawValue
        all["other_lang"] = context.language == .english ? Language.korean.rawValue : Language.english.rawValue
        if let user = context.user { all["user"] = user }
        all["csrf"] = context.csrf ?? ""
        all["socket"] = configuration.socketPath
        all["chart_js"] = pages.chartJSAvailable
        all["chart_missing"] = !pages.chartJSAvailable
        let html = templates.render(all, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func message(status: HTTPResponse.Status, headingKey: String, textKey: String, context: WebRequestContext) -> Response {
        render("message", status: status, context: context, values: [
            "title": text(headingKey, context), "heading": text(headingKey, context), "text": text(textKey, context),
        ])
    }

    func text(_ key: String, _ context: WebRequestContext) -> String { WebStrings.text(key, context.language) }

    /// Only local paths: `next` must never send a signed-in user to another site.
    func safeNext(_ next: String?) -> String {
        // Browsers drop tabs and line breaks from a URL (`/\t/evil.example` is `//evil.example`):
        // no whitespace or control character is accepted at all.
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control })
        else { return "/" }
        return next
    }

    /// What a page shows when its daemon calls failed: that the daemon is down and how to start
    /// it, that its socket is closed to the web UI's user (and who can open it), or the error the
    /// daemon answered with.
    func failure(_ error: any Error) -> [String: Any] {
        switch error as? ChurnClientError {
        case .noDaemon?, .transport?, .localFile?: ["daemon_error": describe(error)]
        case .socketAccessDenied?: ["daemon_access": describe(error)]
        case .daemon?: ["daemon_failure": describe(error)]
        case nil: ["data_problem": describe(error)]
        }
    }

    /// Whether a page's daemon calls failed (see ``failure(_:)``).
    static func failed(_ values: [String: Any]) -> Bool {
        values["daemon_error"] != nil || values["daemon_access"] != nil || values["daemon_failure"] != nil
    }

    func describe(_ error: any Error) -> String {
        if let error = error as? ChurnClientError { return error.description }
        return "\(error)"
    }

    /// Keeps `text` in the session for the next page (the dashboard a form redirects back to).
    func refuse(_ text: String, context: WebRequestContext) {
        context.sessions.withLockedSession { $0?.refusal = text }
    }

    /// Keeps a notice of a change made for the next page.
    func tell(_ text: String, context: WebRequestContext) {
        context.sessions.withLockedSession { $0?.notice = text }
    }

    /// The notice kept for this page, once.
    func takeNotice(_ context: WebRequestContext) -> String? {
        context.sessions.withLockedSession { session in
            guard let text = session?.notice else { return nil }
            session?.notice = nil
            return text
        }
    }

    /// The refusal kept for this page, once.
    func takeRefusal(_ context: WebRequestContext) -> String? {
        context.sessions.withLockedSession { session in
            guard let text = session?.refusal else { return nil }
            session?.refusal = nil
            return text
        }
    }

    // MARK: The retention report

    /// The retention report of `model`'s customer base at an at-risk `threshold`, built once per
    /// scoring and threshold.
    func retentionReport(_ model: String, threshold: Double) async throws -> (RetentionReport, CustomerBase.Scored, CustomerBase) {
        let base = try base(model)
        let scored = try await base.current(link)
        let uplift = try await upliftSource(for: model)
        let key = "\(scored.model)@\(scored.scoredAt.timeIntervalSince1970)+\(uplift.map { "\($0.version.ref)" } ?? "simulation")≥\(threshold)"
        if let cached = retentionCache.withLock({ $0 }), cached.key == key { return (cached.report, scored, base) }
        let report = try await RetentionReport.build(scored, configuration: retention, link: link, threshold: threshold, uplift: uplift)
        retentionCache.withLock { $0 = (key, report) }
        return (report, scored, base)
    }

    /// The uplift model targets of `model` are ranked by: the champion of `<model>-uplift`
    /// (the name `churn campaign uplift` registers under), when it is an uplift model.
    func upliftSource(for model: String) async throws -> RetentionReport.UpliftSource? {
        let name = "\(model)-uplift"
        let versions = try await link.with { client throws(ChurnClientError) in try await client.models(name: name) }
        guard let champion = versions.first(where: { $0.aliases.contains(ModelReference.champion) }),
            let id = UpliftEvidence(tags: champion.tags).campaign ?? (UpliftEvidence(tags: champion.tags).isUplift ? -1 : nil)
        else { return nil }
        let campaign = try await link.with { client throws(ChurnClientError) in try await client.campaigns() }.first { $0.id == id }
        return RetentionReport.UpliftSource(version: champion, campaign: campaign)
    }

    /// The top three reasons of each target in words (``RiskReasons``, in `language`), from the
    /// champion's explanations (in calls of 500).
    func drivers(of targets: ArraySlice<RetentionReport.Target>, scored: CustomerBase.Scored, language: Language)
        async throws -> [String]
    {
        // A customer's reasons change only when the base is scored again: kept per scoring and
        // language, so paging through the list or coming back to the first screen explains no one twice.
        let scoring = "\(scored.model)@\(scored.scoredAt.timeIntervalSince1970)|\(language.rawValue)"
        var known = reasonCache.withLock { cache in cache.scoring == scoring ? cache.reasons : [:] }
        let missing = targets.filter { known[$0.id] == nil }
        let wording = RiskReasons(schema: scored.dataset.schema, language: language.rawValue)
        for start in stride(from: missing.startIndex, to: missing.endIndex, by: 500) {
            let part = missing[start..<min(start + 500, missing.endIndex)]
            let records = part.map { scored.records[$0.row] }
            let model = scored.model.description
            let explained = try await link.with { client throws(ChurnClientError) in try await client.explain(records, model: model, top: 3) }
            for (target, explanation) in zip(part, explained) { known[target.id] = wording.line(explanation.explanation, top: 3) }
        }
        if !missing.isEmpty {
            reasonCache.withLock { cache in
                if cache.scoring != scoring { cache = (scoring, [:]) }
                cache.reasons.merge(known) { $1 }
            }
        }
        return targets.map { known[$0.id] ?? "" }
    }
}
