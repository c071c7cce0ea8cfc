/// How a request names a model version: `3`, `churn@3`, `champion`, `churn@champion`.
public struct ModelReference: Sendable, Hashable, CustomStringConvertible {
    /// The model name; `churn` unless given.
    public var name: String
    public var selector: Selector

    /// A version number or an alias.
    public enum Selector: Sendable, Hashable {
        case version(Int)
        case alias(String)
    }

    /// The model name used when a reference names none.
    public static let defaultName = "churn"
    /// The alias `predict` routes to.
    public static let champion = "champion"
    /// The alias experiments compare against the champion.
    public static let challenger = "challenger"

    public init(name: String = ModelReference.defaultName, selector: Selector) {
        self.name = name
        self.selector = selector
    }

    /// The champion of `name`.
    public static func champion(of name: String = defaultName) -> ModelReference {
        ModelReference(name: name, selector: .alias(champion))
    }

    /// Parses `3`, `churn@3`, `champion`, `churn@champion`; nil when the text is empty or malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
        let name: String
        let selectorText: String
        switch parts.count {
        case 1:
            name = Self.defaultName
            selectorText = parts[0]
        case 2:
            name = parts[0]
            selectorText = parts[1]
        default:
            return nil
        }
        guard Self.isValidName(name), !selectorText.isEmpty else { return nil }
        if let number = Int(selectorText) {
            guard number > 0 else { return nil }
            self.init(name: name, selector: .version(number))
        } else {
            guard Self.isValidName(selectorText) else { return nil }
            self.init(name: name, selector: .alias(selectorText))
        }
    }

    /// Names and aliases: 1-64 of letters, digits, `_`, `-`, `.`, starting with a letter.
    public static func isValidName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 64,
            ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)
        }
    }

    public var description: String {
        switch selector {
        case .version(let number): "\(name)@\(number)"
        case .alias(let alias): "\(name)@\(alias)"
        }
    }
}
