import ChurnProtocol
import Foundation

/// What a customer file holds and how each column is read: the id column (or none), the label
/// and the values that mean "churned" and "stayed", an optional churn-reason column (evidence,
/// never an input), and each input column's type. Written as JSON (the format every other churn
/// artifact and the protocol already use, so a schema can travel inline in a request and inside
/// a model version without another parser):
///
/// ```json
/// {"format": 1, "name": "orange-telecom",
///  "id": null,
///  "label": {"column": "Churn", "positive": ["True"], "negative": ["False"]},
///  "columns": [
///    {"name": "State", "type": "categorical", "open": true},
///    {"name": "Account length", "type": "numeric", "min": 0, "integer": true},
///    {"name": "International plan", "type": "boolean"},
///    {"name": "Signup date", "type": "date"},
///    {"name": "Phone", "type": "ignored"}],
///  "never_inputs": ["Churn Score"]}
/// ```
///
/// A column may read a file column of another name (`"column": "Tenure Months"`) and translate
/// values (`"map": {"Yes": "1"}`); models and records always use `name` and the translated
/// values. Columns of the file the schema does not name are not read.
public struct DatasetSchema: Sendable, Hashable {
    /// The only format this build reads and writes.
    public static let currentFormat = 1

    /// A short name for messages and the registry (`telco-kaggle`, `inferred`, ...).
    public var name: String
    /// The identifier column; nil means the file has none and rows are named `row-<n>` (the
    /// data row number).
    public var id: IdentifierColumn?
    /// The outcome column.
    public var label: LabelColumn
    /// Churn reasons kept as evidence for the retention page; never an input.
    public var reason: FileColumn?
    /// The input columns, in order, and the ones declared `ignored`.
    public var columns: [SchemaColumn]
    /// Columns that must never become inputs (outcome-derived scores, labels under other names).
    public var neverInputs: [String]
    /// The fields the named fallback history is derived from (telco: tenure and charges); absent
    /// when the data has no such fields.
    public var derivedHistory: DerivedHistoryFields?
    /// A numeric input that is the customer's monthly bill, for revenue figures.
    public var revenue: String?
    /// The monthly panel models of this data read: each customer's months, by their own columns.
    public var history: PanelSchema?

    public init(
        name: String, id: IdentifierColumn?, label: LabelColumn, reason: FileColumn? = nil, columns: [SchemaColumn],
        neverInputs: [String] = [], derivedHistory: DerivedHistoryFields? = nil, revenue: String? = nil,
        history: PanelSchema? = nil
    ) {
        self.history = history
        self.name = name
        self.id = id
        self.label = label
        self.reason = reason
        self.columns = columns
        self.neverInputs = neverInputs
        self.derivedHistory = derivedHistory
        self.revenue = revenue
    }

    /// The columns that are model inputs (not `ignored`), in order.
    public var inputs: [SchemaColumn] { columns.filter { $0.type != .ignored } }

    /// The input column named `name`.
    public func input(named name: String) -> SchemaColumn? { inputs.first { $0.name == name } }

    /// Every name that is an outcome or evidence and must never be read as an input: the label,
    /// the reason and the declared never-inputs, under both their field and file names.
    public var outcomeNames: Set<String> {
        var names = Set(neverInputs)
        names.insert(label.name)
        names.insert(label.column)
        if let reason {
            names.insert(reason.name)
            names.insert(reason.column)
        }
        return names
    }

    /// The same fields as they travel between the daemon and plugins: file names and value
    /// maps gone (columns are named as fields, values already translated), rows without an id
    /// named in a `row_id` column.
    public var canonical: DatasetSchema {
        var schema = self
        schema.history = history?.canonical
        schema.id = IdentifierColumn(name: id?.name ?? Self.generatedIDName, generated: id == nil)
        schema.label = LabelColumn(name: label.name, positive: label.positive, negative: label.negative)
        schema.reason = nil
        schema.columns = inputs.map { column in
            var canonical = column
            canonical.column = nil
            canonical.map = nil
            return canonical
        }
        return schema
    }

    /// The id column name of files whose rows had no id.
    public static let generatedIDName = "row_id"
}

/// The identifier column.
public struct IdentifierColumn: Sendable, Hashable {
    /// The field name records use.
    public var name: String
    /// The file's column, when it differs.
    public var column: String
    /// True when the ids were generated from row numbers (the file had none).
    public var generated: Bool

    public init(name: String, column: String? = nil, generated: Bool = false) {
        self.name = name
        self.column = column ?? name
        self.generated = generated
    }
}

/// The outcome column and what its values mean.
public struct LabelColumn: Sendable, Hashable {
    public var name: String
    public var column: String
    /// Values meaning "churned" (compared after trimming spaces).
    public var positive: [String]
    /// Values meaning "stayed".
    public var negative: [String]

    public init(name: String, column: String? = nil, positive: [String], negative: [String]) {
        self.name = name
        self.column = column ?? name
        self.positive = positive
        self.negative = negative
    }
}

/// A column by field name and file name.
public struct FileColumn: Sendable, Hashable {
    public var name: String
    public var column: String

    public init(name: String, column: String? = nil) {
        self.name = name
        self.column = column ?? name
    }
}

/// How an input column is read and what values it may take.
public struct SchemaColumn: Sendable, Hashable {
    public var name: String
    /// The file's column, when it differs from `name`.
    public var column: String?
    public var type: ColumnType
    /// Categorical: the values it may take (closed), or the values known so far (open).
    public var values: [String]?
    /// Categorical: any value is accepted (unseen ones share an `unknown` column in models).
    public var open: Bool
    /// Categorical and boolean: the file's value → the schema's value.
    public var map: [String: String]?
    /// Numeric: bounds, inclusive.
    public var minimum: Double?
    public var maximum: Double?
    /// Numeric: whole numbers only.
    public var integer: Bool
    /// Numeric and date: what a blank cell means.
    public var blank: BlankRule
    /// Boolean: the values meaning true and false (compared ignoring case).
    public var trueValues: [String]?
    public var falseValues: [String]?
    /// What people call the field, by language code (`{"ko": "약정"}`), for forms and tables.
    public var labels: [String: String]?
    /// The unit a number is in, by language code (`{"en": "months", "ko": "개월"}`), as reasons
    /// and tables say it after the value.
    public var units: [String: String]?
    /// Categorical: what people call each value, by language code and then value
    /// (`{"ko": {"Month-to-month": "월 단위"}}`).
    public var valueLabels: [String: [String: String]]?

    public init(
        name: String, column: String? = nil, type: ColumnType, values: [String]? = nil, open: Bool = false,
        map: [String: String]? = nil, minimum: Double? = nil, maximum: Double? = nil, integer: Bool = false,
        blank: BlankRule = .error, trueValues: [String]? = nil, falseValues: [String]? = nil, labels: [String: String]? = nil,
        units: [String: String]? = nil, valueLabels: [String: [String: String]]? = nil
    ) {
        self.labels = labels
        self.units = units
        self.valueLabels = valueLabels
        self.name = name
        self.column = column
        self.type = type
        self.values = values
        self.open = open
        self.map = map
        self.minimum = minimum
        self.maximum = maximum
        self.integer = integer
        self.blank = blank
        self.trueValues = trueValues
        self.falseValues = falseValues
    }

    /// The file column this field is read from.
    public var fileColumn: String { column ?? name }

    /// The field's label in `language`: the schema's label with the name beside it, or the name.
    public func label(_ language: String) -> String {
        guard let label = labels?[language], label != name else { return name }
        return "\(label) (\(name))"
    }

    /// What people call the field in `language`, alone (for sentences and reasons): the schema's
    /// label in that language, else its English label, else the name in words
    /// (`MonthlyCharges` → `Monthly charges`, `dropped_calls` → `Dropped calls`).
    public func displayName(_ language: String) -> String {
        labels?[language] ?? labels?["en"] ?? Self.words(name)
    }

    /// `value` as people say it in `language`: the schema's value label, else the value.
    public func displayValue(_ value: String, _ language: String) -> String {
        valueLabels?[language]?[value] ?? value
    }

    /// The unit of a number in `language` (the English one when there is none in it).
    public func unit(_ language: String) -> String? {
        units?[language] ?? units?["en"]
    }

    /// A field name in words: split at underscores, dashes, spaces and lower-to-upper case
    /// changes; words in capitals (`TV`) kept, others lower case; the first letter capitalised.
    public static func words(_ name: String) -> String {
        var words: [String] = []
        var current = ""
        var previous: Character?
        for character in name {
            if character == "_" || character == "-" || character == " " || character == "." {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
                words.append(current)
                current = String(character)
            } else {
                current.append(character)
            }
            previous = character
        }
        if !current.isEmpty { words.append(current) }
        let shaped = words.map { word in word.count > 1 && word == word.uppercased() ? word : word.lowercased() }
        guard let first = shaped.first else { return name }
        return ([first.prefix(1).uppercased() + first.dropFirst()] + shaped.dropFirst()).joined(separator: " ")
    }

    /// Boolean tokens when the schema names none.
    public static let defaultTrue = ["yes", "true", "1", "y", "t"]
    public static let defaultFalse = ["no", "false", "0", "n", "f"]
}

/// The type of an input column.
public struct ColumnType: RawRepresentable, Sendable, Hashable, CaseIterable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A number: a decimal, optionally bounded and whole.
    public static let numeric = ColumnType(rawValue: "numeric")
    /// One of a set of values (closed), or any text (open).
    public static let categorical = ColumnType(rawValue: "categorical")
    /// Yes or no (a number 1 or 0 for models).
    public static let boolean = ColumnType(rawValue: "boolean")
    /// A calendar date `YYYY-MM-DD` (days since 1970-01-01 for models).
    public static let date = ColumnType(rawValue: "date")
    /// Read neither as input nor as anything else.
    public static let ignored = ColumnType(rawValue: "ignored")

    public static let allCases: [ColumnType] = [.numeric, .categorical, .boolean, .date, .ignored]

    /// True when models read it as a number (numeric, boolean, date).
    public var isNumber: Bool { self == .numeric || self == .boolean || self == .date }
}

/// What a blank numeric or date cell means.
public enum BlankRule: Sendable, Hashable {
    /// A blank is an error.
    case error
    /// A blank is a missing value (models fill it and may mark it).
    case missing
    /// A blank is allowed only when another numeric column equals a value, and then reads as
    /// `value` (telco: a blank TotalCharges at tenure 0 is 0, nothing billed yet).
    case when(column: String, equals: Double, value: Double)
}

/// A monthly panel: one row per customer and month (`customer_id, period, <columns>...`, in any
/// order), the customer's real history. `period` is `YYYY-MM` or a month number. Models read the
/// last `window` months of each customer, months before the customer existed masked.
public struct PanelSchema: Sendable, Hashable {
    /// The column naming the customer (its values are the customers' ids).
    public var customer: String
    /// The column naming the month.
    public var period: String
    /// The value columns: numeric, categorical or boolean (as in a dataset schema).
    public var columns: [SchemaColumn]
    /// Months per customer models read (the last ones).
    public var window: Int
    /// When true, a customer with no months is an error at prediction; when false (the default)
    /// they are scored without history and the answer says so.
    public var required: Bool

    public init(customer: String = "customer_id", period: String = "period", columns: [SchemaColumn], window: Int = 12, required: Bool = false) {
        self.customer = customer
        self.period = period
        self.columns = columns
        self.window = window
        self.required = required
    }

    /// The columns models read (not ignored).
    public var inputs: [SchemaColumn] { columns.filter { $0.type != .ignored } }

    /// The input column named `name`.
    public func input(named name: String) -> SchemaColumn? { inputs.first { $0.name == name } }

    /// The months as they travel between the daemon and plugins: columns named as fields, values
    /// translated.
    public var canonical: PanelSchema {
        var panel = self
        panel.columns = inputs.map { column in
            var canonical = column
            canonical.column = nil
            canonical.map = nil
            return canonical
        }
        return panel
    }
}

/// The fields the derived monthly history reads (GUIDE section 2): a named fallback for files
/// without a monthly panel.
public struct DerivedHistoryFields: Sendable, Hashable, Codable {
    /// Months since the customer joined.
    public var tenure: String
    /// This month's charge.
    public var monthlyCharge: String
    /// All charges so far.
    public var totalCharges: String

    public init(tenure: String, monthlyCharge: String, totalCharges: String) {
        self.tenure = tenure
        self.monthlyCharge = monthlyCharge
        self.totalCharges = totalCharges
    }

    enum CodingKeys: String, CodingKey {
        case tenure
        case monthlyCharge = "monthly_charge"
        case totalCharges = "total_charges"
    }
}
