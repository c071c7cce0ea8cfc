/// The daemon's history store: customers' monthly rows, for models that read a monthly panel
/// (`Protocol/PROTOCOL.md`, "history.append" and "history.get").
public enum HistoryMethod {
    /// Store monthly rows for customers: idempotent per customer and period, a correction replaces.
    public enum Append: RPCMethod {
        public static let name = "history.append"
        public typealias Params = HistoryAppendParams
        public typealias Result = HistoryAppendResult
    }

    /// A customer's stored months, oldest first.
    public enum Get: RPCMethod {
        public static let name = "history.get"
        public typealias Params = HistoryGetParams
        public typealias Result = HistoryGetResult
    }
}

/// Params of `history.append`.
public struct HistoryAppendParams: Codable, Sendable, Hashable {
    /// The model name whose panel the months belong to (default `churn`): they are checked
    /// against the panel schema of its champion (else of its newest version reading a panel).
    public var model: String?
    /// One object per customer and month: `customerID` (or the panel's customer column),
    /// `period` (`YYYY-MM` or a month number; or the panel's period column), and the panel's
    /// columns (by field or file name).
    public var months: [[String: FieldValue]]

    public init(model: String? = nil, months: [[String: FieldValue]]) {
        self.model = model
        self.months = months
    }
}

/// The `history.append` result.
public struct HistoryAppendResult: Codable, Sendable, Hashable {
    /// Months stored for the first time.
    public var appended: Int
    /// Months that replaced a stored month of the same customer and period with other values
    /// (corrections).
    public var replaced: Int
    /// Months sent again with the values already stored (nothing changed).
    public var unchanged: Int
    /// Distinct customers in the call.
    public var customers: Int

    public init(appended: Int, replaced: Int, unchanged: Int, customers: Int) {
        self.appended = appended
        self.replaced = replaced
        self.unchanged = unchanged
        self.customers = customers
    }
}

/// Params of `history.get`.
public struct HistoryGetParams: Codable, Sendable, Hashable {
    public var model: String?
    public var customerID: String

    public init(model: String? = nil, customerID: String) {
        self.model = model
        self.customerID = customerID
    }
}

/// The `history.get` result.
public struct HistoryGetResult: Codable, Sendable, Hashable {
    public var customerID: String
    /// The customer's months, oldest first: `period` and the stored values.
    public var months: [[String: FieldValue]]

    public init(customerID: String, months: [[String: FieldValue]]) {
        self.customerID = customerID
        self.months = months
    }
}
