import ChurnProtocol

extension PluginTrainParams {
    /// The canonical schema of the training files: the one the daemon sent, or, from a caller
    /// that sent none, the built-in schema whose columns the training file's header has.
    public func datasetSchema() throws -> DatasetSchema {
        if let schema {
            do {
                return try DatasetSchema.decode(schema, source: "params.schema").canonical
            } catch {
                throw RPCError.invalidParams(field: "schema", "\(error)")
            }
        }
        guard let builtIn = BuiltInSchemas.detect(header: CSVReader.header(of: trainPath)) else {
            throw RPCError.invalidParams(
                field: "schema", "no schema was sent and \(trainPath) is not a built-in telco file: send the dataset schema")
        }
        return builtIn.canonical
    }
}

/// What a tree plugin's `train` reads first: the schema, the labelled training rows, and the
/// monthly panel when the schema names one (its aggregates then replace the derived history).
public struct TrainingInputs {
    public let dataset: DatasetSchema
    public let training: Dataset
    public let labels: [Bool]
    public let panel: MonthlyPanel?
    /// The history derived from tenure and charges, when there is no panel and the schema names
    /// its fields.
    public var derived: DerivedHistoryFields? { panel == nil ? dataset.derivedHistory : nil }
    /// The aggregates' window when the request sets none: the panel's, else the derived history's.
    public var defaultWindow: Int { panel?.schema.window ?? DerivedHistory.defaultWindow }
    /// What the version records as its history source.
    public var historySource: String { panel != nil ? "panel" : derived != nil ? "derived" : "none" }

    /// Reads `request`'s files; a schema with a panel and no `history_path` is -32602 on it.
    public init(_ request: PluginTrainParams) throws {
        dataset = try request.datasetSchema()
        (training, _) = try DatasetReader.read(request.trainPath, schema: dataset, options: DatasetReadOptions(requireLabel: true))
        labels = try training.requireLabels(file: request.trainPath)
        if let panelSchema = dataset.history {
            guard let path = request.historyPath else {
                throw RPCError.invalidParams(field: "history_path", "the schema names a monthly panel: send its file")
            }
            panel = try MonthlyPanel.read(path, schema: panelSchema)
        } else {
            panel = nil
        }
    }

    /// `table` with the panel's aggregates over `window` months, when there is a panel.
    public func augmented(_ table: CustomerTable, window: Int) -> CustomerTable {
        guard let panel else { return table }
        return PanelAggregates.augment(table, months: panel.months(for: table.ids), panel: panel.schema, window: window)
    }
}
