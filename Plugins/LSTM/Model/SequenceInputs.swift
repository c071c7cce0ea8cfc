import ChurnData
import ChurnML
import ChurnProtocol

/// Where a sequence model's months come from, and how they become its inputs.
///
/// - `panel`: the customers' real months (a monthly panel), encoded by the fitted
///   ``HistoryEncoding`` stored in the artifact;
/// - `derived`: the history derived from tenure and charges (a labelled fallback for data
///   without a panel, never presented as observed months);
/// - `none`: no history at all: the network is its static branch.
public enum SequenceSource: Sendable, Hashable {
    case panel(HistoryEncoding)
    case derived(DerivedHistoryFields, window: Int)
    case none

    /// What explanations call the months.
    public var provenance: String? {
        switch self {
        case .panel: "observed months"
        case .derived: DerivedHistory.provenance
        case .none: nil
        }
    }

    /// What the registry records as the version's history.
    public var name: String {
        switch self {
        case .panel: "panel"
        case .derived: "derived"
        case .none: "none"
        }
    }

    /// Static features (one-hot and standardised) and sequences for the rows of `table`, whose
    /// months (for a panel) are `months`, one entry per row.
    public func inputs(_ table: CustomerTable, schema: FeatureSchema, months: [[PanelMonth]]) -> SequenceDataset {
        let sequences: SequenceBatch
        switch self {
        case .panel(let encoding): sequences = encoding.sequences(months)
        case .derived(let fields, let window): sequences = DerivedHistory.sequences(table, fields: fields, window: window)
        case .none: sequences = SequenceBatch(count: table.count, steps: 0, features: 0, featureNames: [])
        }
        return SequenceDataset(staticFeatures: Matrix(schema.encode(table).dense()), sequences: sequences)
    }
}
