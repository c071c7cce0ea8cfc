import ChurnData
import ChurnProtocol
import Foundation

/// Where a `churn score` run stands, saved after every chunk written (`OUT.progress`): what a
/// resumed run checks (the same input, the same settings) and where it continues.
struct ScoreCheckpoint: Codable, Equatable {
    var input: String
    var inputBytes: Int?
    var inputModified: Double?
    /// What shapes the output (model, columns, bands, shard, reasons).
    var settings: String
    /// Data rows of the input read through the last chunk written.
    var rowsThrough: Int
    var outBytes: UInt64
    var rejects: String?
    /// 0 while no row has been rejected (the rejects file is created at the first).
    var rejectsBytes: UInt64
    var scored: Int
    var rejected: Int

    enum CodingKeys: String, CodingKey {
        case input, settings, scored, rejected, rejects
        case inputBytes = "input_bytes"
        case inputModified = "input_modified"
        case rowsThrough = "rows_through"
        case outBytes = "out_bytes"
        case rejectsBytes = "rejects_bytes"
    }

    /// The size and modification time of `path`.
    static func fingerprint(_ path: String) -> (Int?, Double?) {
        guard path != "-", let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return (nil, nil) }
        return (attributes[.size] as? Int, (attributes[.modificationDate] as? Date)?.timeIntervalSince1970)
    }
}

/// The scores file, the rejects file and the checkpoint of one run.
final class ScoreOutput {
    private var scores: CSVWriter
    private var rejectsWriter: CSVWriter?
    private let options: ScoreOptions
    private let progressPath: String?
    private(set) var checkpoint: ScoreCheckpoint
    /// Rejected rows listed on stderr (when there is no rejects file).
    private var listed = 0

    static let rejectsHeader = ["line", "column", "value", "reason"]

    /// Opens the outputs: new files with their headers, or, with `--resume`, the files an
    /// interrupted run left, cut back to its last checkpoint.
    static func open(options: ScoreOptions, progressPath: String?, header: [String], settings: String) throws -> ScoreOutput {
        let (bytes, modified) = ScoreCheckpoint.fingerprint(options.input)
        guard let progressPath else {
            var scores = CSVWriter(standardOutputNamed: "stdout")
            try scores.write(header)
            let fresh = ScoreCheckpoint(
                input: options.input, inputBytes: bytes, inputModified: modified, settings: settings, rowsThrough: 0, outBytes: 0,
                rejects: options.rejects, rejectsBytes: 0, scored: 0, rejected: 0)
            return ScoreOutput(scores: scores, rejectsWriter: nil, options: options, progressPath: nil, checkpoint: fresh)
        }
        let exists = FileManager.default.fileExists(atPath: progressPath)
        guard options.resume else {
            guard !exists else {
                throw CleanExit.message(
                    "an interrupted run left \(progressPath): add --resume to continue it, or delete it to start over", code: 64)
            }
            var fresh = ScoreCheckpoint(
                input: options.input, inputBytes: bytes, inputModified: modified, settings: settings, rowsThrough: 0, outBytes: 0,
                rejects: options.rejects, rejectsBytes: 0, scored: 0, rejected: 0)
            var scores = try CSVWriter(path: options.out)
            try scores.write(header)
            // The header is on disk and in the checkpoint before anything can stop the run: a
            // resume after a stop in the first chunk keeps it.
            try scores.flush()
            fresh.outBytes = scores.offset
            if let rejects = options.rejects, FileManager.default.fileExists(atPath: rejects) { try? FileManager.default.removeItem(atPath: rejects) }
            let output = ScoreOutput(scores: scores, rejectsWriter: nil, options: options, progressPath: progressPath, checkpoint: fresh)
            try output.saveCheckpoint()
            return output
        }
        guard exists, let data = FileManager.default.contents(atPath: progressPath) else {
            throw CleanExit.message("nothing to resume: \(progressPath) is not there (a finished run removes it)", code: 66)
        }
        let saved: ScoreCheckpoint
        do {
            saved = try JSONDecoder().decode(ScoreCheckpoint.self, from: data)
        } catch {
            throw CleanExit.message("\(progressPath) is unreadable (\(error)): delete it and start over", code: 65)
        }
        guard saved.input == options.input, saved.inputBytes == bytes, saved.inputModified == modified else {
            throw CleanExit.message(
                "\(options.input) is not the file the interrupted run read (its path, size or modification time differ): delete \(progressPath) and start over",
                code: 65)
        }
        guard saved.settings == settings, saved.rejects == options.rejects else {
            throw CleanExit.message(
                "the interrupted run wrote \(saved.settings)\(saved.rejects.map { ", rejects to \($0)" } ?? ""); this run asks for \(settings)\(options.rejects.map { ", rejects to \($0)" } ?? ""): give the same options to --resume",
                code: 64)
        }
        let scores = try CSVWriter(path: options.out, truncatingTo: saved.outBytes)
        var rejectsWriter: CSVWriter?
        if let rejects = options.rejects {
            if saved.rejectsBytes > 0 {
                rejectsWriter = try CSVWriter(path: rejects, truncatingTo: saved.rejectsBytes)
            } else if FileManager.default.fileExists(atPath: rejects) {
                try? FileManager.default.removeItem(atPath: rejects)
            }
        }
        return ScoreOutput(scores: scores, rejectsWriter: rejectsWriter, options: options, progressPath: progressPath, checkpoint: saved)
    }

    private init(scores: consuming CSVWriter, rejectsWriter: consuming CSVWriter?, options: ScoreOptions, progressPath: String?, checkpoint: ScoreCheckpoint) {
        self.scores = scores
        self.rejectsWriter = rejectsWriter
        self.options = options
        self.progressPath = progressPath
        self.checkpoint = checkpoint
    }

    /// Writes one chunk's answers in row order and its rejected rows, then the checkpoint.
    func write(_ chunk: DatasetChunk, _ answer: ChunkAnswer, idField: String, strict: Bool) throws {
        let rejected = (chunk.rejected + answer.refused).sorted { $0.line < $1.line }
        if strict, let first = rejected.first?.issues.first {
            throw ScoreStop.strict(DataIssue(file: options.input, line: first.line, column: first.column, value: first.value, problem: first.problem))
        }
        let labels = answer.answerers.map { ($0.model.description, $0.arm.rawValue) }
        let bands = options.bands
        for (position, chunkRow) in answer.rows.enumerated() {
            // The band of the value as written (0.4999996 is written 0.500000: high from 0.5).
            let probability = (answer.probabilities[position] * 1_000_000).rounded() / 1_000_000
            let (model, arm) = labels[answer.answeredBy[position]]
            try scores.writeRow { row in
                row.field(chunk.customers.ids[chunkRow])
                row.fixed6(probability)
                row.field(probability >= bands.high ? "high" : probability >= bands.medium ? "medium" : "low")
                row.field(model)
                row.field(arm)
                if let reasons = answer.reasons { row.field(reasons[position]) }
                for column in chunk.kept { row.field(column[chunkRow]) }
            }
        }
        try writeRejected(rejected)
        try scores.flush()
        try rejectsWriter?.flush()
        checkpoint.rowsThrough = chunk.rowsThrough
        checkpoint.scored += answer.rows.count
        checkpoint.rejected += rejected.count
        checkpoint.outBytes = scores.offset
        checkpoint.rejectsBytes = rejectsWriter?.offset ?? 0
        try saveCheckpoint()
    }

    private func writeRejected(_ rows: [RejectedRow]) throws {
        guard !rows.isEmpty else { return }
        guard let path = options.rejects else {
            for row in rows {
                if listed < 20 {
                    for issue in row.issues {
                        FileHandle.standardError.write(Data("churn: rejected \(options.input == "-" ? "stdin" : options.input):\(issue.line): \(issue.column ?? "") \(issue.value.map { "\"\($0)\"" } ?? ""): \(issue.problem)\n".utf8))
                    }
                }
                listed += 1
            }
            return
        }
        if rejectsWriter == nil {
            var writer = try CSVWriter(path: path)
            try writer.write(Self.rejectsHeader)
            rejectsWriter = consume writer
        }
        for row in rows {
            for issue in row.issues {
                try rejectsWriter!.write([String(issue.line), issue.column ?? "", issue.value ?? "", issue.problem])
            }
        }
    }

    /// After a run that ends before writing any row (a bad input path, a missing column, a
    /// first chunk that stops it): removes its checkpoint, so that the corrected command runs
    /// afresh instead of being told to resume nothing.
    func abandonIfNothingWritten() {
        guard checkpoint.rowsThrough == 0, checkpoint.scored == 0, checkpoint.rejected == 0, let progressPath, !options.resume else { return }
        try? FileManager.default.removeItem(atPath: progressPath)
    }

    /// Flushes the outputs and removes the checkpoint: the run is complete.
    func finish() throws {
        try scores.flush()
        try rejectsWriter?.flush()
        if let progressPath { try? FileManager.default.removeItem(atPath: progressPath) }
    }

    /// Replaces the checkpoint file in one step (written aside, then renamed over it).
    private func saveCheckpoint() throws {
        guard let progressPath else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = progressPath + ".tmp"
        do {
            try encoder.encode(checkpoint).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, progressPath) != 0 { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw CleanExit.message("cannot save the checkpoint \(progressPath): \(error.localizedDescription)", code: 73)
        }
    }

}
