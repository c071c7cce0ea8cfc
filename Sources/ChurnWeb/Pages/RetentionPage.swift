import ChurnData
import ChurnProtocol
import Foundation

/// The retention page: offers, campaigns, whom to contact, and segments.
extension PageBuilder {
    /// The headline (at risk by the one threshold, their revenue at risk), the offers with
    /// their cost and acceptance, offers that do not apply, and the segments of the at-risk
    /// customers (whose revenue at risk adds up to the headline's).
    func retentionValues(_ report: RetentionReport, context: WebRequestContext) -> ([String: Any], ChartSpec) {
        let hasReasons = report.segments.contains { !$0.reasons.isEmpty }
        let language = context.language.rawValue
        let money = { (value: Double?) -> String in value.map { Self.money($0, currency: report.currency) } ?? "—" }
        var values = headlineValues(report, context: context)
        values.merge([
            "bills_at_risk": money(report.billsAtRisk),
            "already_left": Self.grouped(report.alreadyLeft), "already_left_at_risk": Self.grouped(report.alreadyLeftAtRisk),
            "has_left": report.alreadyLeft > 0,
            "has_revenue": report.revenueField != nil, "has_reasons": hasReasons,
            "segment_fields": report.segmentFields.map { name in report.schema.input(named: name)?.displayName(language) ?? name },
            "offers": report.offers.enumerated().map { index, result -> [String: Any] in
                [
                    "rank": "\(index + 1)", "title": result.offer.title(language), "eligible": Self.grouped(result.eligible),
                    "drop": String(format: "%.1f ", result.meanRiskDrop * 100) + text("unit.points", context),
                    "kept": result.monthlyRevenueKept.map { Self.moneyCell($0, currency: report.currency) }
                        ?? ["text": String(format: "%.1f", result.customersKept), "loss": result.customersKept < 0],
                    "cost": offerCost(result.offer, currency: report.currency, context: context),
                    "acceptance": Self.percent(result.offer.acceptance),
                ]
            },
            "inapplicable": report.inapplicable.map { ["title": $0.offer.title(language), "reason": $0.reason] },
            "has_inapplicable": !report.inapplicable.isEmpty,
            "segments": report.segments.map { segment -> [String: Any] in
                let values = segment.others > 0
                    ? [text("ret.other_segments", context).replacingOccurrences(of: "{count}", with: "\(segment.others)")]
                        + Array(repeating: "", count: max(0, report.segmentFields.count - 1))
                    : zip(report.segmentFields, segment.values).map { name, value in
                        report.schema.input(named: name)?.displayValue(value, language) ?? value
                    }
                return [
                    "values": values, "size": Self.grouped(segment.customers), "mean_risk": Self.percent(segment.meanRisk),
                    "revenue": money(segment.revenueAtRisk),
                    "reasons": segment.reasons.map { "\($0.reason) (\($0.count))" }.joined(separator: "; "),
                    "best": segment.bestOffer?.title(language) ?? "—",
                ]
            },
        ]) { $1 }
        let keptTitle = text(report.revenueField == nil ? "ret.customers_kept" : "ret.kept", context)
        let chart = ChartSpec(
            id: "actions-chart", title: keptTitle, type: "bar",
            data: .object([
                "labels": .array(report.offers.map { .string($0.offer.title(language)) }),
                "datasets": .array([
                    .object([
                        "label": .string(keptTitle),
                        "data": .array(report.offers.map { .number($0.monthlyRevenueKept ?? $0.customersKept) }),
                        "backgroundColor": .array(report.offers.map { .string(($0.monthlyRevenueKept ?? $0.customersKept) < 0 ? Self.lossColour : Self.palette[2]) }),
                    ])
                ]),
            ]),
            options: .object(["indexAxis": .string("y"), "plugins": .object(["legend": .object(["display": .bool(false)])])]),
            columns: [], rows: [])
        return (values, chart)
    }

    /// The figures every page says the same way: customers at risk by the one threshold (named),
    /// among those still with us, and their monthly revenue at risk.
    func headlineValues(_ report: RetentionReport, context: WebRequestContext) -> [String: Any] {
        // The number where the language puts it ("5 customers at risk", "위험 고객 5명").
        let sentence = text("ret.at_risk", context).components(separatedBy: "{count}")
        return [
            "at_risk_before": sentence.first ?? "", "at_risk_after": sentence.count > 1 ? sentence[1] : "",
            "scored_by": report.model.description, "at_risk": Self.grouped(report.atRiskCustomers),
            "still_with_us": Self.grouped(report.customersStillWithUs),
            "threshold": text("ret.threshold", context).replacingOccurrences(of: "{threshold}", with: Self.percent(report.atRiskThreshold)),
            "revenue_at_risk": report.revenueAtRisk.map { Self.money($0, currency: report.currency) } ?? "—",
            "has_revenue": report.revenueField != nil,
        ]
    }

    /// An offer's monthly cost as its file gives it: a fixed amount, a share of the bill, or both.
    func offerCost(_ offer: RetentionOffer, currency: String, context: WebRequestContext) -> String {
        var parts: [String] = []
        if offer.monthlyCost != 0 || offer.monthlyCostShare == 0 { parts.append(Self.money(offer.monthlyCost, currency: currency)) }
        if offer.monthlyCostShare > 0 { parts.append(String(format: "%.0f%% ", offer.monthlyCostShare * 100) + text("ret.of_bill", context)) }
        return parts.joined(separator: " + ")
    }

    /// Campaigns with their measured effect.
    func campaignValues(_ reports: [CampaignReport], currency: String, context: WebRequestContext) -> [String: Any] {
        func rate(_ arm: CampaignArm) -> String {
            arm.churnRate?.percentText ?? "—"
        }
        return [
            "has_campaigns": !reports.isEmpty,
            "campaigns": reports.map { report -> [String: Any] in
                [
                    "id": "\(report.campaign.id)", "offer": report.campaign.offer,
                    "status": WebStrings.text("status." + report.campaign.status.rawValue, context.language, or: report.campaign.status.rawValue),
                    "arms": "\(report.campaign.treated) / \(report.campaign.control)",
                    "treated": rate(report.treated), "control": rate(report.control),
                    "uplift": report.uplift.map {
                        String(format: "%+.1f [%.1f, %.1f] · p %.4f", $0.uplift.value * 100, $0.uplift.low * 100, $0.uplift.high * 100, $0.p)
                    } ?? "—",
                    "kept": report.monthlyRevenueKept.map { Self.money($0, currency: currency) } ?? "—",
                ]
            },
        ]
    }

    /// Contacts as a table shows them: rank, customer, risk, bill, the offer with its cost and
    /// acceptance, the value it is expected to keep (a loss in the loss colour), and the
    /// customer's reasons in words.
    func contactValues(
        _ report: RetentionReport, shown: ArraySlice<RetentionReport.Target>, first: Int, reasons: [String], context: WebRequestContext
    ) -> [String: Any] {
        let language = context.language.rawValue
        return [
            "contacts": zip(shown, reasons).enumerated().map { index, pair -> [String: Any] in
                let (target, reasons) = pair
                return [
                    "rank": "\(first + index)", "id": target.id, "id_query": queryValue(target.id), "risk": Self.percent(target.risk),
                    "bill": target.bill.map { Self.money($0, currency: report.currency) } ?? "—", "offer": target.offer.title(language),
                    "offer_terms": offerCost(target.offer, currency: report.currency, context: context) + " · "
                        + text("ret.accepts", context).replacingOccurrences(of: "{share}", with: Self.percent(target.offer.acceptance)),
                    "value": report.revenueField == nil
                        ? ["text": String(format: "%.2f", target.value), "loss": target.value < 0]
                        : Self.moneyCell(target.value, currency: report.currency),
                    "reasons": reasons.isEmpty ? "—" : reasons,
                ]
            },
            "has_revenue": report.revenueField != nil,
        ]
    }

    /// The contact list's page: its rows, how it is ranked, paging, the budget and the export.
    func targetValues(
        _ report: RetentionReport, contacts: ArraySlice<RetentionReport.Target>, shown: ArraySlice<RetentionReport.Target>,
        reasons: [String], page: Int, pageCount: Int, model: String, plan: ContactPlan, context: WebRequestContext
    ) -> [String: Any] {
        let query = "model=" + queryValue(model) + plan.query
        var values = contactValues(report, shown: shown, first: (page - 1) * RetentionController.perPage + 1, reasons: reasons, context: context)
        let spend = contacts.reduce(0.0) { $0 + $1.expectedCost }
        let kept = contacts.reduce(0.0) { $0 + $1.value }
        values.merge([
            "has_targets": !contacts.isEmpty, "targets_total": Self.grouped(contacts.count),
            "targets_note": basisNote(report.basis, context: context),
            "contacts_summary": text("ret.contacts_summary", context)
                .replacingOccurrences(of: "{contacts}", with: Self.grouped(contacts.count))
                .replacingOccurrences(of: "{at_risk}", with: Self.grouped(report.atRiskCustomers))
                .replacingOccurrences(of: "{spend}", with: Self.money(spend, currency: report.currency))
                .replacingOccurrences(of: "{kept}", with: report.revenueField == nil ? String(format: "%.1f", kept) : Self.money(kept, currency: report.currency)),
            "currency": report.currency,
            "has_uplift": { if case .upliftModel = report.basis { return true } else { return false } }(),
            "uplift_basis": { () -> String in
                guard case .upliftModel(let campaign, let offer, let standing) = report.basis else { return "" }
                var text = "\(self.text("ret.uplift_source", context)) \(standing.model) · \(offer)"
                if let campaign { text += " · \(self.text("ret.campaign", context)) #\(campaign)" }
                return text + " · " + qiniText(standing, context: context)
            }(),
            "page": "\(page)", "pages": "\(pageCount)",

            "csv_link": "/retention/targets.csv?\(query)",
        ]) { $1 }
        // Only the links there are (an empty text would still draw an arrow).
        if page > 1 { values["prev_link"] = "/retention?\(query)&page=\(page - 1)" }
        if page < pageCount { values["next_link"] = "/retention?\(query)&page=\(page + 1)" }
        if let standing = report.upliftSetAside {
            values["uplift_set_aside"] = text(standing.untested ? "ret.uplift_untested" : "ret.uplift_not_better", context)
                .replacingOccurrences(of: "{model}", with: standing.model.description) + " (" + qiniText(standing, context: context) + ")"
        }
        return values
    }

    /// How many to contact: a gain chart (the share of expected churners and of revenue at risk
    /// reached against the share of customers still with us contacted, riskiest first, with the
    /// at-risk threshold and the budget's list marked) and, when the file says who has left, the
    /// confusion matrix of "risk ≥ threshold" against that label.
    func howManyValues(
        _ report: RetentionReport, scored: CustomerBase.Scored, contacts: ArraySlice<RetentionReport.Target>, context: WebRequestContext
    ) -> ([String: Any], ChartSpec) {
        let left = scored.dataset.churned ?? []
        let hasLeft = { (row: Int) in row < left.count && left[row] }
        let bills = report.revenueField.flatMap { scored.customers.numberColumn($0) }
        let order = scored.byRisk.filter { !hasLeft($0) }
        let bill = { (row: Int) -> Double in
            guard let bills, !bills[row].isNaN else { return 0 }
            return bills[row]
        }
        let totalRisk = max(order.reduce(0.0) { $0 + scored.risk[$1] }, 1e-12)
        let totalMoney = max(order.reduce(0.0) { $0 + scored.risk[$1] * bill($1) }, 1e-12)
        var churners: [JSONValue] = [.object(["x": 0, "y": 0])]
        var money: [JSONValue] = [.object(["x": 0, "y": 0])]
        var rows: [[String]] = []
        var reachedRisk = 0.0
        var reachedMoney = 0.0
        // Twenty steps, and exactly where the threshold and the budget cut the list.
        var marks: Set<Int> = [report.atRiskCustomers, contacts.count]
        for step in 1...20 { marks.insert(Int((Double(order.count) * Double(step) / 20).rounded())) }
        for (index, row) in order.enumerated() {
            reachedRisk += scored.risk[row]
            reachedMoney += scored.risk[row] * bill(row)
            let contacted = index + 1
            guard marks.contains(contacted) else { continue }
            let x = Double(contacted) / Double(order.count)
            churners.append(.object(["x": .number(x), "y": .number(reachedRisk / totalRisk)]))
            money.append(.object(["x": .number(x), "y": .number(reachedMoney / totalMoney)]))
            var cells = [Self.percent(x), Self.percent(reachedRisk / totalRisk)]
            if bills != nil { cells.append(Self.percent(reachedMoney / totalMoney)) }
            rows.append(cells)
        }
        func marker(_ count: Int, _ label: String, _ colour: String) -> JSONValue {
            let x = Double(count) / Double(max(order.count, 1))
            return .object([
                "label": .string(label), "data": .array([.object(["x": .number(x), "y": 0]), .object(["x": .number(x), "y": 1])]),
                "showLine": .bool(true), "pointRadius": .number(0), "borderColor": .string(colour), "borderDash": .array([4, 4]),
            ])
        }
        var datasets: [JSONValue] = [
            .object([
                "label": .string(text("gain.churners", context)), "data": .array(churners), "showLine": .bool(true),
                "pointRadius": .number(0), "borderColor": .string(Self.palette[3]), "backgroundColor": .string(Self.palette[3]),
            ])
        ]
        if bills != nil {
            datasets.append(
                .object([
                    "label": .string(text("gain.revenue", context)), "data": .array(money), "showLine": .bool(true),
                    "pointRadius": .number(0), "borderColor": .string(Self.palette[0]), "backgroundColor": .string(Self.palette[0]),
                ]))
        }
        datasets.append(marker(report.atRiskCustomers, text("gain.at_risk", context), "#999999"))
        // The contact list is ranked by value, not risk: its own reach, as a point.
        let contactsX = Double(contacts.count) / Double(max(order.count, 1))
        let contactsReach = contacts.reduce(0.0) { $0 + scored.risk[$1.row] } / totalRisk
        datasets.append(
            .object([
                "label": .string(text("gain.contacts", context)), "data": .array([.object(["x": .number(contactsX), "y": .number(contactsReach)])]),
                "pointRadius": .number(6), "borderColor": .string(Self.palette[2]), "backgroundColor": .string(Self.palette[2]),
            ]))
        let chart = ChartSpec(
            id: "gain-chart", title: text("gain.title", context), type: "scatter", data: .object(["datasets": .array(datasets)]),
            options: Self.axes(x: text("gain.contacted", context), y: text("gain.reached", context), maximum: 1), height: 260,
            columns: [text("gain.contacted", context), text("gain.churners", context)] + (bills == nil ? [] : [text("gain.revenue", context)]),
            rows: rows)
        var values: [String: Any] = [
            "gain_note": text("gain.note", context)
                .replacingOccurrences(of: "{at_risk}", with: Self.percent(Double(report.atRiskCustomers) / Double(max(order.count, 1))))
                .replacingOccurrences(of: "{contacts}", with: Self.percent(contactsX))
                .replacingOccurrences(of: "{reach}", with: Self.percent(contactsReach)),
        ]
        // Against the file's label, when it has one: who was at risk by the threshold, who left.
        if !left.isEmpty {
            var counts = (tp: 0, fp: 0, fn: 0, tn: 0)
            for row in 0..<min(left.count, scored.risk.count) {
                switch (scored.risk[row] >= report.atRiskThreshold, left[row]) {
                case (true, true): counts.tp += 1
                case (true, false): counts.fp += 1
                case (false, true): counts.fn += 1
                case (false, false): counts.tn += 1
                }
            }
            values["confusion"] = [
                "tp": Self.grouped(counts.tp), "fp": Self.grouped(counts.fp), "fn": Self.grouped(counts.fn), "tn": Self.grouped(counts.tn),
                "precision": counts.tp + counts.fp == 0 ? "—" : Self.percent(Double(counts.tp) / Double(counts.tp + counts.fp)),
                "recall": counts.tp + counts.fn == 0 ? "—" : Self.percent(Double(counts.tp) / Double(counts.tp + counts.fn)),
                "note": text("confusion.note", context).replacingOccurrences(of: "{threshold}", with: Self.percent(report.atRiskThreshold)),
            ]
        }
        return (values, chart)
    }

    /// `Qini 0.046 vs 0.021 by risk, gain [0.004, 0.041]`.
    func qiniText(_ standing: RetentionReport.UpliftStanding, context: WebRequestContext) -> String {
        var text = self.text("ret.qini", context) + " " + (standing.qini.map { String(format: "%.3f", $0) } ?? "—")
        if let byRisk = standing.qiniByRisk { text += " · " + self.text("ret.by_risk", context) + String(format: " %.3f", byRisk) }
        if let gain = standing.gain { text += String(format: " · %@ [%.3f, %.3f]", self.text("ret.gain", context), gain.low, gain.high) }
        return text
    }

    /// What the target list is ranked by, said plainly.
    func basisNote(_ basis: RetentionReport.TargetBasis, context: WebRequestContext) -> String {
        switch basis {
        case .simulation: text("ret.targets_note", context)
        case .upliftModel: text("ret.targets_note_uplift", context)
        }
    }
}
