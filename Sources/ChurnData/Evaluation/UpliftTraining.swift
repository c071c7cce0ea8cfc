import Foundation
import ChurnProtocol

/// What every two-model ("T-learner") uplift plugin needs besides its model: which rows a
/// campaign gave the offer, enough outcomes in both arms, and the same validation metrics.
public enum UpliftTraining {
    /// Each arm needs this many churners and this many stayers to fit a model at all.
    public static let minimumPerClass = 5

    /// Whether each row of `dataset` (read from `path`) was given the offer.
    public static func arms(of dataset: Dataset, path: String, treatment: TreatmentColumn) throws -> [Bool] {
        let values = try CSVReader.column(treatment.column, of: path)
        return try dataset.lines.map { line in
            guard let value = values[line] else {
                throw DataError.malformed(DataIssue(file: path, line: line, column: treatment.column, problem: "no treatment value"))
            }
            return value == treatment.treated
        }
    }

    /// The treated and control rows, refused (naming the file and group) when either lacks
    /// `minimumPerClass` churners or stayers; `what` names the model in the message.
    public static func split(_ treated: [Bool], labels: [Bool], file: String, what: String) throws -> (treated: [Int], control: [Int]) {
        let treatedRows = treated.indices.filter { treated[$0] }
        let controlRows = treated.indices.filter { !treated[$0] }
        for (name, rows) in [("treated", treatedRows), ("control", controlRows)] {
            let churners = rows.filter { labels[$0] }.count
            guard churners >= minimumPerClass, rows.count - churners >= minimumPerClass else {
                throw DataError.unusableLabels(
                    file: file,
                    reason: "the \(name) group has \(churners) churners and \(rows.count - churners) stayers with outcomes; \(what) needs at least \(minimumPerClass) of each in both groups")
            }
        }
        return (treatedRows, controlRows)
    }

    /// Validation metrics of an uplift model from its two probabilities on validation rows:
    /// the Qini coefficient of its ranking and of ranking by risk without the offer, the mean
    /// predicted uplift and the observed one.
    public static func validationMetrics(untreated: [Double], treated: [Double], outcomes: [Bool], given: [Bool]) -> [String: Double] {
        let uplift = zip(untreated, treated).map { $0 - $1 }
        let stayed = outcomes.map { !$0 }
        var metrics: [String: Double] = ["val_rows": Double(outcomes.count)]
        if let q = UpliftMetrics.qiniCoefficient(stayed: stayed, treated: given, scores: uplift) { metrics["val_qini"] = q }
        // The same customers ranked by risk without the offer, as most retention lists are.
        if let q = UpliftMetrics.qiniCoefficient(stayed: stayed, treated: given, scores: untreated) { metrics["val_qini_by_risk"] = q }
        if let (low, high) = qiniGainInterval(uplift: uplift, byRisk: untreated, stayed: stayed, given: given) {
            metrics["val_qini_gain_low"] = low
            metrics["val_qini_gain_high"] = high
        }
        metrics["val_predicted_uplift_mean"] = uplift.reduce(0, +) / Double(max(1, uplift.count))
        if let observed = CampaignStatistics.uplift(
            treatedChurned: zip(outcomes, given).filter { $0.0 && $0.1 }.count, treated: given.filter { $0 }.count,
            controlChurned: zip(outcomes, given).filter { $0.0 && !$0.1 }.count, control: given.filter { !$0 }.count)
        {
            metrics["val_observed_uplift"] = observed.uplift
        }
        return metrics
    }
}

extension UpliftTraining {
    /// A 95% interval of how much the uplift ranking's Qini coefficient exceeds ranking by risk
    /// on the same rows: a paired bootstrap (the same resampled rows for both rankings, 400
    /// resamples, fixed seed), percentiles 2.5 and 97.5. Nil when too few resamples had both
    /// groups. An uplift model is better than ranking by risk only when the interval's low end
    /// is above 0.
    public static func qiniGainInterval(uplift: [Double], byRisk: [Double], stayed: [Bool], given: [Bool]) -> (Double, Double)? {
        let count = uplift.count
        guard count > 1 else { return nil }
        var random = SeededRandom(seed: 20_26)
        var gains: [Double] = []
        for _ in 0..<400 {
            let rows = (0..<count).map { _ in Int.random(in: 0..<count, using: &random) }
            let resampledStayed = rows.map { stayed[$0] }
            let resampledGiven = rows.map { given[$0] }
            guard let model = UpliftMetrics.qiniCoefficient(stayed: resampledStayed, treated: resampledGiven, scores: rows.map { uplift[$0] }),
                let risk = UpliftMetrics.qiniCoefficient(stayed: resampledStayed, treated: resampledGiven, scores: rows.map { byRisk[$0] })
            else { continue }
            gains.append(model - risk)
        }
        guard gains.count >= 200 else { return nil }
        gains.sort()
        return (gains[Int(Double(gains.count) * 0.025)], gains[min(gains.count - 1, Int(Double(gains.count) * 0.975))])
    }

    /// Why bytes are not a two-model uplift artifact.
    public struct ArtifactProblem: Error, CustomStringConvertible {
        public var description: String
    }

    /// A two-model uplift artifact: `magic`, then the treated model's artifact and the control
    /// model's, each after its length (UInt32, little-endian).
    public static func joinArtifacts(magic: [UInt8], treated: Data, control: Data) -> Data {
        var output = Data(magic)
        for part in [treated, control] {
            withUnsafeBytes(of: UInt32(part.count).littleEndian) { output.append(contentsOf: $0) }
            output.append(part)
        }
        return output
    }

    /// The treated and control models' artifacts in `bytes` (which start with `magic`); `model`
    /// names them in errors ("forest", "model").
    public static func splitArtifacts(_ bytes: Data, magic: [UInt8], model: String) throws(ArtifactProblem) -> (treated: Data, control: Data) {
        var parts: [Data] = []
        var position = bytes.startIndex + magic.count
        for name in ["treated", "control"] {
            guard bytes.endIndex - position >= 4 else { throw ArtifactProblem(description: "uplift artifact: the \(name) \(model) is missing") }
            let length = bytes[position..<position + 4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            position += 4
            guard bytes.endIndex - position >= length else { throw ArtifactProblem(description: "uplift artifact: the \(name) \(model) is truncated") }
            parts.append(Data(bytes[position..<position + length]))
            position += length
        }
        guard position == bytes.endIndex else { throw ArtifactProblem(description: "uplift artifact: unexpected bytes after both \(model)s") }
        return (parts[0], parts[1])
    }
}
