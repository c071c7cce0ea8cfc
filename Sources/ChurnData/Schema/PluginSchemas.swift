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
