/// "Did you mean ...?": the known name closest to a mistyped one, for error messages that
/// suggest the fix (a plugin kind, an alias, a closed choice).
public enum NearMiss {
    /// The candidate `text` most likely meant, or nil when none is close. Case, `-`, `_` and
    /// spaces are ignored first (`RandomForest` → `random_forest`); otherwise an edit distance of
    /// at most 2 (1 for short names) counts as close.
    public static func suggestion(for text: String, among candidates: some Sequence<String>) -> String? {
        let typed = folded(text)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != text {
            let distance = folded(candidate) == typed ? 0 : editDistance(typed, folded(candidate))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = typed.count <= 4 ? 1 : 2
        return best.distance <= allowed ? best.candidate : nil
    }

    /// " (did you mean x?)" or "".
    public static func hint(for text: String, among candidates: some Sequence<String>) -> String {
        suggestion(for: text, among: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    private static func folded(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
