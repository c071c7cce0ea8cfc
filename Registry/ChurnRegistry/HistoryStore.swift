import ChurnProtocol
import Foundation

/// One stored month of one customer: its period (`YYYY-MM` as year × 12 + month, or a month
/// number) and its values by panel column (checked by the daemon before they are stored).
public struct StoredMonth: Sendable, Hashable {
    public var customerID: String
    public var period: Int
    public var values: [String: FieldValue]

    public init(customerID: String, period: Int, values: [String: FieldValue]) {
        self.customerID = customerID
        self.period = period
        self.values = values
    }
}

/// What an append did, month by month.
public struct HistoryUpsert: Sendable, Hashable {
    /// Months stored for the first time.
    public var appended = 0
    /// Months that replaced a stored month of the same customer and period with other values.
    public var replaced = 0
    /// Months sent again with the values already stored.
    public var unchanged = 0

    public init(appended: Int = 0, replaced: Int = 0, unchanged: Int = 0) {
        self.appended = appended
        self.replaced = replaced
        self.unchanged = unchanged
    }
}

/// The history store: customers' real months per model name, in the registry's database on its
/// own connection (so a large import never waits on, or blocks, the registry's). A month is
/// keyed by model, customer and period: sending it again is idempotent, a correction replaces
/// it, and nothing else a customer has stored is touched. Call off the event loop.
public final class HistoryStore: @unchecked Sendable {
    private let database: any SQLStore
    private let lock = NSLock()

    /// The most customers one lookup query names (SQLite's parameter limit is far above).
    static let lookupChunk = 500

    /// Opens the store in the SQLite registry at `path` (`:memory:` for a private one),
    /// bringing its schema up to date.
    public convenience init(path: String) throws(RegistryError) {
        try self.init(location: .sqlite(path: path))
    }

    /// Opens the store in the registry at `location`, on a connection of its own.
    public init(location: RegistryLocation) throws(RegistryError) {
        database = try location.openStore()
        if database.dialect == .sqlite {
            do {
                try database.execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL")
            } catch {
                throw RegistryError.classify(error, location: location.description)
            }
        }
    }

    /// Stores `months` of `model` in one transaction: all or none.
    public func upsert(model: String, months: [StoredMonth], at now: Date = Date()) throws(RegistryError) -> HistoryUpsert {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var result = HistoryUpsert()
        do {
            try lock.withLock {
                try database.transaction {
                    // What is stored now for these customers, in chunks of one query each.
                    var stored: [String: String] = [:]
                    let customers = Array(Set(months.map(\.customerID)))
                    for start in stride(from: 0, to: customers.count, by: Self.lookupChunk) {
                        let chunk = customers[start..<min(start + Self.lookupChunk, customers.count)]
                        let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                        for row in try database.query(
                            #"SELECT customer_id, period, "values" FROM history_months WHERE model = ? AND customer_id IN (\#(placeholders))"#,
                            [.text(model)] + chunk.map { .text($0) })
                        {
                            stored["\(row.text("customer_id") ?? "")\u{0}\(row.int("period") ?? 0)"] = row.text("values")
                        }
                    }
                    var writes: [String: [SQLValue]] = [:]
                    var order: [String] = []
                    for month in months {
                        let values = String(decoding: try encoder.encode(month.values), as: UTF8.self)
                        let key = "\(month.customerID)\u{0}\(month.period)"
                        if let existing = stored[key] {
                            if existing == values {
                                result.unchanged += 1
                                continue
                            }
                            result.replaced += 1
                        } else {
                            result.appended += 1
                        }
                        stored[key] = values
                        if writes[key] == nil { order.append(key) }
                        writes[key] = [.text(model), .text(month.customerID), .integer(Int64(month.period)), .text(values), .real(now.timeIntervalSince1970)]
                    }
                    // One row per customer and period (the last sent wins), written in batches:
                    // a correction replaces the month.
                    try database.runMany(
                        #"""
                        INSERT INTO history_months (model, customer_id, period, "values", updated_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (model, customer_id, period) DO UPDATE SET "values" = excluded."values", updated_at = excluded.updated_at
                        """#, order.map { writes[$0]! })
                }
            }
        } catch let error as EncodingError {
            throw .conflict("storing months failed: \(error)")
        } catch {
            throw RegistryError.classify(error, location: database.location)
        }
        return result
    }

    /// The stored months of `customers` of `model`, oldest first, by customer (customers
    /// without months are absent).
    public func months(model: String, customers: [String]) throws(RegistryError) -> [String: [StoredMonth]] {
        let decoder = JSONDecoder()
        var result: [String: [StoredMonth]] = [:]
        let distinct = Array(Set(customers))
        do {
            try lock.withLock {
                for start in stride(from: 0, to: distinct.count, by: Self.lookupChunk) {
                    let chunk = distinct[start..<min(start + Self.lookupChunk, distinct.count)]
                    let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                    let rows = try database.query(
                        """
                        SELECT customer_id, period, "values" FROM history_months
                        WHERE model = ? AND customer_id IN (\(placeholders)) ORDER BY customer_id, period
                        """, [.text(model)] + chunk.map { .text($0) })
                    for row in rows {
                        guard let id = row.text("customer_id"), let period = row.int("period"), let text = row.text("values") else { continue }
                        let values = try decoder.decode([String: FieldValue].self, from: Data(text.utf8))
                        result[id, default: []].append(StoredMonth(customerID: id, period: period, values: values))
                    }
                }
            }
        } catch let error as DecodingError {
            throw .conflict("stored months are unreadable: \(error)")
        } catch {
            throw RegistryError.classify(error, location: database.location)
        }
        return result
    }

    /// How many customers and months `model` has stored.
    public func count(model: String) throws(RegistryError) -> (customers: Int, months: Int) {
        do {
            return try lock.withLock {
                let row = try database.queryOne(
                    "SELECT COUNT(DISTINCT customer_id) AS customers, COUNT(*) AS months FROM history_months WHERE model = ?",
                    [.text(model)])
                return (row?.int("customers") ?? 0, row?.int("months") ?? 0)
            }
        } catch {
            throw RegistryError.classify(error, location: database.location)
        }
    }
}
