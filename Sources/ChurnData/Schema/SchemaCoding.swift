import ChurnProtocol
import Foundation

/// Reading and writing ``DatasetSchema`` as JSON, and checking that a schema makes sense. Every
/// problem names the schema (file) and the member by its path: `columns[3].type`.
extension DatasetSchema {
    /// Reads a schema file.
    public static func read(file path: String) throws(DataError) -> DatasetSchema {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(file: path, reason: error.localizedDescription)
        }
        return try parse(bytes, source: path)
    }

    /// Parses schema JSON; `source` is what errors call it.
    public static func parse(_ bytes: [UInt8], source: String) throws(DataError) -> DatasetSchema {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw .invalidSchema(source: source, field: "", reason: "not valid JSON: \(error)")
        }
        return try decode(json, source: source)
    }

    /// The schema a JSON value describes, checked.
    public static func decode(_ json: JSONValue, source: String) throws(DataError) -> DatasetSchema {
        var reader = SchemaReader(source: source)
        let schema = try reader.schema(json)
        try schema.check(source: source)
        return schema
    }

    /// The schema as JSON (what files, the registry and the protocol carry).
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "format": .number(Double(Self.currentFormat)), "name": .string(name),
            "label": label.jsonValue,
            "columns": .array(columns.map(\.jsonValue)),
        ]
        object["id"] = id.map(\.jsonValue) ?? .null
        if let reason { object["reason"] = reason.jsonValue }
        if !neverInputs.isEmpty { object["never_inputs"] = .array(neverInputs.map { .string($0) }) }
        if let derivedHistory {
            object["derived_history"] = .object([
                "tenure": .string(derivedHistory.tenure), "monthly_charge": .string(derivedHistory.monthlyCharge),
                "total_charges": .string(derivedHistory.totalCharges),
            ])
        }
        if let revenue { object["revenue"] = .string(revenue) }
        if let history { object["history"] = history.jsonValue }
        return .object(object)
    }

    /// Pretty JSON bytes, for `churn data inspect --write`.
    public func prettyJSON() -> String {
        SchemaJSON.pretty(jsonValue)
    }

    /// Checks that the schema is usable: names unique, the label, id and reason not inputs,
    /// declared never-inputs not inputs, rules naming numeric inputs.
    public func check(source: String) throws(DataError) {
        func fail(_ field: String, _ reason: String) -> DataError { .invalidSchema(source: source, field: field, reason: reason) }
        guard !label.positive.isEmpty else { throw fail("label.positive", "name at least one value meaning churned") }
        guard !label.negative.isEmpty else { throw fail("label.negative", "name at least one value meaning stayed") }
        if let both = Set(label.positive).intersection(label.negative).first {
            throw fail("label", "\"\(both)\" is both a positive and a negative value")
        }
        var seen: [String: Int] = [:]
        var fileColumns: [String: Int] = [:]
        for (index, column) in columns.enumerated() {
            let path = "columns[\(index)]"
            guard !column.name.isEmpty else { throw fail("\(path).name", "must not be empty") }
            if let first = seen[column.name] { throw fail("\(path).name", "\"\(column.name)\" is also columns[\(first)]") }
            seen[column.name] = index
            if column.type != .ignored, let first = fileColumns[column.fileColumn] {
                throw fail("\(path).column", "file column \"\(column.fileColumn)\" is also read by columns[\(first)]")
            }
            fileColumns[column.fileColumn] = index
            guard column.type != .ignored else { continue }
            let outcome = outcomeNames
            if outcome.contains(column.name) || outcome.contains(column.fileColumn) {
                let what = column.fileColumn == label.column || column.name == label.name ? "the label" : "an outcome column"
                throw fail(
                    "\(path)", "\"\(column.fileColumn)\" is \(what) and can never be an input: declare it ignored or remove it")
            }
            if let id, column.fileColumn == id.column || column.name == id.name {
                throw fail("\(path)", "\"\(column.name)\" is the id column; an id is not an input")
            }
            if column.type == .categorical {
                if !column.open, (column.values ?? []).isEmpty {
                    throw fail("\(path).values", "a closed categorical column needs its values (or \"open\": true)")
                }
                if let values = column.values, Set(values).count != values.count {
                    throw fail("\(path).values", "lists a value twice")
                }
                if let map = column.map, !column.open, let values = column.values {
                    for target in map.values.sorted() where !values.contains(target) {
                        throw fail("\(path).map", "maps to \"\(target)\", which is not one of \(values.joined(separator: ", "))")
                    }
                }
            }
            if let minimum = column.minimum, let maximum = column.maximum, minimum > maximum {
                throw fail("\(path)", "min \(minimum) is above max \(maximum)")
            }
            if case .when(let other, _, _) = column.blank {
                guard let condition = input(named: other), condition.type == .numeric else {
                    throw fail("\(path).blank.when.column", "\"\(other)\" is not a numeric input column")
                }
            }
        }
        guard !inputs.isEmpty else { throw fail("columns", "no input columns: at least one must not be ignored") }
        if let derivedHistory {
            for (member, field) in [
                ("tenure", derivedHistory.tenure), ("monthly_charge", derivedHistory.monthlyCharge),
                ("total_charges", derivedHistory.totalCharges),
            ] where input(named: field)?.type != .numeric {
                throw fail("derived_history.\(member)", "\"\(field)\" is not a numeric input column")
            }
        }
        if let revenue, input(named: revenue)?.type != .numeric {
            throw fail("revenue", "\"\(revenue)\" is not a numeric input column")
        }
        if let history { try history.check(source: source, path: "history") }
    }
}

extension PanelSchema {
    /// The panel schema as JSON.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "customer": .string(customer), "period": .string(period), "window": .number(Double(window)),
            "columns": .array(columns.map(\.jsonValue)),
        ]
        if required { object["required"] = .bool(true) }
        return .object(object)
    }

    /// Pretty JSON, for `churn data inspect --panel --write`.
    public func prettyJSON() -> String {
        SchemaJSON.pretty(jsonValue)
    }

    /// Reads a panel schema (the `history` member, or a file of its own).
    public static func decode(_ json: JSONValue, source: String, path: String = "history") throws(DataError) -> PanelSchema {
        var reader = SchemaReader(source: source)
        let panel = try reader.panel(json, path)
        try panel.check(source: source, path: path)
        return panel
    }

    /// Checks the panel: names unique and not the customer or period column, a usable window,
    /// value columns numeric, categorical or boolean.
    public func check(source: String, path: String) throws(DataError) {
        func fail(_ field: String, _ reason: String) -> DataError { .invalidSchema(source: source, field: field, reason: reason) }
        guard customer != period else { throw fail("\(path).period", "the period column cannot be the customer column") }
        guard (1...120).contains(window) else { throw fail("\(path).window", "must be between 1 and 120 months, got \(window)") }
        var seen: Set<String> = []
        for (index, column) in columns.enumerated() {
            let at = "\(path).columns[\(index)]"
            guard seen.insert(column.name).inserted else { throw fail("\(at).name", "\"\(column.name)\" is listed twice") }
            guard column.fileColumn != customer, column.fileColumn != period else {
                throw fail(at, "\"\(column.name)\" is the customer or period column")
            }
            guard column.type != .date else { throw fail("\(at).type", "a panel column is numeric, categorical or boolean") }
            if column.type == .categorical, !column.open, (column.values ?? []).isEmpty {
                throw fail("\(at).values", "a closed categorical column needs its values (or \"open\": true)")
            }
        }
        guard !inputs.isEmpty else { throw fail("\(path).columns", "no value columns: a panel needs at least one") }
    }
}

/// Reads a schema's JSON, naming each member by its path when it does not fit.
private struct SchemaReader {
    let source: String

    func fail(_ field: String, _ reason: String) -> DataError { .invalidSchema(source: source, field: field, reason: reason) }

    func object(_ value: JSONValue?, _ path: String) throws(DataError) -> [String: JSONValue] {
        guard case .object(let members)? = value else { throw fail(path, "expected an object") }
        return members
    }

    func string(_ value: JSONValue?, _ path: String) throws(DataError) -> String {
        guard case .string(let text)? = value else { throw fail(path, "expected a string") }
        return text
    }

    func optionalString(_ value: JSONValue?, _ path: String) throws(DataError) -> String? {
        guard let value, value != .null else { return nil }
        return try string(value, path)
    }

    func strings(_ value: JSONValue?, _ path: String) throws(DataError) -> [String]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value else { throw fail(path, "expected an array of strings") }
        var result: [String] = []
        for (index, item) in items.enumerated() { result.append(try string(item, "\(path)[\(index)]")) }
        return result
    }

    func number(_ value: JSONValue?, _ path: String) throws(DataError) -> Double? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value, number.isFinite else { throw fail(path, "expected a number") }
        return number
    }

    func bool(_ value: JSONValue?, _ path: String) throws(DataError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else { throw fail(path, "expected true or false") }
        return flag
    }

    func known(_ members: [String: JSONValue], _ allowed: Set<String>, _ path: String) throws(DataError) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            let hint = NearMiss.hint(for: key, among: allowed.sorted())
            throw fail(path.isEmpty ? key : "\(path).\(key)", "unknown member\(hint); expected \(allowed.sorted().joined(separator: ", "))")
        }
    }

    mutating func schema(_ json: JSONValue) throws(DataError) -> DatasetSchema {
        let root = try object(json, "")
        try known(
            root, ["format", "name", "description", "id", "label", "reason", "columns", "never_inputs", "derived_history", "revenue", "history"],
            "")
        if let format = try number(root["format"], "format"), Int(format) != DatasetSchema.currentFormat {
            throw fail("format", "schema format \(Int(format)); this churn reads format \(DatasetSchema.currentFormat)")
        }
        let name = try optionalString(root["name"], "name") ?? "custom"
        var id: IdentifierColumn?
        switch root["id"] {
        case nil, .null?: id = nil
        case .string(let column)?: id = IdentifierColumn(name: column)
        case .object(let members)?:
            try known(members, ["name", "column", "generated"], "id")
            let idName = try string(members["name"], "id.name")
            id = IdentifierColumn(
                name: idName, column: try optionalString(members["column"], "id.column"),
                generated: try bool(members["generated"], "id.generated") ?? false)
        default: throw fail("id", "expected a column name, an object {\"name\", \"column\"}, or null for none")
        }
        let labelMembers = try object(root["label"], "label")
        try known(labelMembers, ["name", "column", "positive", "negative"], "label")
        let labelColumn = try optionalString(labelMembers["column"], "label.column")
        let labelName = try optionalString(labelMembers["name"], "label.name") ?? labelColumn
        guard let labelName else { throw fail("label.column", "name the label column") }
        let label = LabelColumn(
            name: labelName, column: labelColumn, positive: try strings(labelMembers["positive"], "label.positive") ?? [],
            negative: try strings(labelMembers["negative"], "label.negative") ?? [])
        var reason: FileColumn?
        switch root["reason"] {
        case nil, .null?: reason = nil
        case .string(let column)?: reason = FileColumn(name: column)
        case .object(let members)?:
            try known(members, ["name", "column"], "reason")
            reason = FileColumn(name: try string(members["name"], "reason.name"), column: try optionalString(members["column"], "reason.column"))
        default: throw fail("reason", "expected a column name or an object {\"name\", \"column\"}")
        }
        guard case .array(let items)? = root["columns"] else { throw fail("columns", "expected an array of columns") }
        var columns: [SchemaColumn] = []
        for (index, item) in items.enumerated() { columns.append(try column(item, "columns[\(index)]")) }
        var derived: DerivedHistoryFields?
        if let value = root["derived_history"], value != .null {
            let members = try object(value, "derived_history")
            try known(members, ["tenure", "monthly_charge", "total_charges"], "derived_history")
            derived = DerivedHistoryFields(
                tenure: try string(members["tenure"], "derived_history.tenure"),
                monthlyCharge: try string(members["monthly_charge"], "derived_history.monthly_charge"),
                totalCharges: try string(members["total_charges"], "derived_history.total_charges"))
        }
        var history: PanelSchema?
        if let value = root["history"], value != .null { history = try panel(value, "history") }
        return DatasetSchema(
            name: name, id: id, label: label, reason: reason, columns: columns,
            neverInputs: try strings(root["never_inputs"], "never_inputs") ?? [], derivedHistory: derived,
            revenue: try optionalString(root["revenue"], "revenue"), history: history)
    }

    mutating func panel(_ json: JSONValue, _ path: String) throws(DataError) -> PanelSchema {
        let members = try object(json, path)
        try known(members, ["customer", "period", "columns", "window", "required"], path)
        guard case .array(let items)? = members["columns"] else { throw fail("\(path).columns", "expected an array of columns") }
        var columns: [SchemaColumn] = []
        for (index, item) in items.enumerated() { columns.append(try column(item, "\(path).columns[\(index)]")) }
        let window = try number(members["window"], "\(path).window") ?? 12
        guard window.rounded() == window else { throw fail("\(path).window", "expected a whole number of months") }
        return PanelSchema(
            customer: try optionalString(members["customer"], "\(path).customer") ?? "customer_id",
            period: try optionalString(members["period"], "\(path).period") ?? "period", columns: columns, window: Int(window),
            required: try bool(members["required"], "\(path).required") ?? false)
    }

    func column(_ json: JSONValue, _ path: String) throws(DataError) -> SchemaColumn {
        let members = try object(json, path)
        try known(
            members,
            [
                "name", "column", "type", "values", "open", "map", "min", "max", "integer", "blank", "true", "false", "labels", "unit",
                "value_labels", "description",
            ],
            path)
        let name = try string(members["name"], "\(path).name")
        let typeName = try string(members["type"], "\(path).type")
        let type = ColumnType(rawValue: typeName)
        guard ColumnType.allCases.contains(type) else {
            throw fail(
                "\(path).type",
                "unknown type \"\(typeName)\"\(NearMiss.hint(for: typeName, among: ColumnType.allCases.map(\.rawValue))): expected numeric, categorical, boolean, date or ignored")
        }
        var map: [String: String]?
        if let value = members["map"], value != .null {
            var translated: [String: String] = [:]
            for (key, target) in try object(value, "\(path).map") { translated[key] = try string(target, "\(path).map.\(key)") }
            map = translated
        }
        let blank: BlankRule
        switch members["blank"] {
        case nil, .null?, .string("error")?: blank = .error
        case .string("missing")?: blank = .missing
        case .object(let rule)?:
            try known(rule, ["when", "value"], "\(path).blank")
            let condition = try object(rule["when"], "\(path).blank.when")
            try known(condition, ["column", "equals"], "\(path).blank.when")
            guard let equals = try number(condition["equals"], "\(path).blank.when.equals") else {
                throw fail("\(path).blank.when.equals", "expected a number")
            }
            guard let value = try number(rule["value"], "\(path).blank.value") else { throw fail("\(path).blank.value", "expected a number") }
            blank = .when(column: try string(condition["column"], "\(path).blank.when.column"), equals: equals, value: value)
        default:
            throw fail("\(path).blank", "expected \"error\", \"missing\", or {\"when\": {\"column\", \"equals\"}, \"value\"}")
        }
        var labels: [String: String]?
        if let value = members["labels"], value != .null {
            var translated: [String: String] = [:]
            for (language, label) in try object(value, "\(path).labels") {
                translated[language] = try string(label, "\(path).labels.\(language)")
            }
            labels = translated
        }
        var units: [String: String]?
        switch members["unit"] {
        case nil, .null?: break
        case .string(let unit)?: units = ["en": unit]
        case let value?:
            var translated: [String: String] = [:]
            for (language, unit) in try object(value, "\(path).unit") { translated[language] = try string(unit, "\(path).unit.\(language)") }
            units = translated
        }
        var valueLabels: [String: [String: String]]?
        if let value = members["value_labels"], value != .null {
            var byLanguage: [String: [String: String]] = [:]
            for (language, labels) in try object(value, "\(path).value_labels") {
                var translated: [String: String] = [:]
                for (key, label) in try object(labels, "\(path).value_labels.\(language)") {
                    translated[key] = try string(label, "\(path).value_labels.\(language).\(key)")
                }
                byLanguage[language] = translated
            }
            valueLabels = byLanguage
        }
        return SchemaColumn(
            name: name, column: try optionalString(members["column"], "\(path).column"), type: type,
            values: try strings(members["values"], "\(path).values"), open: try bool(members["open"], "\(path).open") ?? false,
            map: map, minimum: try number(members["min"], "\(path).min"), maximum: try number(members["max"], "\(path).max"),
            integer: try bool(members["integer"], "\(path).integer") ?? false, blank: blank,
            trueValues: try strings(members["true"], "\(path).true"), falseValues: try strings(members["false"], "\(path).false"),
            labels: labels, units: units, valueLabels: valueLabels)
    }
}

extension IdentifierColumn {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name)]
        if column != name { object["column"] = .string(column) }
        if generated { object["generated"] = .bool(true) }
        return .object(object)
    }
}

extension LabelColumn {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "column": .string(column), "positive": .array(positive.map { .string($0) }),
            "negative": .array(negative.map { .string($0) }),
        ]
        if name != column { object["name"] = .string(name) }
        return .object(object)
    }
}

extension FileColumn {
    var jsonValue: JSONValue {
        column == name ? .string(name) : .object(["name": .string(name), "column": .string(column)])
    }
}

extension SchemaColumn {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "type": .string(type.rawValue)]
        if let column, column != name { object["column"] = .string(column) }
        if let values { object["values"] = .array(values.map { .string($0) }) }
        if open { object["open"] = .bool(true) }
        if let map { object["map"] = .object(map.mapValues { .string($0) }) }
        if let minimum { object["min"] = .number(minimum) }
        if let maximum { object["max"] = .number(maximum) }
        if integer { object["integer"] = .bool(true) }
        switch blank {
        case .error: break
        case .missing: object["blank"] = .string("missing")
        case .when(let column, let equals, let value):
            object["blank"] = .object(["when": .object(["column": .string(column), "equals": .number(equals)]), "value": .number(value)])
        }
        if let trueValues { object["true"] = .array(trueValues.map { .string($0) }) }
        if let falseValues { object["false"] = .array(falseValues.map { .string($0) }) }
        if let labels { object["labels"] = .object(labels.mapValues { .string($0) }) }
        if let units { object["unit"] = .object(units.mapValues { .string($0) }) }
        if let valueLabels { object["value_labels"] = .object(valueLabels.mapValues { .object($0.mapValues { .string($0) }) }) }
        return .object(object)
    }
}

/// Indented JSON with keys in a readable order, for files people edit.
enum SchemaJSON {
    static let keyOrder = [
        "format", "name", "id", "label", "reason", "columns", "never_inputs", "derived_history", "revenue", "history",
        "customer", "period", "window", "required",
        "column", "type", "values", "open", "map", "min", "max", "integer", "blank", "true", "false", "positive", "negative",
        "labels", "unit", "value_labels", "generated", "when", "equals", "value", "tenure", "monthly_charge", "total_charges",
    ]

    static func pretty(_ value: JSONValue, indent: String = "") -> String {
        switch value {
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let ordered = members.keys.sorted { left, right in
                let a = keyOrder.firstIndex(of: left) ?? Int.max
                let b = keyOrder.firstIndex(of: right) ?? Int.max
                return a == b ? left < right : a < b
            }
            // Small objects (a column, a rule) stay on one line.
            let inline = ordered.map { "\(quoted($0)): \(pretty(members[$0]!, indent: indent))" }.joined(separator: ", ")
            if !members.values.contains(where: { if case .array(let items) = $0 { return items.count > 8 } else { return false } }),
                !members.values.contains(where: { if case .object = $0 { return true } else { return false } }) || indent.count >= 4,
                inline.count < 140
            {
                return "{" + inline + "}"
            }
            let inner = indent + "  "
            return "{\n" + ordered.map { "\(inner)\(quoted($0)): \(pretty(members[$0]!, indent: inner))" }.joined(separator: ",\n")
                + "\n\(indent)}"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            if items.allSatisfy({ if case .object = $0 { return false } else { return true } }) {
                return "[" + items.map { pretty($0, indent: indent) }.joined(separator: ", ") + "]"
            }
            let inner = indent + "  "
            return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        default:
            return String(decoding: JSONWriter.bytes(value), as: UTF8.self)
        }
    }

    private static func quoted(_ key: String) -> String {
        String(decoding: JSONWriter.bytes(.string(key)), as: UTF8.self)
    }
}
