import ArgumentParser
import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation

/// Options every client command takes.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The daemon's Unix socket (else CHURN_SOCKET, else $XDG_RUNTIME_DIR/churn/churnd.sock, else <home>/churnd.sock).")
    var socket: String?

    @Option(help: "State folder (else CHURN_HOME, else ./var).")
    var home: String?

    var homePath: String { ChurnLocations.home(flag: home) }
    var socketPath: String { ChurnLocations.socket(flag: socket, home: homePath) }

    /// A connected client, or an error that says how to start a daemon (exit status 69,
    /// EX_UNAVAILABLE), or how to be let in to its socket (77, EX_NOPERM).
    func connect() async throws -> ChurnClient {
        do {
            return try await ChurnClient.connect(socketPath: socketPath)
        } catch .socketAccessDenied(let access) {
            throw CleanExit.message(access.description, code: 77)
        } catch {
            throw CleanExit.message(error.description, code: 69)
        }
    }
}

/// Which model answers and how customers are read for it: shared by `predict`, `explain` and
/// `score`.
struct ScoringOptions: ParsableArguments {
    @Option(help: "A version (3, churn@3) or alias (champion, challenger); default: the routed champion.")
    var model: String?

    @Option(help: "Schema to read a CSV file with: kaggle, ibm, or a schema file (default: the model's own).")
    var schema: String?

    @Option(help: "A monthly panel CSV (customer_id, period, columns...) whose months are sent with each customer, for a model that reads a panel (for score, sorted by customer id like the input); without it, the daemon's stored months are read.")
    var history: String?
}

/// Customers given on the command line: a file (or stdin) or one JSON object, for `predict`
/// and `explain`.
struct CustomerInputOptions: ParsableArguments {
    @Argument(help: "A .csv or .json file, or - for JSON on stdin.")
    var input: String?

    @Option(help: "One customer as a JSON object.")
    var customer: String?

    @Flag(help: "Skip CSV rows with bad values (and list them) instead of refusing the file.")
    var skipBadRows = false

    func validate() throws {
        if (input == nil) == (customer == nil) {
            throw ValidationError("give either a file (or -) or --customer JSON, not both and not neither")
        }
    }

    /// The customers, read under `scoring`'s schema, with `scoring`'s months attached.
    func read(_ scoring: ScoringOptions, client: ChurnClient) async throws -> [CustomerRecord] {
        try await CustomerInput.read(
            file: input, inline: customer, schema: scoring.schema, model: scoring.model, client: client, skipBadRows: skipBadRows,
            history: scoring.history)
    }
}

/// `--json`, for the commands whose output has a JSON form.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

/// Ends the command with a message on stderr and an exit code, without a stack of noise.
enum CleanExit {
    static func message(_ text: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("churn: \(text)\n".utf8))
        return ExitCode(code)
    }
}

/// Runs a client call, turning client errors into a one-line message and exit status 1.
func reporting<T>(_ body: () async throws(ChurnClientError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        var text = error.description
        if let data = error.rpcError?.data, case .object(let fields) = data, let list = fields["errors"]?.arrayValue {
            text += "\n" + list.prefix(20).map { "  - " + describeIssue($0) }.joined(separator: "\n")
        }
        throw CleanExit.message(text, code: 1)
    }
}

/// One `data.errors` record (`{file, line, column, value, message}`) as a line for a person.
func describeIssue(_ record: JSONValue) -> String {
    guard case .object(let fields) = record else { return record.stringValue ?? record.brief }
    var text = fields["file"]?.stringValue ?? ""
    if let line = fields["line"]?.numberValue, line > 0 { text += ":\(Int(line))" }
    if let column = fields["column"]?.stringValue { text += ": column \(column)" }
    if let value = fields["value"]?.stringValue { text += ": \"\(value)\"" }
    return text + ": " + (fields["message"]?.stringValue ?? "")
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Left-aligned text columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    print(tableText(header, rows))
}

/// Left-aligned text columns, as lines.
func tableText(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}
