extension DaemonMethod {
    /// Churn probabilities for a batch of customers sent by column (``CustomerBatch``): the
    /// form for scoring a whole base, answered by column too.
    public enum PredictBatch: RPCMethod {
        public static let name = "predict.batch"
        public typealias Params = PredictBatchParams
        public typealias Result = PredictBatchResult
    }
}

/// Params of `predict.batch`.
public struct PredictBatchParams: Codable, Sendable, Hashable {
    /// The customers, by column: the id field and the model's input fields.
    public var batch: CustomerBatch
    /// A version (`3`, `churn@3`) or alias; the routed champion when absent.
    public var model: String?
    /// Whether to write each prediction to churnd's prediction log (as `predict` always does);
    /// true when absent. A whole base scored into a file may leave it out: the log keeps a
    /// bounded number of rows, and the scores file is that run's record.
    public var log: Bool?

    public init(batch: CustomerBatch, model: String? = nil, log: Bool? = nil) {
        self.batch = batch
        self.model = model
        self.log = log
    }
}

/// The `predict.batch` result: one probability per customer in batch order, and which version
/// answered each.
public struct PredictBatchResult: Codable, Sendable, Hashable {
    /// Calibrated churn probabilities, in batch order.
    public var probabilities: [Double]
    /// The versions that answered, each with its arm.
    public var models: [BatchAnswerer]
    /// Per customer, the index in ``models`` of the version that answered; absent when one
    /// version answered them all.
    public var answeredBy: [Int]?
    /// Which months the answering version read, when it is the same for every customer.
    public var history: HistorySource?
    /// Per customer, which months were read, when that differs between customers (a model
    /// reading a monthly panel; null for a customer whose version reads no months).
    public var histories: [HistorySource?]?

    public init(
        probabilities: [Double], models: [BatchAnswerer], answeredBy: [Int]? = nil, history: HistorySource? = nil,
        histories: [HistorySource?]? = nil
    ) {
        self.probabilities = probabilities
        self.models = models
        self.answeredBy = answeredBy
        self.history = history
        self.histories = histories
    }

    /// The version and arm that answered customer `row`.
    public func answerer(of row: Int) -> BatchAnswerer { models[answeredBy?[row] ?? 0] }

    /// The months customer `row`'s answer read.
    public func historySource(of row: Int) -> HistorySource? { histories.map { $0[row] } ?? history }

    enum CodingKeys: String, CodingKey {
        case probabilities, models, history, histories
        case answeredBy = "answered_by"
    }

    public init(from decoder: any Decoder) throws {
        // The fast path: a tree of the usual shape, read in one pass (a batch's answer holds
        // many thousands of numbers).
        if let tree = decoder as? any JSONTreeDecoding, let result = Self(tree: tree.jsonValue) {
            self = result
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            probabilities: try container.decode([Double].self, forKey: .probabilities),
            models: try container.decode([BatchAnswerer].self, forKey: .models),
            answeredBy: try container.decodeIfPresent([Int].self, forKey: .answeredBy),
            history: try container.decodeIfPresent(HistorySource.self, forKey: .history),
            histories: try container.decodeIfPresent([HistorySource?].self, forKey: .histories))
    }

    private init?(tree: JSONValue) {
        guard case .object(let members) = tree, case .array(let numbers)? = members["probabilities"],
            case .array(let answerers)? = members["models"]
        else { return nil }
        var probabilities = [Double](repeating: 0, count: numbers.count)
        for (index, number) in numbers.enumerated() {
            guard case .number(let value) = number else { return nil }
            probabilities[index] = value
        }
        var models: [BatchAnswerer] = []
        for answerer in answerers {
            guard case .object(let fields) = answerer, let model = ModelRef(json: fields["model"]), case .string(let arm)? = fields["arm"]
            else { return nil }
            models.append(BatchAnswerer(model: model, arm: Arm(rawValue: arm)))
        }
        var answeredBy: [Int]?
        switch members["answered_by"] {
        case nil, .null?: break
        case .array(let indices)?:
            var parsed = [Int](repeating: 0, count: indices.count)
            for (index, value) in indices.enumerated() {
                guard case .number(let number) = value, let model = Int(exactly: number) else { return nil }
                parsed[index] = model
            }
            answeredBy = parsed
        default: return nil
        }
        var history: HistorySource?
        switch members["history"] {
        case nil, .null?: break
        case .string(let source)?: history = HistorySource(rawValue: source)
        default: return nil
        }
        var histories: [HistorySource?]?
        switch members["histories"] {
        case nil, .null?: break
        case .array(let sources)?:
            histories = []
            for source in sources {
                switch source {
                case .null: histories!.append(nil)
                case .string(let text): histories!.append(HistorySource(rawValue: text))
                default: return nil
                }
            }
        default: return nil
        }
        self.init(probabilities: probabilities, models: models, answeredBy: answeredBy, history: history, histories: histories)
    }
}

/// A version that answered some of a batch, and in which arm.
public struct BatchAnswerer: Codable, Sendable, Hashable {
    public var model: ModelRef
    public var arm: Arm

    public init(model: ModelRef, arm: Arm) {
        self.model = model
        self.arm = arm
    }
}

extension PredictBatchResult: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("probabilities", first: true, into: &output)
        writeList(probabilities, into: &output) { JSONWriter.writeNumber($0, into: &$1) }
        writeKey("models", into: &output)
        writeList(models, into: &output) { answerer, output in
            output.append(UInt8(ascii: "{"))
            writeKey("model", first: true, into: &output)
            answerer.model.writeJSON(into: &output)
            writeKey("arm", into: &output)
            JSONWriter.writeString(answerer.arm.rawValue, into: &output)
            output.append(UInt8(ascii: "}"))
        }
        if let answeredBy {
            writeKey("answered_by", into: &output)
            writeList(answeredBy, into: &output) { JSONWriter.writeNumber(Double($0), into: &$1) }
        }
        if let history {
            writeKey("history", into: &output)
            JSONWriter.writeString(history.rawValue, into: &output)
        }
        if let histories {
            writeKey("histories", into: &output)
            writeList(histories, into: &output) { source, output in
                if let source { JSONWriter.writeString(source.rawValue, into: &output) } else { JSONWriter.write(.null, into: &output) }
            }
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension PredictBatchParams: JSONDirectWriting {
    public func writeJSON(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeKey("batch", first: true, into: &output)
        batch.writeJSON(into: &output)
        writeModelAndLog(model, log, into: &output)
        output.append(UInt8(ascii: "}"))
    }
}
