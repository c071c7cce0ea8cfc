import ArgumentParser
import ChurnClient
import ChurnData
import ChurnProtocol
import Foundation
import Synchronization

/// One `churn score` run: a reader thread streams the file in chunks, up to `inFlight` chunks
/// are at the daemon at once, and answers are written in input order, each chunk followed by a
/// checkpoint (`OUT.progress`) that `--resume` continues from.
struct ScoreRun {
    let client: ChurnClient
    let schema: DatasetSchema
    let options: ScoreOptions

    /// How the run ended.
    struct Outcome {
        var scored: Int
        var rejected: Int
        var interrupted: Bool
        /// 0 all scored, 3 some rows rejected, 130 interrupted.
        var exitStatus: Int32 { interrupted ? 130 : rejected > 0 ? 3 : 0 }
    }

    private var idField: String { schema.canonical.id?.name ?? DatasetSchema.generatedIDName }
    private var progressPath: String? { options.out == "-" ? nil : options.out + ".progress" }

    func run() async throws -> Outcome {
        let output = try ScoreOutput.open(options: options, progressPath: progressPath, header: header, settings: settings)
        let stop = StopSignal()
        stop.watchInterrupts()
        defer { stop.stopWatching() }
        var include: (@Sendable (String) -> Bool)?
        if let shard = options.shard {
            include = { id in ScoreOptions.shard(of: id, count: shard.count) == shard.index }
        }
        let stdin = options.input == "-"
        let streamOptions = DatasetStreamOptions(
            chunkRows: options.chunkRows, skipRows: output.checkpoint.rowsThrough, keepColumns: options.keep, include: include)
        let panel = options.history.map { PanelStream(path: $0, schema: schema.history!) }
        defer { panel?.close() }
        let reader = ChunkReader(
            path: stdin ? "/dev/stdin" : options.input, name: stdin ? "stdin" : options.input, schema: schema, options: streamOptions,
            panel: panel, window: options.inFlight, stop: stop)
        var progress = ScoreProgress(
            style: options.progress, fileBytes: options.input == "-" ? nil : Self.fileSize(options.input),
            startScored: output.checkpoint.scored)
        var pending: [(chunk: ScoreChunk, answer: Task<ChunkAnswer, any Error>)] = []
        defer { for item in pending { item.answer.cancel() } }

        func writeOldest() async throws {
            let (chunk, task) = pending.removeFirst()
            let answer = try await task.value
            // Stopped while this chunk was at the daemon: the output ends at the last checkpoint.
            if stop.isSet { return }
            try output.write(chunk.rows, answer, idField: idField, strict: options.strict)
            reader.release()
            progress.update(
                rowsThrough: chunk.rows.rowsThrough, bytesThrough: chunk.rows.bytesThrough, scored: output.checkpoint.scored,
                rejected: output.checkpoint.rejected)
        }

        do {
            for try await chunk in reader.chunks {
                if stop.isSet { break }
                let scorer = ChunkScorer(
                    client: client, model: options.model, idField: idField, reasons: options.reasons, log: options.log, panel: schema.history,
                    wording: RiskReasons(schema: schema))
                pending.append((chunk, Task { try await scorer.answer(chunk) }))
                while pending.count >= options.inFlight, !stop.isSet { try await writeOldest() }
            }
            while !pending.isEmpty, !stop.isSet { try await writeOldest() }
        } catch let stopped as ScoreStop {
            reader.cancel()
            output.abandonIfNothingWritten()
            progress.finish(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, note: nil)
            throw stopped.exit(progressPath: progressPath, scored: output.checkpoint.scored)
        } catch let error as DataError {
            reader.cancel()
            output.abandonIfNothingWritten()
            progress.finish(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, note: nil)
            throw CleanExit.message(error.description, code: 65)
        } catch let error as ChurnClientError {
            reader.cancel()
            progress.finish(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, note: nil)
            let resume = progressPath == nil ? "" : "; \(output.checkpoint.scored) rows are in \(options.out): run the same command with --resume to continue"
            throw CleanExit.message("\(error)\(resume)", code: error.rpcError == nil ? 69 : 1)
        }
        reader.cancel()
        if stop.isSet {
            progress.finish(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, note: "interrupted")
            if progressPath != nil {
                FileHandle.standardError.write(
                    Data("churn: interrupted: \(options.out) holds \(output.checkpoint.scored) scored rows; run the same command with --resume to continue\n".utf8))
            }
            return Outcome(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, interrupted: true)
        }
        try output.finish()
        progress.finish(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, note: nil)
        if output.checkpoint.rejected > 0 {
            let place = options.rejects.map { "listed in \($0)" } ?? "listed above"
            FileHandle.standardError.write(Data("churn: \(output.checkpoint.rejected) rows were rejected (\(place))\n".utf8))
        }
        return Outcome(scored: output.checkpoint.scored, rejected: output.checkpoint.rejected, interrupted: false)
    }

    /// The output's header row.
    private var header: [String] {
        [idField, "churn_probability", "risk_band", "model", "arm"] + (options.reasons > 0 ? ["reasons"] : []) + options.keep
    }

    /// What shapes the output, so that a resumed run writes what the first one did.
    private var settings: String {
        var parts = ["model=\(options.model ?? "champion")", "schema=\(schema.name)", "columns=\(header.joined(separator: ","))"]
        parts.append("bands=\(options.bands.medium),\(options.bands.high)")
        if let shard = options.shard { parts.append("shard=\(shard.index)/\(shard.count)") }
        if options.reasons > 0 { parts.append("reasons=\(options.reasons)") }
        if let history = options.history { parts.append("history=\(history)") }
        return parts.joined(separator: ";")
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    }
}

// MARK: Reading

/// Why a run stopped before the end of the file.
enum ScoreStop: Error {
    /// `--strict` met a bad row.
    case strict(DataIssue)

    func exit(progressPath: String?, scored: Int) -> ExitCode {
        switch self {
        case .strict(let issue):
            CleanExit.message("\(issue) (--strict: stopped after \(scored) scored rows)", code: 65)
        }
    }
}

/// Set by Ctrl-C (SIGINT) or SIGTERM: the run stops taking chunks and keeps what it wrote.
final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    /// Set and cleared by the run's own task only (the handlers read ``flag``).
    private var sources: [any DispatchSourceSignal] = []

    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }

    func watchInterrupts() {
        let watched = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                set()
                // A second Ctrl-C (or SIGTERM) ends the process at once, even while it waits on the daemon.
                signal(number, SIG_DFL)
            }
            source.resume()
            return source
        }
        sources = watched
    }

    func stopWatching() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A chunk of the input and, with `--history`, each of its customers' months.
struct ScoreChunk: Sendable {
    var rows: DatasetChunk
    var months: [[PanelMonth]]?
}

/// Streams a file in chunks on a thread of its own, at most `window` + 1 chunks ahead of the
/// writer; with a panel, the months of each chunk's customers are read alongside.
final class ChunkReader: Sendable {
    let chunks: AsyncThrowingStream<ScoreChunk, any Error>
    private let slots: DispatchSemaphore
    private let stop: StopSignal
    private let cancelled = Atomic<Bool>(false)

    init(
        path: String, name: String, schema: DatasetSchema, options: DatasetStreamOptions, panel: PanelStream?, window: Int, stop: StopSignal
    ) {
        let (chunks, continuation) = AsyncThrowingStream<ScoreChunk, any Error>.makeStream()
        self.chunks = chunks
        // Created empty and filled: libdispatch traps when a semaphore is freed below its
        // starting value, which a run that stops early would do.
        let slots = DispatchSemaphore(value: 0)
        for _ in 0...window { slots.signal() }
        self.slots = slots
        self.stop = stop
        let thread = Thread { [cancelled = self.cancelledCheck] in
            do {
                _ = try DatasetReader.stream(path, name: name, schema: schema, options: options) { chunk in
                    while slots.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
                        if cancelled() { throw CancellationError() }
                    }
                    if cancelled() { throw CancellationError() }
                    let months = try panel.map { panel in
                        try chunk.customers.ids.indices.map { row in
                            try panel.months(of: chunk.customers.ids[row], line: chunk.lines[row], in: name)
                        }
                    }
                    continuation.yield(ScoreChunk(rows: chunk, months: months))
                }
                continuation.finish()
            } catch is CancellationError {
                // Stopped on purpose (Ctrl-C, or the run ended early): the stream just ends.
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "churn score reader"
        thread.start()
    }

    private var cancelledCheck: @Sendable () -> Bool {
        { [weak self] in
            guard let self else { return true }
            return self.cancelled.load(ordering: .relaxed) || self.stop.isSet
        }
    }

    /// A chunk was written: the reader may read one more.
    func release() { slots.signal() }

    /// Stops the reader (it ends at its next chunk).
    func cancel() { cancelled.store(true, ordering: .relaxed) }
}

// MARK: Scoring

/// One chunk's answers: for each good row the daemon scored, its probability and who answered;
/// rows the daemon refused are rejected with its reason.
struct ChunkAnswer: Sendable {
    /// Chunk rows answered, in order.
    var rows: [Int]
    var probabilities: [Double]
    var answerers: [BatchAnswerer]
    /// Per answered row, an index into ``answerers``.
    var answeredBy: [Int]
    /// Per answered row, its reasons as text (with `--reasons`).
    var reasons: [String]?
    /// Rows the daemon refused.
    var refused: [RejectedRow]
}

/// Scores chunks through the daemon.
struct ChunkScorer: Sendable {
    let client: ChurnClient
    let model: String?
    let idField: String
    let reasons: Int
    let log: Bool
    /// The model's panel, for a chunk that carries months.
    let panel: PanelSchema?
    /// How reasons are written (the fields' display names and units).
    let wording: RiskReasons

    /// Customers a `predict` with months carries (a year of months is a few KB a customer: well
    /// within a frame).
    static let customersWithMonthsPerCall = 500

    func answer(_ scoreChunk: ScoreChunk) async throws -> ChunkAnswer {
        let chunk = scoreChunk.rows
        var rows = Array(0..<chunk.customers.count)
        var refused: [RejectedRow] = []
        // A row the daemon refuses (its schema differs from the one the file was read with) is
        // rejected with the daemon's reason and the rest are sent again.
        while !rows.isEmpty {
            let table = rows.count == chunk.customers.count ? chunk.customers : chunk.customers.rows(rows)
            let refusal: RPCError
            do {
                if reasons > 0 { return try await explained(table, rows: rows, months: scoreChunk.months, refused: refused) }
                if let months = scoreChunk.months { return try await scoredWithMonths(table, rows: rows, months: months, refused: refused) }
                return try await scored(table, rows: rows, refused: refused)
            } catch {
                guard case .daemon(let rpcError) = error, rpcError.knownCode == .invalidParams else { throw error }
                refusal = rpcError
            }
            do {
                let error = refusal
                guard let (index, field) = Self.refusedRow(error), index < rows.count else { throw ChurnClientError.daemon(error) }
                let row = rows[index]
                let reason = error.data?.objectValue?["reason"]?.stringValue ?? error.message
                refused.append(
                    RejectedRow(
                        line: chunk.lines[row],
                        issues: [
                            DataIssue(
                                file: "", line: chunk.lines[row], column: field,
                                value: chunk.customers.value(of: field, at: row).text, problem: "refused by the daemon: \(reason)")
                        ]))
                rows.remove(at: index)
            }
        }
        return ChunkAnswer(rows: [], probabilities: [], answerers: [], answeredBy: [], reasons: nil, refused: refused)
    }

    private func scored(_ table: CustomerTable, rows: [Int], refused: [RejectedRow]) async throws(ChurnClientError) -> ChunkAnswer {
        let result = try await client.predictBatch(table.batch(idField: idField), model: model, log: log)
        guard result.probabilities.count == rows.count, !result.models.isEmpty else {
            throw .transport("the daemon answered \(result.probabilities.count) probabilities for \(rows.count) customers")
        }
        return ChunkAnswer(
            rows: rows, probabilities: result.probabilities, answerers: result.models,
            answeredBy: result.answeredBy ?? [Int](repeating: 0, count: rows.count), reasons: nil, refused: refused)
    }

    /// The customers at `rows` as records, with their months when the chunk carries them.
    private func records(_ table: CustomerTable, rows: [Int], months: [[PanelMonth]]?) -> [CustomerRecord] {
        (0..<table.count).map { position in
            var record = table.record(at: position, idField: idField)
            if let months, let panel, !months[rows[position]].isEmpty { record.history = panel.records(of: months[rows[position]]) }
            return record
        }
    }

    /// Customers with their months go as records (`predict`, a few hundred a call).
    private func scoredWithMonths(_ table: CustomerTable, rows: [Int], months: [[PanelMonth]], refused: [RejectedRow])
        async throws(ChurnClientError) -> ChunkAnswer
    {
        let all = records(table, rows: rows, months: months)
        var predictions: [Prediction] = []
        predictions.reserveCapacity(all.count)
        for start in stride(from: 0, to: all.count, by: Self.customersWithMonthsPerCall) {
            let part = Array(all[start..<min(start + Self.customersWithMonthsPerCall, all.count)])
            do {
                predictions += try await client.predict(part, model: model, log: log)
            } catch .daemon(let error) {
                // Name the row within the whole chunk, as a batch's problem would be named.
                throw .daemon(Self.shifted(error, by: start))
            }
        }
        let (answerers, answeredBy) = Self.answerers(predictions.map { BatchAnswerer(model: $0.model, arm: $0.arm) })
        return ChunkAnswer(
            rows: rows, probabilities: predictions.map(\.churnProbability), answerers: answerers, answeredBy: answeredBy, reasons: nil,
            refused: refused)
    }

    private func explained(_ table: CustomerTable, rows: [Int], months: [[PanelMonth]]?, refused: [RejectedRow])
        async throws(ChurnClientError) -> ChunkAnswer
    {
        let explanations = try await client.explain(records(table, rows: rows, months: months), model: model, top: reasons)
        guard explanations.count == rows.count else {
            throw .transport("the daemon answered \(explanations.count) explanations for \(rows.count) customers")
        }
        let (answerers, answeredBy) = Self.answerers(explanations.map { BatchAnswerer(model: $0.model, arm: $0.arm) })
        return ChunkAnswer(
            rows: rows, probabilities: explanations.map(\.explanation.churnProbability), answerers: answerers, answeredBy: answeredBy,
            reasons: explanations.map { wording.line($0.explanation, top: reasons) }, refused: refused)
    }

    /// The distinct answerers, and per customer the index of its own.
    static func answerers(_ each: [BatchAnswerer]) -> ([BatchAnswerer], [Int]) {
        var distinct: [BatchAnswerer] = []
        var indices: [Int] = []
        indices.reserveCapacity(each.count)
        for answerer in each {
            if let index = distinct.firstIndex(of: answerer) {
                indices.append(index)
            } else {
                distinct.append(answerer)
                indices.append(distinct.count - 1)
            }
        }
        return (distinct, indices)
    }

    /// A `customers[i].field` problem of a call that carried rows from `offset` on, as the
    /// `batch[offset + i].field` of the whole chunk.
    static func shifted(_ error: RPCError, by offset: Int) -> RPCError {
        guard let field = error.data?.objectValue?["field"]?.stringValue, field.hasPrefix("customers["),
            let close = field.firstIndex(of: "]"), let index = Int(field[field.index(field.startIndex, offsetBy: 10)..<close])
        else { return error }
        let renamed = "batch[\(offset + index)]" + field[field.index(after: close)...]
        let reason = error.data?.objectValue?["reason"]?.stringValue ?? error.message
        return RPCError.invalidParams(field: renamed, reason)
    }

    /// The row index and field of a `batch[i].field` (or, from the record paths,
    /// `customers[i].field`) problem the daemon named.
    static func refusedRow(_ error: RPCError) -> (Int, String)? {
        guard let field = error.data?.objectValue?["field"]?.stringValue,
            let prefix = ["batch[", "customers["].first(where: { field.hasPrefix($0) }),
            let close = field.firstIndex(of: "]"), let index = Int(field[field.index(field.startIndex, offsetBy: prefix.count)..<close])
        else { return nil }
        let rest = field[field.index(after: close)...]
        return (index, rest.hasPrefix(".") ? String(rest.dropFirst()) : String(rest))
    }
}
