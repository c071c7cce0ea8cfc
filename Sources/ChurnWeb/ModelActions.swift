import ChurnClient
import ChurnProtocol

/// The alias changes the dashboard offers for one model name: only those churnd would accept
/// now (no rollback without an earlier champion to go back to, nothing while an experiment
/// compares the champion and the challenger), and a refusal said in the page's language.
struct ModelActions {
    /// How many audit entries (newest first) the rollback target is read from: promotions older
    /// than that are not seen, and the dashboard then offers no rollback (`churn rollback` still
    /// goes back).
    static let auditWindow = 1000

    /// The experiment that holds the champion and the challenger where they are.
    let experiment: ExperimentInfo?
    /// The version rolling the champion back goes to.
    let rollbackTarget: Int?

    init(name: String, versions: [ModelVersionInfo], experiment: ExperimentInfo?, audit: [AuditRecord]) {
        self.experiment = experiment
        let champion = versions.first { $0.aliases.contains(ModelReference.champion) }?.version
        rollbackTarget = Self.rollbackTarget(
            of: name, alias: ModelReference.champion, current: champion, versions: Set(versions.map(\.version)), audit: audit)
    }

    /// Whether `version` may be promoted to champion from the page.
    func canPromote(_ version: ModelVersionInfo) -> Bool { promoteRefusal(version) == nil }

    /// Whether `version` may be made the challenger: not the champion, not already challenger.
    func canMakeChallenger(_ version: ModelVersionInfo) -> Bool { challengerRefusal(version) == nil }

    /// Why `version` cannot be promoted to champion now (a text key and its `{id}`), or nil.
    func promoteRefusal(_ version: ModelVersionInfo) -> (key: String, id: Int?)? {
        if version.aliases.contains(ModelReference.champion) { return ("act.is_champion", nil) }
        if let experiment { return ("act.experiment", experiment.id) }
        return nil
    }

    /// Why `version` cannot be made the challenger now: the champion is never also the
    /// challenger, a challenger already is one, and an experiment holds both where they are.
    func challengerRefusal(_ version: ModelVersionInfo) -> (key: String, id: Int?)? {
        if version.aliases.contains(ModelReference.champion) { return ("act.champion_not_challenger", nil) }
        if version.aliases.contains(ModelReference.challenger) { return ("act.is_challenger", nil) }
        if let experiment { return ("act.experiment", experiment.id) }
        return nil
    }

    /// A refusal as the page says it, in `language`.
    static func text(_ refusal: (key: String, id: Int?), language: Language) -> String {
        WebStrings.text(refusal.key, language).replacingOccurrences(of: "{id}", with: refusal.id.map(String.init) ?? "")
    }

    /// Where the champion goes back to, when a rollback is possible now.
    var rollbackOffer: Int? { experiment == nil ? rollbackTarget : nil }

    /// The version `models.rollback` would move `alias` of `name` back to, decided as the
    /// registry decides it (`ModelRegistry.rollbackTarget`) but from the audit log (newest
    /// first): the version the latest promotion to the alias's current version came from,
    /// leaving out promotions already rolled back. Nil when the alias is unset, was first set by
    /// that promotion, or would go back to a version since deleted.
    static func rollbackTarget(of name: String, alias: String, current: Int?, versions: Set<Int>, audit: [AuditRecord]) -> Int? {
        guard let current else { return nil }
        var promotions: [(from: Int?, to: Int, rolledBack: Bool)] = []
        for entry in audit.reversed() where entry.model == name && aliasOf(entry) == alias {
            if entry.action == .promote, let to = entry.toVersion {
                promotions.append((entry.fromVersion, to, false))
            } else if entry.action == .rollback, let from = entry.fromVersion,
                let undone = promotions.lastIndex(where: { $0.to == from && !$0.rolledBack })
            {
                promotions[undone].rolledBack = true
            }
        }
        guard let promotion = promotions.last(where: { $0.to == current && !$0.rolledBack }), let target = promotion.from,
            versions.contains(target)
        else { return nil }
        return target
    }

    /// The alias a promote or rollback entry moved: its detail is `alias` or `alias: reason`.
    private static func aliasOf(_ entry: AuditRecord) -> String? {
        entry.detail?.split(separator: ":", maxSplits: 1).first.map { String($0) }
    }

    /// What to tell the person whose change (`actionKey`: the button's text key) churnd refused,
    /// in `language`: the known refusals in their own words, others with the daemon's message.
    static func refusal(_ error: any Error, actionKey: String, language: Language) -> String {
        let action = WebStrings.text(actionKey, language)
        func say(_ key: String) -> String { action + ": " + WebStrings.text(key, language) }
        guard let rpc = (error as? ChurnClientError)?.rpcError else {
            return action + ": " + WebStrings.text("error.daemon", language) + " (\(error))"
        }
        switch rpc.knownCode {
        case .conflict?:
            if case .object(let fields)? = rpc.data, let id = fields["experiment"]?.numberValue {
                return say("act.experiment").replacingOccurrences(of: "{id}", with: "\(Int(id))")
            }
            if actionKey == "dash.rollback" { return say("act.nothing_to_roll_back") }
        case .noChampion?: return say("act.no_champion")
        case .modelNotFound?: return say("act.no_version")
        case .permissionDenied?: return say("act.not_admin")
        default: break
        }
        return say("act.refused") + " " + rpc.message
    }
}
