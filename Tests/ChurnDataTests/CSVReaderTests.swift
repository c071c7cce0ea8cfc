import ChurnData
import Foundation
import Testing

@Suite("CSV reader")
struct CSVReaderTests {
    private func records(_ text: String, chunkSize: Int? = nil) throws -> [(line: Int, fields: [String])] {
        try records(Array(text.utf8), chunkSize: chunkSize)
    }

    private func records(_ bytes: [UInt8], chunkSize: Int? = nil) throws -> [(line: Int, fields: [String])] {
        var result: [(Int, [String])] = []
        let reader: CSVReader
        if let chunkSize {
            let path = NSTemporaryDirectory() + "csv-\(UUID().uuidString).csv"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            defer { try? FileManager.default.removeItem(atPath: path) }
            reader = CSVReader(path: path, chunkSize: chunkSize)
            try reader.forEachRecord { record in result.append((record.line, (0..<record.count).map { record.lossyString($0) })) }
            return result
        }
        reader = CSVReader(bytes: bytes, name: "test.csv")
        try reader.forEachRecord { record in result.append((record.line, (0..<record.count).map { record.lossyString($0) })) }
        return result
    }

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let parsed = try records("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nplain,,end\n")
        #expect(parsed.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["plain", "", "end"]])
        #expect(parsed.map(\.line) == [1, 2, 4], "a record's line is where it starts")
    }

    @Test func byteOrderMarkAndCRLFAreHandled() throws {
        let parsed = try records([0xEF, 0xBB, 0xBF] + Array("id,value\r\n1,\"a\"\r\n2,b\r\n".utf8))
        #expect(parsed.map(\.fields) == [["id", "value"], ["1", "a"], ["2", "b"]])
    }

    @Test func blankLinesAndMissingFinalNewlineAreFine() throws {
        #expect(try records("a,b\n\n1,2").map(\.fields) == [["a", "b"], ["1", "2"]])
        #expect(try records("a,b\n1,\n").map(\.fields) == [["a", "b"], ["1", ""]])
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func chunkBoundariesDoNotChangeTheResult(chunk: Int) throws {
        let text = "h1,h2\n\"a,\"\"b\"\"\",c\r\nlong value here,\"x\ny\"\n1,2\n"
        #expect(try records(text, chunkSize: chunk).map(\.fields) == (try records(text)).map(\.fields))
    }

    @Test func unclosedQuoteNamesTheLine() throws {
        #expect {
            _ = try records("a,b\n1,2\n3,\"open\n")
        } throws: { error in
            guard case .malformed(let issue) = error as? DataError else { return false }
            return issue.line == 3 && issue.problem.contains("never closed")
        }
    }

    @Test func textAfterAClosingQuoteIsAnError() throws {
        #expect {
            _ = try records("a,b\n\"x\"y,2\n")
        } throws: { error in
            guard case .malformed(let issue) = error as? DataError else { return false }
            return issue.line == 2 && issue.column == "field 1"
        }
    }

    @Test func aFiftyMegabyteLineIsRefusedWithItsLineNumber() throws {
        let path = NSTemporaryDirectory() + "huge-\(UUID().uuidString).csv"
        var bytes = Array("a,b\n1,2\n".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: 50 * 1024 * 1024)
        bytes += Array("\n3,4\n".utf8)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try CSVReader(path: path).forEachRecord { _ in }
        } throws: { error in
            guard case .malformed(let issue) = error as? DataError else { return false }
            return issue.line == 3 && issue.problem.contains("longer than")
        }
    }

    @Test func missingFileIsUnreadable() {
        #expect(throws: DataError.self) { try CSVReader(path: "/nonexistent/file.csv").forEachRecord { _ in } }
    }
}
