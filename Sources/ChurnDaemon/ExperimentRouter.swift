import ChurnProtocol
import Synchronization

/// Which arm answers each customer while an experiment runs on the default model: in A/B, a
/// sticky share of customers (by a hash of the experiment and customer ids, the same on every
/// host) goes to the challenger; in shadow, the champion answers everyone and the challenger
/// scores the same customers off the hot path.
final class ExperimentRouter: Sendable {
    private let experiment = Mutex<ExperimentInfo?>(nil)

    init(running: ExperimentInfo? = nil) {
        experiment.withLock { $0 = running }
    }

    /// The experiment running on the default model, as routing sees it.
    var running: ExperimentInfo? { experiment.withLock { $0 } }

    /// Routes by `running` from now on (nil: no experiment).
    func set(_ running: ExperimentInfo?) {
        experiment.withLock { $0 = running }
    }

    /// The positions of `ids` the champion answers and those the challenger answers in an A/B
    /// `experiment`.
    static func split(_ ids: [String], in experiment: ExperimentInfo) -> (champion: [Int], challenger: [Int]) {
        var champion: [Int] = []
        var challenger: [Int] = []
        for (index, id) in ids.enumerated() {
            if bucket(experiment: experiment.id, customer: id) < experiment.share {
                challenger.append(index)
            } else {
                champion.append(index)
            }
        }
        return (champion, challenger)
    }

    /// Where a customer falls in [0, 1) for an experiment: FNV-1a of "experiment:customer".
    static func bucket(experiment: Int, customer: String) -> Double {
        bucket(key: "\(experiment):\(customer)")
    }

    /// Where a key falls in [0, 1), the same on every host (``StableHash``).
    static func bucket(key: String) -> Double {
        StableHash.fraction(key)
    }
}
