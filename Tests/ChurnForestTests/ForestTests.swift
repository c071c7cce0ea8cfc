import ChurnData
import ChurnForest
import ChurnPluginKit
import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

/// A matrix of numeric columns only, for hand-made tables.
private func numericFeatures(_ columns: [[Float]]) -> EncodedFeatures {
    let rows = columns[0].count
    var values: [Float] = []
    for row in 0..<rows { for column in columns { values.append(column[row]) } }
    return EncodedFeatures(rows: rows, width: columns.count, fields: 0, numericCount: columns.count, active: [], numeric: values)
}

private var realTrainPath: String? {
    let path = (repositoryRoot as NSString).deletingLastPathComponent + "/shared/data/telco/telco_train.csv"
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("real telco data is missing at \(path): these tests need ../shared/data/telco beside the repository")
        return nil
    }
    return path
}

@Suite("Random forest")
struct ForestTests {
    @Test func aTreeOnAHandMadeTableMakesTheSplitYouCanCheckByHand() {
        // Churn exactly when x > 5; y is noise. The best first split is x <= 5.5.
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        let y: [Float] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
        let labels = x.map { $0 > 5 }
        var options = ForestOptions()
        options.trees = 1
        options.bootstrap = false
        options.maxFeatures = 2
        options.minSamplesLeaf = 1
        options.maxDepth = 0
        let (forest, report) = RandomForest.fit(numericFeatures([x, y]), labels: labels, options: options, seed: 1)
        let tree = forest.trees[0]
        #expect(tree.nodeCount == 3, "one split makes both children pure")
        #expect(tree.feature[0] == 0)
        #expect(forest.bins.edges[0][Int(tree.threshold[0])] == 5.5, "the midpoint between 5 and 6")
        #expect(Tree.probability(tree.value[1]) == 0 && Tree.probability(tree.value[2]) == 1)
        #expect(abs(Tree.probability(tree.value[0]) - 0.5) < 1e-4, "values are stored in 16-bit fixed point")
        #expect(report.impurityImportance == [1, 0])
        #expect(forest.predict(numericFeatures([[2, 9], [0, 0]])) == [0, 1])
    }

    @Test func theOptionsStartAtThePluginsDefaults() throws {
        // One set of defaults: what `train` uses without params is what ForestOptions() holds.
        // (max_features is a third of the columns, resolved per width: 8 of 25.)
        let (parsed, _) = try ForestParameters.parse([:], width: 25)
        #expect(parsed == ForestOptions(), "ForestOptions' initial values drifted from ForestParameters.specs")
    }

    @Test func theSameSeedGivesABitIdenticalForestOnAnyNumberOfThreads() throws {
        let features = numericFeatures([(0..<400).map { Float($0 % 37) }, (0..<400).map { Float(($0 * 7) % 11) }])
        let labels = (0..<400).map { ($0 % 37) > 20 || ($0 * 7) % 11 == 3 }
        var options = ForestOptions()
        options.trees = 20
        options.maxFeatures = 1
        options.threads = 1
        let single = RandomForest.fit(features, labels: labels, options: options, seed: 42).0
        options.threads = 2
        let double = RandomForest.fit(features, labels: labels, options: options, seed: 42).0
        #expect(single.trees == double.trees)
        let other = RandomForest.fit(features, labels: labels, options: options, seed: 43).0
        #expect(other.trees != single.trees)
    }

    @Test func contributionsSumToThePrediction() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let schema = FeatureSchema.fit(dataset.customers, derivedHistory: dataset.schema.derivedHistory)
        let features = schema.encode(dataset.customers)
        var options = ForestOptions()
        options.trees = 50
        options.maxFeatures = 8
        let (forest, _) = RandomForest.fit(features, labels: dataset.churned!, options: options, seed: 3)
        let predictions = forest.predict(features.rows([0, 1, 2, 100, 5000]))
        for (index, row) in [0, 1, 2, 100, 5000].enumerated() {
            let (bias, columns, probability) = forest.contributions(features, row: row)
            #expect(abs(bias + columns.reduce(0, +) - probability) < 1e-6)
            #expect(abs(probability - predictions[index]) < 1e-9)
        }
    }

    @Test func theArtifactRoundTripsExactlyAndRefusesOtherFormats() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let schema = FeatureSchema.fit(dataset.customers, derivedHistory: dataset.schema.derivedHistory)
        let features = schema.encode(dataset.customers)
        var options = ForestOptions()
        options.trees = 40
        let (forest, _) = RandomForest.fit(features, labels: dataset.churned!, options: options, seed: 5)
        let bytes = try ForestArtifact.write(forest, schema: schema, dataset: dataset.schema)
        let restored = try ForestArtifact.read(bytes)
        #expect(restored.forest == forest && restored.schema == schema)
        #expect(restored.dataset == dataset.schema.canonical)
        #expect(restored.panelWindow == nil)
        #expect(restored.forest.predict(restored.schema.encode(dataset.customers)) == forest.predict(features))

        var future = bytes
        future[8] = 3
        #expect(throws: ForestArtifact.Invalid.self) { _ = try ForestArtifact.read(future) }
        do {
            _ = try ForestArtifact.read(future)
        } catch {
            #expect("\(error)".contains("format 3"))
        }
        #expect(throws: ForestArtifact.Invalid.self) { _ = try ForestArtifact.read(bytes.prefix(bytes.count - 7)) }
        #expect(throws: ForestArtifact.Invalid.self) { _ = try ForestArtifact.read(Data("not a forest".utf8)) }
    }

    @Test(arguments: [
        (["max_depth": -1] as [String: JSONValue], "params.max_depth"),
        (["n_trees": 0], "params.n_trees"),
        (["depth": 3], "params.depth"),
        (["max_features": "half"], "params.max_features"),
        (["class_weight": "heavy"], "params.class_weight"),
        (["min_samples_leaf": 2.5], "params.min_samples_leaf"),
        (["bootstrap": "yes"], "params.bootstrap"),
    ])
    func badParametersNameTheField(params: [String: JSONValue], field: String) {
        #expect {
            _ = try ForestParameters.parse(params, width: 65)
        } throws: { error in
            let rpc = error as? RPCError
            return rpc?.knownCode == .invalidParams && rpc?.data?.objectValue?["field"]?.stringValue == field
        }
    }

    @Test func thePluginTrainsExplainsAndLoadsItsOwnArtifact() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let split = StratifiedSplit.trainValidationTest(dataset.churned!, testFraction: 0.2, validationFraction: 0.2, seed: 1)
        let folder = NSTemporaryDirectory() + "forest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dataset.rows(split.train).writeCSV(to: folder + "/train.csv")
        try dataset.rows(split.validation).writeCSV(to: folder + "/validation.csv")
        let plugin = RandomForestPlugin()
        let result = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", validationPath: folder + "/validation.csv", params: ["n_trees": 100], seed: 9,
                artifactPath: folder + "/model.artifact"),
            progress: .silent)
        #expect((result.metrics["val_roc_auc"] ?? 0) > 0.8, "\(result.metrics)")
        #expect((result.metrics["oob_roc_auc"] ?? 0) > 0.8)
        #expect(result.lossCurve.last?.epoch == 100)
        #expect(result.importances.contains { $0.method == "impurity" && $0.feature == "Contract" })
        #expect(result.importances.contains { $0.method == "permutation" })
        #expect(result.params["min_samples_leaf"] == 10 && result.params["max_depth"] == 12, "the defaults docs/defaults.md chose")
        let model = try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact")))
        let test = dataset.rows(split.test)
        let records = Array(test.records.prefix(50))
        let probabilities = try model.predict(records)
        let explanations = try model.explain(records, top: nil)
        for (probability, explanation) in zip(probabilities, explanations) {
            #expect(abs(explanation.churnProbability - probability) < 1e-9)
            let sum = (explanation.bias ?? 0) + explanation.contributions.reduce(0) { $0 + $1.contribution }
            #expect(abs(sum - probability) < 1e-6)
            #expect(explanation.contributions.contains { $0.feature == "Contract" })
            #expect(!explanation.contributions.contains { $0.feature.hasPrefix("Contract=") }, "one-hot columns are folded per field")
        }
        // Exact Shapley values add up on every held-out row, not just the first few.
        let everyRow = try model.explain(dataset.rows(split.test).records, top: nil)
        for (probability, explanation) in zip(try model.predict(dataset.rows(split.test).records), everyRow) {
            #expect(abs((explanation.bias ?? .nan) + explanation.contributions.reduce(0) { $0 + $1.contribution } - probability) < 1e-9)
        }
        #expect(result.importances.contains { $0.method == "mean_abs_shap" && $0.feature == "Contract" })
        // Every customer's explained probability is a probability, training customers (whose
        // leaves are pure) included: a sum of Shapley values may round to just below 0.
        let everyCustomer = try model.explain(dataset.records, top: 1)
        #expect(everyCustomer.allSatisfy { (0...1).contains($0.churnProbability) })
        let top = try model.explain(records, top: 3)
        #expect(top.allSatisfy { $0.contributions.count == 3 })
        let auc = Metrics.rocAUC(test.churned!, try model.predict(test.records))!
        #expect(auc > 0.8, "held-out ROC-AUC \(auc)")
    }

    @Test func theSameSeedAndDataGiveTheSameArtifactBytesAndRecordedParamsTrainAgain() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let folder = NSTemporaryDirectory() + "forest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dataset.rows(Array(0..<2000)).writeCSV(to: folder + "/train.csv")
        let plugin = RandomForestPlugin()
        func train(_ params: [String: JSONValue], _ artifact: String) throws -> (PluginTrainResult, Data) {
            let result = try plugin.train(
                PluginTrainParams(trainPath: folder + "/train.csv", params: params, seed: 5, artifactPath: folder + "/" + artifact),
                progress: .silent)
            return (result, try Data(contentsOf: URL(fileURLWithPath: folder + "/" + artifact)))
        }
        let (first, firstBytes) = try train(["n_trees": 30], "a.artifact")
        let (_, secondBytes) = try train(["n_trees": 30], "b.artifact")
        #expect(firstBytes == secondBytes, "same seed and data, different artifact bytes")
        // The params a version records are params training accepts, and give the same model.
        let (retrained, retrainedBytes) = try train(first.params, "c.artifact")
        #expect(retrained.params == first.params)
        #expect(retrainedBytes == firstBytes)
    }

    /// The forest's explanation of a field is its exact Shapley value: on a small forest, every
    /// field's contribution equals the value computed from the definition (every subset of the
    /// fields the trees use; a field absent from a subset averaged out by the nodes' covers), a
    /// categorical field's one-hot columns counting as one player.
    @Test func explanationsAreExactShapleyValuesPerField() throws {
        let data = SyntheticOperator.generate(customers: 700, seed: 8)
        let folder = NSTemporaryDirectory() + "forest-shap-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try data.writeCSV(to: folder + "/train.csv")
        let plugin = RandomForestPlugin()
        _ = try plugin.train(
            PluginTrainParams(
                trainPath: folder + "/train.csv", params: ["n_trees": 3, "max_depth": 3, "min_samples_leaf": 5, "max_features": "all"],
                seed: 2, artifactPath: folder + "/model.artifact", schema: data.schema.canonical.jsonValue),
            progress: .silent)
        let model = try #require(try plugin.load(artifact: try Data(contentsOf: URL(fileURLWithPath: folder + "/model.artifact"))) as? LoadedForest)
        let fields = model.schema.inputFields
        let columnField = model.schema.columnFields.map { fields.firstIndex(of: $0)! }
        let used = Array(Set(model.forest.trees.flatMap { tree in
            (0..<tree.nodeCount).filter { tree.feature[$0] != Tree.leaf }.map { columnField[Int(tree.feature[$0])] }
        })).sorted()
        #expect(used.count >= 2 && used.count <= 12)
        #expect(used.contains { model.schema.categorical.map(\.field).contains(fields[$0]) }, "a one-hot field is among the players")
        let records = Array(data.records.prefix(15))
        let features = model.schema.encode(data.customers.rows(Array(0..<15)))
        let binned = model.forest.bins.binRows(features)
        let width = model.forest.bins.featureCount
        for (row, explanation) in try model.explain(records, top: nil).enumerated() {
            // E[f(x) | x_S] of one tree: follow the row where the node's field is in S, else
            // average the children by cover.
            func expectation(_ tree: Tree, _ node: Int, _ subset: Set<Int>) -> Double {
                guard tree.feature[node] != Tree.leaf else { return Tree.probability(tree.value[node]) }
                let left = node + 1, right = Int(tree.right[node])
                if subset.contains(columnField[Int(tree.feature[node])]) {
                    let goesLeft = binned[row * width + Int(tree.feature[node])] <= tree.threshold[node]
                    return expectation(tree, goesLeft ? left : right, subset)
                }
                let (l, r) = (Double(tree.cover[left]), Double(tree.cover[right]))
                return (l * expectation(tree, left, subset) + r * expectation(tree, right, subset)) / (l + r)
            }
            func value(_ subset: Set<Int>) -> Double {
                model.forest.trees.reduce(0) { $0 + expectation($1, 0, subset) } / Double(model.forest.trees.count)
            }
            let m = used.count
            func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
            for player in used {
                let others = used.filter { $0 != player }
                var shapley = 0.0
                for mask in 0..<(1 << others.count) {
                    let subset = Set(others.indices.filter { mask & (1 << $0) != 0 }.map { others[$0] })
                    let weight = factorial(subset.count) * factorial(m - subset.count - 1) / factorial(m)
                    shapley += weight * (value(subset.union([player])) - value(subset))
                }
                let served = explanation.contributions.first { $0.feature == fields[player] }?.contribution ?? .nan
                #expect(abs(served - shapley) < 1e-9, "row \(row) field \(fields[player]): served \(served), definition \(shapley)")
            }
            for contribution in explanation.contributions where !used.contains(fields.firstIndex(of: contribution.feature)!) {
                #expect(contribution.contribution == 0, "\(contribution.feature) is never split on")
            }
            #expect(abs((explanation.bias ?? .nan) - value([])) < 1e-9, "the bias is the expected output")
        }
    }

    /// A forest stored before covers were (format 1) still loads, predicts the same and explains
    /// by path attribution, which still adds up.
    @Test func aFormatOneArtifactExplainsByPathAttribution() throws {
        let data = SyntheticOperator.generate(customers: 500, seed: 3)
        let schema = FeatureSchema.fit(data.customers)
        var options = ForestOptions()
        options.trees = 10
        var (forest, _) = RandomForest.fit(schema.encode(data.customers), labels: data.churned!, options: options, seed: 4)
        let current = try ForestArtifact.write(forest, schema: schema, dataset: data.schema)
        for index in forest.trees.indices { forest.trees[index].cover = [] }
        var formatOne = try ForestArtifact.write(forest, schema: schema, dataset: data.schema)
        formatOne[8] = 1
        let old = try RandomForestPlugin().load(artifact: formatOne)
        let new = try RandomForestPlugin().load(artifact: current)
        let records = Array(data.records.prefix(40))
        #expect(try old.predict(records) == new.predict(records))
        let pathAttributed = try old.explain(records, top: nil)
        let shapley = try new.explain(records, top: nil)
        for (path, exact) in zip(pathAttributed, shapley) {
            #expect(abs((path.bias ?? .nan) + path.contributions.reduce(0) { $0 + $1.contribution } - path.churnProbability) < 1e-9)
            #expect(abs(path.churnProbability - exact.churnProbability) < 1e-9)
        }
        #expect(zip(pathAttributed, shapley).contains { path, exact in path.contributions != exact.contributions }, "two different methods")
    }

    @Test func anArtifactOfTheFirstReleaseStillLoadsAndGivesTheSameAnswers() throws {
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        let schema = FeatureSchema.fit(dataset.customers, derivedHistory: dataset.schema.derivedHistory)
        var options = ForestOptions()
        options.trees = 20
        let (forest, _) = RandomForest.fit(schema.encode(dataset.customers), labels: dataset.churned!, options: options, seed: 7)
        // The first release's artifact: no dataset schema, a version 1 feature schema naming the
        // telco fields by their enum positions (the order of the built-in schema's columns).
        let categorical = BuiltInSchemas.kaggle.inputs.filter { $0.type == .categorical }.map(\.name)
        let numbers = BuiltInSchemas.kaggle.inputs.filter { $0.type != .categorical }.map(\.name)
        let legacySchema: [String: Any] = [
            "version": 1,
            "categorical": schema.categorical.map { ["field": categorical.firstIndex(of: $0.field)!, "seen": $0.seen] },
            "numeric": schema.numeric.map {
                ["field": numbers.firstIndex(of: $0.field)!, "mean": $0.mean, "std": $0.standardDeviation, "missing_value": 0]
            },
            "history": ["window": schema.history!.window, "means": schema.history!.means, "stds": schema.history!.standardDeviations],
        ]
        let current = try ForestArtifact.write(forest, schema: schema, dataset: dataset.schema)
        let length = Int(current[12]) | Int(current[13]) << 8 | Int(current[14]) << 16 | Int(current[15]) << 24
        var metadata = try JSONSerialization.jsonObject(with: current[16..<(16 + length)]) as! [String: Any]
        metadata["dataset"] = nil
        metadata["schema"] = legacySchema
        let legacyMetadata = try JSONSerialization.data(withJSONObject: metadata)
        var legacy = Data(current[0..<12])
        withUnsafeBytes(of: UInt32(legacyMetadata.count).littleEndian) { legacy.append(contentsOf: $0) }
        legacy.append(legacyMetadata)
        legacy.append(current[(16 + length)...])

        let model = try RandomForestPlugin().load(artifact: legacy)
        let records = Array(dataset.records.prefix(200))
        let fresh = try RandomForestPlugin().load(artifact: current)
        #expect(try model.predict(records) == fresh.predict(records), "the same answers from the old artifact")
        #expect(model.features == fresh.features)
    }

    @Test func shuffledLabelsLearnNothing() throws {
        // The leakage guard: if any input carried the outcome, a forest trained on shuffled labels
        // would still rank held-out churners above stayers.
        guard let path = realTrainPath else { return }
        let (dataset, _) = try DatasetReader.read(path, schema: BuiltInSchemas.kaggle, options: DatasetReadOptions(requireLabel: true))
        var random = SeededGenerator(seed: 2026)
        var shuffled = dataset.churned!
        shuffled.shuffle(using: &random)
        let (rest, heldOut) = StratifiedSplit.holdOut(shuffled, fraction: 0.3, seed: 4)
        let train = dataset.rows(rest)
        let schema = FeatureSchema.fit(train.customers, derivedHistory: dataset.schema.derivedHistory)
        var options = ForestOptions()
        options.maxFeatures = 8
        let (forest, _) = RandomForest.fit(schema.encode(train.customers), labels: rest.map { shuffled[$0] }, options: options, seed: 1)
        let scores = forest.predict(schema.encode(dataset.customers.rows(heldOut)))
        // Scored against the held-out rows' (shuffled) labels, the task it was trained on. Against
        // the true labels the AUC may stray from 0.5 by chance: features cluster the true classes,
        // so a small chance imbalance of shuffled labels between clusters is learned (scikit-learn
        // does the same).
        let auc = Metrics.rocAUC(heldOut.map { shuffled[$0] }, scores)!
        #expect(abs(auc - 0.5) <= 0.05, "\(auc)")
    }
}

/// The forest on customers' real months: aggregates of each panel column become fields, the
/// answers follow the months and never the label, and explanations name the aggregates.
@Suite("Random forest on a monthly panel")
struct ForestPanelTests {
    private func train(_ fixture: PanelFixture, panel: Bool) throws -> (PluginTrainResult, any LoadedChurnModel) {
        let artifact = fixture.folder + "/forest-\(panel).artifact"
        let result = try RandomForestPlugin().train(
            PluginTrainParams(
                trainPath: fixture.trainPath, validationPath: fixture.validationPath, historyPath: panel ? fixture.historyPath : nil,
                params: ["n_trees": 120], seed: 4, artifactPath: artifact,
                schema: panel ? fixture.schema : BuiltInSchemas.kaggle.canonical.jsonValue),
            progress: .silent)
        return (result, try RandomForestPlugin().load(artifact: try Data(contentsOf: URL(fileURLWithPath: artifact))))
    }

    @Test func panelAggregatesBeatTheDerivedHistoryAndFollowTheMonths() throws {
        let fixture = try PanelFixture(customers: 2500, seed: 31)
        defer { fixture.remove() }
        let (withPanel, panelModel) = try train(fixture, panel: true)
        let (derived, derivedModel) = try train(fixture, panel: false)
        #expect(withPanel.historySource == "panel" && derived.historySource == "derived")
        let labels = fixture.test.churned!
        let records = fixture.testRecords()
        let baseline = try panelModel.predict(records)
        let panelAUC = Metrics.rocAUC(labels, baseline)!
        let derivedAUC = Metrics.rocAUC(labels, try derivedModel.predict(fixture.testRecords(withMonths: false)))!
        #expect(panelAUC >= derivedAUC + 0.05, "panel \(panelAUC) vs derived \(derivedAUC)")
        #expect(panelModel.features.contains("history.dropped_calls.slope") && panelModel.features.contains("history.plan.last=basic"))
        #expect(withPanel.importances.prefix(5).contains { $0.feature.hasPrefix("history.") }, "\(withPanel.importances.prefix(5))")

        let relabelled = records.map { record -> CustomerRecord in
            var record = record
            record["Churn"] = .string("Yes")
            return record
        }
        #expect(try panelModel.predict(relabelled) == baseline, "the label is never read")
        let swapped = records.indices.map { index -> CustomerRecord in
            var record = records[index]
            record.history = records[(index + 7) % records.count].history
            return record
        }
        let moved = zip(try panelModel.predict(swapped), baseline).filter { abs($0 - $1) > 1e-9 }.count
        #expect(moved >= records.count / 2, "\(moved) of \(records.count) answers moved with the months")

        let explained = try panelModel.explain(Array(records.prefix(10)), top: 50)
        #expect(explained.contains { $0.contributions.contains { $0.feature.hasPrefix("history.") } })
    }
}
