import ChurnData
import ChurnProtocol
import ChurnRegistry
import Foundation
import NIOPosix

/// Customers' real months on the daemon's side: the months a prediction reads (sent inline with
/// the record, else the history store's, else none), and the store's methods
/// (`history.append`, `history.get`). Every month is checked against the model's panel schema
/// before it is stored or scored; store I/O runs off the event loop.
final class CustomerHistory: Sendable {
    let store: HistoryStore

    /// Months one `history.append` call may carry.
    static let maximumAppend = 200_000

    init(store: HistoryStore) {
        self.store = store
    }

    // MARK: Predictions

    /// The months each of `records` (checked records, canonical) reads under `panel`, attached
    /// to the records as the plugin gets them, and where they came from. `originals` are the
    /// records as the client sent them, at `positions` of the request (for error paths).
    func attach(
        to records: [CustomerRecord], originals: [CustomerRecord], positions: [Int], ids: [String], panel: PanelSchema, model: String
    ) async throws -> (records: [CustomerRecord], sources: [HistorySource]) {
        var attached = records
        var sources = [HistorySource](repeating: .noMonths, count: records.count)
        var lookups: [Int] = []
        for row in records.indices {
            guard let inline = originals[row].history else {
                lookups.append(row)
                continue
            }
            let months: [PanelMonth]
            do {
                months = try panel.months(from: inline)
            } catch {
                throw RPCError.invalidParams(field: "customers[\(positions[row])].\(error.field)", error.reason)
            }
            attached[row].history = panel.records(of: Array(months.suffix(panel.window)))
            sources[row] = .inline
        }
        // A shared registry that cannot be reached: customers are scored without stored months
        // (their answers say `history: none`) rather than not at all.
        var unreachable = false
        if !lookups.isEmpty {
            let wanted = lookups.map { ids[$0] }
            let store = self.store
            var stored: [String: [StoredMonth]] = [:]
            do {
                stored = try await NIOThreadPool.singleton.runIfActive {
                    try store.months(model: model, customers: wanted)
                }
            } catch {
                guard case .unavailable? = error as? RegistryError else { throw error }
                unreachable = true
            }
            for row in lookups {
                guard let months = stored[ids[row]], !months.isEmpty else { continue }
                attached[row].history = try Self.checked(months.suffix(panel.window), of: ids[row], panel: panel)
                sources[row] = .stored
            }
        }
        if panel.required, let missing = sources.firstIndex(of: .noMonths) {
            throw RPCError.invalidParams(
                field: "customers[\(positions[missing])].history",
                unreachable
                    ? "the model requires each customer's months; \(ids[missing]) sent none and the shared registry that stores them cannot be reached now: send them in history"
                    : "the model requires each customer's months and \(ids[missing]) has none: send them in history, or store them with history.append")
        }
        return (attached, sources)
    }

    /// Stored months checked again under the version's panel (a column it reads that a month
    /// lacks is missing), as records carry them.
    static func checked(_ months: ArraySlice<StoredMonth>, of customer: String, panel: PanelSchema) throws -> [[String: FieldValue]] {
        let records = months.map { month -> [String: FieldValue] in
            var record: [String: FieldValue] = ["period": .string(MonthlyPanel.periodText(month.period))]
            for column in panel.inputs { record[column.name] = month.values[column.name] ?? .null }
            return record
        }
        do {
            return panel.records(of: try panel.months(from: records))
        } catch {
            let index = Int(error.field.dropFirst("history[".count).prefix { $0.isNumber }) ?? 0
            let period = index < records.count ? records[index]["period"]?.text ?? "?" : "?"
            throw RPCError(
                .invalidData,
                "the stored month \(period) of customer \(customer) does not fit this model's panel: \(error.reason) (\(error.field)); send it again with history.append")
        }
    }

    // MARK: history.append and history.get

    /// Checks and stores `params.months` of `model` under its `panel`: all or none.
    func append(_ params: HistoryAppendParams, model: String, panel: PanelSchema) async throws -> HistoryAppendResult {
        guard !params.months.isEmpty else { throw RPCError.invalidParams(field: "months", "must hold at least one month") }
        guard params.months.count <= Self.maximumAppend else {
            throw RPCError.invalidParams(
                field: "months", "holds \(params.months.count) months; at most \(Self.maximumAppend) per call (send the rest in further calls)")
        }
        var rows: [StoredMonth] = []
        rows.reserveCapacity(params.months.count)
        var customers: Set<String> = []
        var seen: [String: Int] = [:]
        for (index, month) in params.months.enumerated() {
            let path = "months[\(index)]"
            guard let idValue = month["customerID"] ?? month[panel.customer] else {
                throw RPCError.invalidParams(field: "\(path).customerID", "required field is missing")
            }
            guard let id = idValue.text?.trimmingCharacters(in: .whitespaces), !id.isEmpty else {
                throw RPCError.invalidParams(field: "\(path).customerID", "must be a non-empty string")
            }
            var record = month
            if record["period"] == nil { record["period"] = month[panel.period] }
            let parsed: PanelMonth
            do {
                guard let only = try panel.months(from: [record]).first else { continue }
                parsed = only
            } catch {
                throw RPCError.invalidParams(field: path + error.field.drop { $0 != "." }, error.reason)
            }
            let key = "\(id)\u{1}\(parsed.period)"
            if let first = seen[key] {
                throw RPCError.invalidParams(
                    field: "\(path).period",
                    "customer \(id) has period \(MonthlyPanel.periodText(parsed.period)) twice in this call (months[\(first)] and months[\(index)])")
            }
            seen[key] = index
            customers.insert(id)
            rows.append(StoredMonth(customerID: id, period: parsed.period, values: panel.values(of: parsed)))
        }
        let store = self.store
        let months = rows
        let result = try await NIOThreadPool.singleton.runIfActive { try store.upsert(model: model, months: months) }
        return HistoryAppendResult(appended: result.appended, replaced: result.replaced, unchanged: result.unchanged, customers: customers.count)
    }

    /// Stores a training panel's months for `model`.
    func importPanel(_ panel: MonthlyPanel, model: String) async throws -> HistoryUpsert {
        var rows: [StoredMonth] = []
        for (id, months) in panel.histories {
            for month in months { rows.append(StoredMonth(customerID: id, period: month.period, values: panel.schema.values(of: month))) }
        }
        let store = self.store
        let months = rows
        return try await NIOThreadPool.singleton.runIfActive { try store.upsert(model: model, months: months) }
    }

    /// A customer's stored months of `model`, oldest first.
    func months(of customer: String, model: String) async throws -> HistoryGetResult {
        let store = self.store
        let stored = try await NIOThreadPool.singleton.runIfActive { try store.months(model: model, customers: [customer]) }
        let months = (stored[customer] ?? []).map { month -> [String: FieldValue] in
            var record = month.values
            record["period"] = .string(MonthlyPanel.periodText(month.period))
            return record
        }
        return HistoryGetResult(customerID: customer, months: months)
    }
}
