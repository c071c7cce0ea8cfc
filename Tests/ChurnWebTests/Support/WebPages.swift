import Foundation
import Testing

/// What the route tests do on every page: sign in as a person would, read the CSRF token,
/// and read the page's charts and form.
enum WebPages {
    /// Signs in through the form, as a person would.
    static func signIn(_ browser: CookieBrowser) async throws {
        let form = try await browser.get("/login")
        let csrf = try #require(CookieBrowser.csrf(in: form.text))
        let response = try await browser.post("/login", form: ["csrf": csrf, "user": WebHarness.user, "password": WebHarness.password, "next": "/"])
        #expect(response.status == .seeOther)
        #expect(response.location == "/")
    }

    /// The session's CSRF token, from the models page's forms.
    static func csrf(_ browser: CookieBrowser) async throws -> String {
        try #require(CookieBrowser.csrf(in: try await browser.get("/models").text), "no CSRF token on the models page")
    }

    static func firstCustomer(_ harness: WebHarness) throws -> String {
        let text = try String(contentsOfFile: harness.customersFile, encoding: .utf8)
        return String(text.split(separator: "\n")[1].prefix { $0 != "," })
    }

    /// The chart descriptions a page carries for its script.
    static func chartSpecs(_ html: String) throws -> [[String: Any]] {
        let start = try #require(html.range(of: #"<script type="application/json" id="churn-charts">"#))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [[String: Any]])
    }

    /// The current value of every field of the prediction form.
    static func formValues(_ html: String) throws -> [String: String] {
        var values: [String: String] = [:]
        let form = try #require(html.range(of: #"id="predict-form""#))
        let body = html[form.upperBound...]
        for chunk in body.components(separatedBy: #"<label data-name=""#).dropFirst() {
            let name = String(chunk.prefix { $0 != "\"" })
            if let selected = chunk.range(of: #"" selected>"#) {
                let before = chunk[..<selected.lowerBound]
                let start = before.range(of: #"value=""#, options: .backwards)!
                values[name] = String(before[start.upperBound...])
            } else if let value = chunk.range(of: #"value=""#) {
                values[name] = String(chunk[value.upperBound...].prefix { $0 != "\"" })
            }
        }
        return values
    }
}

extension WebPages {
    /// The rows of the table `id` as header → cell HTML (cells' tags inside kept, the cell's own
    /// stripped).
    static func tableRows(_ html: String, id: String) -> [[String: String]] {
        guard let start = html.range(of: #"<table id="\#(id)""#), let end = html.range(of: "</table>", range: start.upperBound..<html.endIndex)
        else { return [] }
        let table = String(html[start.upperBound..<end.lowerBound])
        func cells(_ row: String, tag: String) -> [String] {
            row.replacingOccurrences(of: "<\(tag) ", with: "<\(tag)>\u{1}").components(separatedBy: "<\(tag)>").dropFirst().map { cell in
                // A cell with attributes: drop them up to the tag's end.
                let body = cell.hasPrefix("\u{1}") ? String(cell[cell.index(after: cell.firstIndex(of: ">")!)...]) : cell
                return body.components(separatedBy: "</\(tag)>").first ?? ""
            }
        }
        let headerRow = table.components(separatedBy: "</thead>").first ?? ""
        let headers = cells(headerRow, tag: "th")
        let body = table.components(separatedBy: "<tbody>").last ?? ""
        // A row header (`<th scope="row">`) is the row's first cell.
        let cellsOnly = body.replacingOccurrences(of: #"<th scope="row">"#, with: "<td>").replacingOccurrences(of: "</th>", with: "</td>")
        return cellsOnly.components(separatedBy: "</tr>").dropLast().map { row in
            Dictionary(zip(headers, cells(row, tag: "td")).map { ($0, $1) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The whole number (thousands separators allowed) right after `marker`, or nil.
    static func number(after marker: String, in html: String) -> Int? {
        guard let range = html.range(of: marker) else { return nil }
        return Int(html[range.upperBound...].prefix { $0.isNumber || $0 == "," }.replacingOccurrences(of: ",", with: ""))
    }
}
