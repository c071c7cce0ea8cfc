/// A `train` request's hyperparameters read against the plugin's ``ParameterSpec``s: unknown
/// names, wrong types and values outside a parameter's range or choices are refused with -32602
/// naming `params.<name>` and what it accepts (scikit-learn's convention of validating at fit
/// time). Absent and `null` values read as the spec's default.
public struct ParameterValues: Sendable {
    public let params: [String: JSONValue]
    private let specs: [String: ParameterSpec]

    /// Refuses any name no spec declares.
    public init(_ params: [String: JSONValue], specs: [ParameterSpec]) throws {
        self.params = params
        self.specs = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in params.keys.sorted() where self.specs[name] == nil {
            throw RPCError.invalidParams(
                field: "params.\(name)", "unknown parameter; this plugin takes \(specs.map(\.name).joined(separator: ", "))")
        }
    }

    /// Whether the request set `name` (to something other than null).
    public func isSet(_ name: String) -> Bool {
        if let value = params[name], value != .null { return true }
        return false
    }

    /// The value sent, or the spec's default.
    public func raw(_ name: String) -> JSONValue {
        if let value = params[name], value != .null { return value }
        return spec(name).defaultValue
    }

    /// A whole number within the spec's range (or one of its listed extra values).
    public func integer(_ name: String) throws -> Int {
        let value = raw(name)
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be a whole number \(accepted(name)), got \(value.brief)")
        }
        try checkRange(name, number, value)
        return Int(number)
    }

    /// A finite number within the spec's range.
    public func number(_ name: String) throws -> Double {
        let value = raw(name)
        guard case .number(let number) = value, number.isFinite else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be a number \(accepted(name)), got \(value.brief)")
        }
        try checkRange(name, number, value)
        return number
    }

    /// One of the spec's choices.
    public func string(_ name: String) throws -> String {
        let value = raw(name)
        guard case .string(let text) = value, spec(name).choices.map({ $0.contains(value) }) ?? true else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be \(accepted(name)), got \(value.brief)")
        }
        return text
    }

    /// `true` or `false`.
    public func boolean(_ name: String) throws -> Bool {
        let value = raw(name)
        guard case .bool(let flag) = value else {
            throw RPCError.invalidParams(field: "params.\(name)", "must be true or false, got \(value.brief)")
        }
        return flag
    }

    private func spec(_ name: String) -> ParameterSpec {
        guard let spec = specs[name] else { preconditionFailure("the plugin reads \(name), which its specs do not declare") }
        return spec
    }

    private func checkRange(_ name: String, _ number: Double, _ value: JSONValue) throws {
        let spec = spec(name)
        if spec.choices?.contains(value) == true { return }
        if let minimum = spec.minimum, number < minimum { throw outOfRange(name, value) }
        if let maximum = spec.maximum, number > maximum { throw outOfRange(name, value) }
    }

    private func outOfRange(_ name: String, _ value: JSONValue) -> RPCError {
        RPCError.invalidParams(field: "params.\(name)", "must be \(accepted(name)), got \(value.brief)")
    }

    /// What a parameter accepts, in words: `between 1 and 5000`, `one of "none", "balanced"`.
    public func accepted(_ name: String) -> String {
        ParameterValues.accepted(spec(name))
    }

    /// What `spec` accepts, in words.
    public static func accepted(_ spec: ParameterSpec) -> String {
        var parts: [String] = []
        switch (spec.minimum, spec.maximum) {
        case let (low?, high?): parts.append("between \(text(low)) and \(text(high))")
        case let (low?, nil): parts.append("\(text(low)) or more")
        case let (nil, high?): parts.append("at most \(text(high))")
        case (nil, nil): break
        }
        if let choices = spec.choices, !choices.isEmpty {
            parts.append("one of \(choices.map(\.brief).joined(separator: ", "))")
        }
        return parts.isEmpty ? "a \(spec.type)" : parts.joined(separator: ", or ")
    }

    private static func text(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}
