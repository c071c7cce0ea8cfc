import ChurnData
import ChurnProtocol
import Foundation

/// The files a cross-validated search trains on, written once and read by every trial: per fold,
/// a canonical CSV of the rows outside it (what a plugin's `train` reads), the fold's rows as
/// records (what `predict` scores, with their months when the data has a panel), and one panel
/// file holding the months of every searched customer.
///
/// Only the rows given are written: the caller passes the training rows, never held-back ones.
public struct FoldFiles: Sendable {
    public let folder: String
    public let folds: [[Int]]
    public let labels: [Bool]
    /// The training file of each fold (every row outside it).
    public let trainPaths: [String]
    /// The rows of each fold as prediction records.
    public let records: [[CustomerRecord]]
    public let historyPath: String?
    /// The canonical dataset schema, as plugins get it.
    public let schema: JSONValue

    /// Writes the files of `k` stratified folds of `data` (seeded) into `folder`.
    public init(data: Dataset, panel: MonthlyPanel?, k: Int, seed: UInt64, folder: String) throws {
        let labels = try data.requireLabels(file: folder)
        let folds = StratifiedSplit.folds(labels, k: k, seed: seed).map(\.test)
        var trainPaths: [String] = []
        var records: [[CustomerRecord]] = []
        for (index, fold) in folds.enumerated() {
            let inside = Set(fold)
            let path = (folder as NSString).appendingPathComponent("fold-\(index + 1)-train.csv")
            try data.rows(labels.indices.filter { !inside.contains($0) }).writeCSV(to: path)
            trainPaths.append(path)
            var foldRecords = data.rows(fold).records
            if let panel {
                let ids = fold.map { data.customers.ids[$0] }
                for (row, id) in ids.enumerated() { foldRecords[row].history = panel.schema.records(of: panel.histories[id] ?? []) }
            }
            records.append(foldRecords)
        }
        var historyPath: String?
        if let panel {
            historyPath = (folder as NSString).appendingPathComponent("fold-history.csv")
            try panel.writeCSV(to: historyPath!, ids: data.customers.ids)
        }
        self.folder = folder
        self.folds = folds
        self.labels = labels
        self.trainPaths = trainPaths
        self.records = records
        self.historyPath = historyPath
        self.schema = data.schema.canonical.jsonValue
    }

    /// The `train` request of one fold (no validation file: the fold's own rows are the score,
    /// and nothing else may steer the fit).
    public func trainRequest(fold: Int, params: [String: JSONValue], seed: UInt64, artifactPath: String) -> PluginTrainParams {
        PluginTrainParams(
            trainPath: trainPaths[fold], validationPath: nil, historyPath: historyPath, params: params, seed: seed,
            artifactPath: artifactPath, schema: schema)
    }

    /// A fresh artifact path for one fold fit.
    public func artifactPath(fold: Int) -> String {
        (folder as NSString).appendingPathComponent("fold-\(fold + 1)-\(UUID().uuidString.prefix(8)).artifact")
    }
}
