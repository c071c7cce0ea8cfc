/// Hand-written coding for the messages on the predict path (client → daemon → plugin and
/// back), so that a predict call costs one pass over a ``JSONValue`` tree instead of a walk
/// through generic keyed containers. Each type reads or writes the tree directly when the
/// decoder or encoder is the fast JSON path's and the input has the expected shape; anything
/// else (another coder, or a malformed message) takes the ordinary container path, which is
/// also where precise errors with coding paths come from.

extension CustomerRecord {
    /// The record as JSON.
    public var jsonValue: JSONValue {
        var members = fields.mapValues(\.jsonValue)
        if let history { members[Self.historyKey] = .array(history.map { .object($0.mapValues(\.jsonValue)) }) }
        return .object(members)
    }

    /// Records from JSON objects of scalars (and an optional `history` array of such objects);
    /// nil when any element has another shape.
    static func records(fromJSON elements: [JSONValue]) -> [CustomerRecord]? {
        var records: [CustomerRecord] = []
        records.reserveCapacity(elements.count)
        for element in elements {
            guard case .object(var members) = element else { return nil }
            var history: [[String: FieldValue]]?
            if let months = members[historyKey] {
                guard case .array(let items) = months, let parsed = monthFields(items) else { return nil }
                history = parsed
                members[historyKey] = nil
            }
            for value in members.values {
                if case .array = value { return nil }
                if case .object = value { return nil }
            }
            // mapValues keeps the hash table as it is: no key is hashed again.
            records.append(CustomerRecord(members.mapValues(scalar), history: history))
        }
        return records
    }

    /// Months given inline: objects of scalars; nil when any has another shape.
    private static func monthFields(_ items: [JSONValue]) -> [[String: FieldValue]]? {
        var months: [[String: FieldValue]] = []
        months.reserveCapacity(items.count)
        for item in items {
            guard case .object(let members) = item else { return nil }
            for value in members.values {
                if case .array = value { return nil }
                if case .object = value { return nil }
            }
            months.append(members.mapValues(scalar))
        }
        return months
    }

    private static func scalar(_ value: JSONValue) -> FieldValue {
        switch value {
        case .string(let text): .string(text)
        case .number(let number): .number(number)
        case .bool(let flag): .bool(flag)
        case .null, .array, .object: .null
        }
    }
}

extension CustomerRecord: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        var first = true
        for (name, value) in fields {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(name, into: &output)
            output.append(UInt8(ascii: ":"))
            switch value {
            case .string(let text): JSONWriter.writeString(text, into: &output)
            case .number(let number): JSONWriter.writeNumber(number, into: &output)
            case .bool(let flag): JSONWriter.write(.bool(flag), into: &output)
            case .null: JSONWriter.write(.null, into: &output)
            }
        }
        if let history {
            if !first { output.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(Self.historyKey, into: &output)
            output.append(UInt8(ascii: ":"))
            JSONWriter.write(.array(history.map { .object($0.mapValues(\.jsonValue)) }), into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

/// Writes `elements` as a JSON array.
func writeArray<Element: JSONDirectWriting>(_ elements: [Element], into output: inout [UInt8]) {
    output.append(UInt8(ascii: "["))
    for (index, element) in elements.enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        element.writeJSON(into: &output)
    }
    output.append(UInt8(ascii: "]"))
}

/// Writes `elements` as a JSON array, each element by `write`.
@inline(__always)
func writeList<Element>(_ elements: [Element], into output: inout [UInt8], _ write: (Element, inout [UInt8]) -> Void) {
    output.append(UInt8(ascii: "["))
    for (index, element) in elements.enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        write(element, &output)
    }
    output.append(UInt8(ascii: "]"))
}

/// Appends the optional `model` and `log` members of a predict request (after its customers).
func writeModelAndLog(_ model: String?, _ log: Bool?, into output: inout [UInt8]) {
    if let model {
        writeKey("model", into: &output)
        JSONWriter.writeString(model, into: &output)
    }
    if let log {
        writeKey("log", into: &output)
        JSONWriter.write(.bool(log), into: &output)
    }
}

/// Appends `"key":` (with a leading comma unless `first`).
func writeKey(_ key: StaticString, first: Bool = false, into output: inout [UInt8]) {
    if !first { output.append(UInt8(ascii: ",")) }
    output.append(UInt8(ascii: "\""))
    key.withUTF8Buffer { output.append(contentsOf: $0) }
    output.append(UInt8(ascii: "\""))
    output.append(UInt8(ascii: ":"))
}

/// An optional string member: `.some(nil)` when absent or null, nil when of another type.
private func optionalString(_ value: JSONValue?) -> String?? {
    switch value {
    case nil, .null?: .some(nil)
    case .string(let text)?: .some(text)
    default: nil
    }
}

/// An optional boolean member: `.some(nil)` when absent or null, nil when of another type.
private func optionalBool(_ value: JSONValue?) -> Bool?? {
    switch value {
    case nil, .null?: .some(nil)
    case .bool(let flag)?: .some(flag)
    default: nil
    }
}

private enum PredictKeys: String, CodingKey {
    case customers, model, log, predictions, probabilities
}

extension PredictParams {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding, case .object(let members) = tree.jsonValue,
            case .array(let elements)? = members["customers"], let customers = CustomerRecord.records(fromJSON: elements),
            let model = optionalString(members["model"]), let log = optionalBool(members["log"])
        {
            self.init(customers: customers, model: model, log: log)
            return
        }
        let container = try decoder.container(keyedBy: PredictKeys.self)
        self.init(
            customers: try container.decode([CustomerRecord].self, forKey: .customers),
            model: try container.decodeIfPresent(String.self, forKey: .model),
            log: try container.decodeIfPresent(Bool.self, forKey: .log))
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            var members: [String: JSONValue] = ["customers": .array(customers.map(\.jsonValue))]
            if let model { members["model"] = .string(model) }
            if let log { members["log"] = .bool(log) }
            tree.setJSONValue(.object(members))
            return
        }
        var container = encoder.container(keyedBy: PredictKeys.self)
        try container.encode(customers, forKey: .customers)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(log, forKey: .log)
    }
}

extension PredictParams: JSONDirectReading {
    /// `{"customers": [...], "model": ..., "log": ...}` read by column, when every customer is an
    /// object of scalars with the same fields (in any order) and none sends its months inline;
    /// nil for anything else (no customers, an unknown member, a repeated one), which the
    /// ordinary decoder then reads and, if need be, refuses with its exact error.
    public static func read(from reader: inout JSONReader) -> PredictParams? {
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        var columns: CustomerBatch?
        var model: String??
        var log: Bool??
        repeat {
            guard let name = reader.memberName() else { return nil }
            switch name {
            case "customers":
                guard columns == nil, let read = readCustomers(&reader) else { return nil }
                columns = read
            case "model":
                guard model == nil, let value = reader.optionalString() else { return nil }
                model = value
            case "log":
                guard log == nil, let value = reader.optionalBool() else { return nil }
                log = value
            default:
                return nil
            }
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "}")), let columns else { return nil }
        return PredictParams(columns: columns, model: model ?? nil, log: log ?? nil)
    }

    /// Customers that all name the same fields once each, by column.
    private static func readCustomers(_ reader: inout JSONReader) -> CustomerBatch? {
        guard reader.take(UInt8(ascii: "[")), !reader.take(UInt8(ascii: "]")) else { return nil }
        var names: [String] = []
        var columns: [[FieldValue]] = []
        var rows = 0
        repeat {
            guard reader.take(UInt8(ascii: "{")), !reader.take(UInt8(ascii: "}")) else { return nil }
            var filled = 0
            repeat {
                guard let name = reader.memberName(), name != CustomerRecord.historyKey, let value = reader.scalar() else {
                    return nil
                }
                if rows == 0 {
                    guard !name.isEmpty, !names.contains(name) else { return nil }
                    names.append(name)
                    columns.append([value])
                } else {
                    // Usually in the first customer's order; otherwise found by name.
                    let index: Int
                    if filled < names.count, names[filled] == name {
                        index = filled
                    } else if let found = names.firstIndex(of: name) {
                        index = found
                    } else {
                        return nil
                    }
                    guard columns[index].count == rows else { return nil }  // named twice
                    columns[index].append(value)
                }
                filled += 1
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "}")), filled == names.count else { return nil }
            rows += 1
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "]")) else { return nil }
        return CustomerBatch(uncheckedRows: rows, fields: names, columns: columns.map(BatchColumn.values))
    }
}

extension PredictParams: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("customers", first: true, into: &output)
        writeArray(customers, into: &output)
        writeModelAndLog(model, log, into: &output)
        output.append(UInt8(ascii: "}"))
    }
}

extension ModelRef {
    /// The reference as JSON.
    public var jsonValue: JSONValue { .object(["name": .string(name), "version": .number(Double(version))]) }

    init?(json: JSONValue?) {
        guard case .object(let members)? = json, case .string(let name)? = members["name"],
            case .number(let number)? = members["version"], let version = Int(exactly: number)
        else { return nil }
        self.init(name: name, version: version)
    }
}

extension Prediction {
    /// The prediction as JSON.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "customerID": .string(customerID), "churn_probability": .number(churnProbability), "churn": .bool(churn),
            "model": model.jsonValue, "arm": .string(arm.rawValue),
        ]
        if let history { members["history"] = .string(history.rawValue) }
        return .object(members)
    }

    init?(json: JSONValue) {
        guard case .object(let members) = json, case .string(let id)? = members["customerID"],
            case .number(let probability)? = members["churn_probability"], case .bool(let churn)? = members["churn"],
            let model = ModelRef(json: members["model"]), case .string(let arm)? = members["arm"]
        else { return nil }
        var history: HistorySource?
        switch members["history"] {
        case nil, .null?: break
        case .string(let source)?: history = HistorySource(rawValue: source)
        default: return nil
        }
        self.init(customerID: id, churnProbability: probability, churn: churn, model: model, arm: Arm(rawValue: arm), history: history)
    }
}

extension Prediction: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("customerID", first: true, into: &output)
        JSONWriter.writeString(customerID, into: &output)
        writeKey("churn_probability", into: &output)
        JSONWriter.writeNumber(churnProbability, into: &output)
        writeKey("churn", into: &output)
        JSONWriter.write(.bool(churn), into: &output)
        writeKey("model", into: &output)
        model.writeJSON(into: &output)
        writeKey("arm", into: &output)
        JSONWriter.writeString(arm.rawValue, into: &output)
        if let history {
            writeKey("history", into: &output)
            JSONWriter.writeString(history.rawValue, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension PredictResult: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("predictions", first: true, into: &output)
        writeArray(predictions, into: &output)
        output.append(UInt8(ascii: "}"))
    }
}

extension PredictResult {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding, case .object(let members) = tree.jsonValue,
            case .array(let elements)? = members["predictions"]
        {
            var predictions: [Prediction] = []
            predictions.reserveCapacity(elements.count)
            for element in elements {
                guard let prediction = Prediction(json: element) else { break }
                predictions.append(prediction)
            }
            if predictions.count == elements.count {
                self.init(predictions: predictions)
                return
            }
        }
        let container = try decoder.container(keyedBy: PredictKeys.self)
        self.init(predictions: try container.decode([Prediction].self, forKey: .predictions))
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            tree.setJSONValue(.object(["predictions": .array(predictions.map(\.jsonValue))]))
            return
        }
        var container = encoder.container(keyedBy: PredictKeys.self)
        try container.encode(predictions, forKey: .predictions)
    }
}

extension PluginPredictParams: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("model", first: true, into: &output)
        JSONWriter.writeString(model, into: &output)
        if let batch {
            writeKey("batch", into: &output)
            batch.writeJSON(into: &output)
        } else {
            writeKey("customers", into: &output)
            writeArray(customers, into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

private enum PluginPredictKeys: String, CodingKey {
    case model, customers, batch
}

extension PluginPredictParams {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding, case .object(let members) = tree.jsonValue,
            case .string(let model)? = members["model"]
        {
            if members["customers"] == nil, let json = members["batch"], let batch = try? CustomerBatch(json: json) {
                self.init(model: model, batch: batch)
                return
            }
            if members["batch"] == nil, case .array(let elements)? = members["customers"],
                let customers = CustomerRecord.records(fromJSON: elements)
            {
                self.init(model: model, customers: customers)
                return
            }
        }
        let container = try decoder.container(keyedBy: PluginPredictKeys.self)
        let model = try container.decode(String.self, forKey: .model)
        if container.contains(.batch) {
            guard !container.contains(.customers) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .customers, in: container, debugDescription: "send either customers or batch, not both")
            }
            self.init(model: model, batch: try container.decode(CustomerBatch.self, forKey: .batch))
        } else {
            self.init(model: model, customers: try container.decode([CustomerRecord].self, forKey: .customers))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            var members: [String: JSONValue] = ["model": .string(model)]
            if let batch { members["batch"] = batch.jsonValue } else { members["customers"] = .array(customers.map(\.jsonValue)) }
            tree.setJSONValue(.object(members))
            return
        }
        var container = encoder.container(keyedBy: PluginPredictKeys.self)
        try container.encode(model, forKey: .model)
        if let batch { try container.encode(batch, forKey: .batch) } else { try container.encode(customers, forKey: .customers) }
    }
}

extension PluginPredictResult: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("probabilities", first: true, into: &output)
        writeList(probabilities, into: &output) { JSONWriter.writeNumber($0, into: &$1) }
        output.append(UInt8(ascii: "}"))
    }
}

extension PluginPredictResult: JSONDirectReading {
    /// `{"probabilities": [numbers]}` and nothing else; nil for anything else.
    public static func read(from reader: inout JSONReader) -> PluginPredictResult? {
        guard reader.take(UInt8(ascii: "{")), reader.memberName() == "probabilities", reader.take(UInt8(ascii: "[")) else {
            return nil
        }
        var probabilities: [Double] = []
        if !reader.take(UInt8(ascii: "]")) {
            repeat {
                guard let number = reader.number() else { return nil }
                probabilities.append(number)
            } while reader.take(UInt8(ascii: ","))
            guard reader.take(UInt8(ascii: "]")) else { return nil }
        }
        guard reader.take(UInt8(ascii: "}")) else { return nil }
        return PluginPredictResult(probabilities: probabilities)
    }
}

extension PluginPredictResult {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? any JSONTreeDecoding, case .object(let members) = tree.jsonValue,
            case .array(let elements)? = members["probabilities"]
        {
            var probabilities: [Double] = []
            probabilities.reserveCapacity(elements.count)
            for element in elements {
                guard case .number(let number) = element else { break }
                probabilities.append(number)
            }
            if probabilities.count == elements.count {
                self.init(probabilities: probabilities)
                return
            }
        }
        let container = try decoder.container(keyedBy: PredictKeys.self)
        self.init(probabilities: try container.decode([Double].self, forKey: .probabilities))
    }

    public func encode(to encoder: any Encoder) throws {
        if let tree = encoder as? any JSONTreeEncoding {
            tree.setJSONValue(.object(["probabilities": .array(probabilities.map { .number($0) })]))
            return
        }
        var container = encoder.container(keyedBy: PredictKeys.self)
        try container.encode(probabilities, forKey: .probabilities)
    }
}
