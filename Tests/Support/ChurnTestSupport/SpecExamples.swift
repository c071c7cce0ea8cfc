import ChurnProtocol
import Foundation

/// The repository's root folder, found from this file's location.
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The examples in Protocol/PROTOCOL.md, by name.
public enum SpecExamples {
    public static var documentPath: String {
        repositoryRoot + "/Protocol/PROTOCOL.md"
    }

    /// Every `<!-- example: NAME -->` followed by a ```json block.
    public static func all() throws -> [String: Data] {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        var examples: [String: Data] = [:]
        let lines = text.components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("<!-- example:"), line.hasSuffix("-->") {
                let name = line.dropFirst("<!-- example:".count).dropLast(3).trimmingCharacters(in: .whitespaces)
                var body: [String] = []
                index += 2  // skip the ```json line
                while index < lines.count, !lines[index].hasPrefix("```") {
                    body.append(lines[index])
                    index += 1
                }
                examples[name] = Data(body.joined(separator: "\n").utf8)
            }
            index += 1
        }
        return examples
    }
}


/// Compares a real JSON answer with a documented example: every member of the answer must be
/// documented, with the documented JSON type. Returns the differences, as field paths.
/// Members named in `openMaps` are maps with free keys (metrics by name, hyperparameters):
/// their values are checked against the documented values' type only.
public func undocumentedDifferences(
    actual: JSONValue, documented: JSONValue, path: String = "",
    openMaps: Set<String> = ["metrics", "params", "values", "feature_schema"],
    separatelyDocumented: Set<String> = ["dataset_schema", "schema"]
) -> [String] {
    let key = path.split(separator: ".").last.map(String.init) ?? ""
    // A dataset schema has its own section (its members differ by column type); its example
    // there is checked on its own (SchemaTests).
    if separatelyDocumented.contains(key) { return [] }
    switch (actual, documented) {
    case (.object(let actual), .object(let documented)) where openMaps.contains(key) && path.contains("."):
        guard let example = documented.values.first else { return [] }
        return actual.sorted(by: { $0.key < $1.key }).flatMap {
            undocumentedDifferences(actual: $0.value, documented: example, path: "\(path).\($0.key)", openMaps: [])
        }
    case (.object(let actual), .object(let documented)):
        var problems: [String] = []
        for (key, value) in actual.sorted(by: { $0.key < $1.key }) {
            let field = path.isEmpty ? key : "\(path).\(key)"
            guard let example = documented[key] else {
                problems.append("\(field) is not documented")
                continue
            }
            problems += undocumentedDifferences(actual: value, documented: example, path: field, openMaps: openMaps)
        }
        return problems
    case (.array(let actual), .array(let documented)):
        guard let example = documented.first else { return [] }
        return actual.enumerated().flatMap {
            undocumentedDifferences(
                actual: $0.element, documented: example, path: "\(path)[\($0.offset)]", openMaps: openMaps)
        }
    case (.null, _), (_, .null), (.string, .string), (.bool, .bool), (.number, .number):
        return []
    default:
        return ["\(path) is \(actual.brief), documented as \(documented.brief)"]
    }
}
