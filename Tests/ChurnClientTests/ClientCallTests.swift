import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Synchronization
import Testing

/// The typed client against an in-process server: what the daemon answers arrives typed, its
/// errors arrive as ``ChurnClientError/daemon(_:)`` with everything they carried.
@Suite("Client calls", .timeLimit(.minutes(1)))
struct ClientCallTests {
    /// What the fake daemon's handlers were given.
    final class Seen: Sendable {
        let predict = Recorder<PredictParams>()
        let batches = Recorder<PredictBatchParams>()
        let explain = Recorder<ExplainParams>()
        let train = Recorder<TrainParams>()
    }

    /// `predict` scores tenure / 100 and answers with the version the request names
    /// (`churn@N`, else the champion churn@3); `models.get` knows no version; `models.train`
    /// reports three epochs before it answers.
    static func methods(_ seen: Seen, releasePredict: Latch? = nil, arrivals: Recorder<String>? = nil, expected: Int = 0)
        -> RPCMethodTable
    {
        var table = RPCMethodTable()
        table.register(DaemonMethod.Health.self) { _, _ in fakeHealth(maxFrameBytes: 1 << 20) }
        table.register(DaemonMethod.PluginsList.self) { _, _ in
            PluginsListResult(plugins: [
                PluginStatus(
                    kind: "echo", executable: "/usr/libexec/churn/churn-plugin-echo", state: .ready, pid: 77,
                    description: PluginDescription(kind: "echo", pluginVersion: "0.0.1", capabilities: ["predict"], summary: "echo"),
                    restarts: 1, lastError: "exited with status 9")
            ])
        }
        table.register(DaemonMethod.Predict.self) { params, _ in
            seen.predict.append(params)
            if let arrivals, let model = params.model {
                arrivals.append(model)
                if arrivals.all.count == expected { releasePredict?.open() }
                // The first request answers last: responses come back out of order.
                if model == "churn@0" { await releasePredict?.wait() }
            }
            let version = params.model.flatMap { $0.split(separator: "@").last.flatMap { Int($0) } } ?? 3
            return PredictResult(
                predictions: try params.customers.map { customer in
                    guard case .number(let tenure)? = customer["tenure"] else {
                        throw RPCError.invalidParams(field: "customers[0].tenure", "required field is missing")
                    }
                    return Prediction(
                        customerID: customer["customerID"]?.text ?? "?", churnProbability: tenure / 100, churn: tenure >= 50,
                        model: ModelRef(name: "churn", version: version), arm: params.model == nil ? .champion : .direct)
                })
        }
        table.register(DaemonMethod.PredictBatch.self) { params, _ in
            seen.batches.append(params)
            let tenure = params.batch.column("tenure")
            return PredictBatchResult(
                probabilities: (0..<params.batch.rows).map { row in
                    if case .number(let months)? = tenure?[row] { return months / 100 }
                    return 0
                },
                models: [
                    BatchAnswerer(model: ModelRef(name: "churn", version: 3), arm: .champion),
                    BatchAnswerer(model: ModelRef(name: "churn", version: 4), arm: .challenger),
                ],
                answeredBy: (0..<params.batch.rows).map { $0 % 2 }, history: .noMonths)
        }
        table.register(DaemonMethod.Explain.self) { params, _ in
            seen.explain.append(params)
            let all = [
                Contribution(feature: "Contract", value: "Month-to-month", contribution: 0.21),
                Contribution(feature: "tenure", value: 2, contribution: 0.12),
                Contribution(feature: "MonthlyCharges", value: 99.5, contribution: 0.03),
            ]
            return ExplainResult(
                explanations: params.customers.map { customer in
                    CustomerExplanation(
                        customerID: customer["customerID"]?.text ?? "?", model: ModelRef(name: "churn", version: 3), arm: .champion,
                        explanation: ModelExplanation(churnProbability: 0.62, bias: 0.26, contributions: Array(all.prefix(params.top ?? 10))))
                })
        }
        table.register(DaemonMethod.ModelsGet.self) { params, _ in
            throw RPCError(
                .modelNotFound, "no version \(params.model): churn models lists the registered ones",
                data: ["model": .string(params.model), "known": [1, 2, 3]])
        }
        table.register(DaemonMethod.ModelsTrain.self) { params, context in
            seen.train.append(params)
            for step in 1...3 {
                await context.progress(
                    stage: "epoch", step: step, total: 3, message: "epoch \(step) of 3", metrics: ["loss": 1 / Double(step)])
            }
            await context.progress(stage: "register", step: 1, message: "registered churn@5")
            return fakeVersion(version: 5, params: params.params ?? [:])
        }
        return table
    }

    @Test func healthArrivesTyped() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let health = try await client.health()
            #expect(health == fakeHealth(maxFrameBytes: 1 << 20))
            #expect(health.champion?.description == "churn@3")
            #expect(health.protocolVersion == ChurnProtocolVersion.current)
        }
    }

    @Test func pluginsArriveTyped() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let plugins = try await client.plugins()
            #expect(plugins.count == 1)
            #expect(plugins.first?.kind == "echo")
            #expect(plugins.first?.state == .ready)
            #expect(plugins.first?.pid == 77)
            #expect(plugins.first?.description?.capabilities == ["predict"])
            #expect(plugins.first?.lastError == "exited with status 9")
        }
    }

    @Test func predictSendsTheCustomersAndTheModelAndReturnsTypedPredictions() async throws {
        let seen = Seen()
        try await withDaemon(Self.methods(seen)) { _, client in
            let customers: [CustomerRecord] = [
                ["customerID": "A-1", "tenure": 12, "Contract": "Month-to-month", "Senior": false, "TotalCharges": nil],
                ["customerID": "B-2", "tenure": 60, "Contract": "Two year", "Senior": true, "TotalCharges": 4012.5],
            ]
            let predictions = try await client.predict(customers, model: "churn@4", log: false)
            #expect(
                predictions == [
                    Prediction(
                        customerID: "A-1", churnProbability: 0.12, churn: false, model: ModelRef(name: "churn", version: 4), arm: .direct),
                    Prediction(
                        customerID: "B-2", churnProbability: 0.6, churn: true, model: ModelRef(name: "churn", version: 4), arm: .direct),
                ])
            let sent = try #require(seen.predict.all.first)
            #expect(sent.customers == customers)
            #expect(sent.model == "churn@4")
            #expect(sent.log == false)

            let champion = try await client.predict([["customerID": "C-3", "tenure": 1]])
            #expect(champion.first?.model == ModelRef(name: "churn", version: 3))
            #expect(champion.first?.arm == .champion)
            #expect(seen.predict.all.last?.model == nil)
            #expect(seen.predict.all.last?.log == nil)
        }
    }

    @Test func predictBatchSendsTheColumnsAndReturnsWhoAnsweredEachCustomer() async throws {
        let seen = Seen()
        try await withDaemon(Self.methods(seen)) { _, client in
            let batch = try CustomerBatch(
                rows: 3, fields: ["customerID", "tenure", "Contract"],
                columns: [
                    .strings(["A", "B", "C"]), .numbers([1, 34, 70]),
                    .dictionary(values: ["Month-to-month", "Two year"], codes: [0, 1, 1]),
                ])
            let result = try await client.predictBatch(batch, model: "churn", log: false)
            let expected: [Double] = [1.0 / 100, 34.0 / 100, 70.0 / 100]
            #expect(result.probabilities == expected)
            #expect(result.answerer(of: 0) == BatchAnswerer(model: ModelRef(name: "churn", version: 3), arm: .champion))
            #expect(result.answerer(of: 1) == BatchAnswerer(model: ModelRef(name: "churn", version: 4), arm: .challenger))
            #expect(result.answeredBy == [0, 1, 0])
            #expect(result.historySource(of: 2) == .noMonths)
            let sent = try #require(seen.batches.all.first)
            #expect(sent.batch.fields == batch.fields)
            #expect(sent.batch.records == batch.records)
            #expect(sent.model == "churn")
            #expect(sent.log == false)
        }
    }

    @Test func explainPassesTopAndReturnsTypedReasons() async throws {
        let seen = Seen()
        try await withDaemon(Self.methods(seen)) { _, client in
            let explained = try await client.explain([["customerID": "A-1", "tenure": 2]], model: "champion", top: 2)
            #expect(explained.count == 1)
            #expect(explained.first?.customerID == "A-1")
            #expect(explained.first?.explanation.churnProbability == 0.62)
            #expect(explained.first?.explanation.bias == 0.26)
            #expect(explained.first?.explanation.contributions.map(\.feature) == ["Contract", "tenure"])
            #expect(explained.first?.explanation.contributions.first?.value == "Month-to-month")
            #expect(seen.explain.all.map(\.top) == [2])
            #expect(seen.explain.all.first?.model == "champion")

            _ = try await client.explain([["customerID": "A-1", "tenure": 2]])
            #expect(seen.explain.all.map(\.top) == [2, nil])
        }
    }

    @Test func aDaemonErrorArrivesTypedWithItsCodeMessageAndData() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let error = try #require(await failure { try await client.model("churn@9") })
            guard case .daemon(let rpc) = error else {
                Issue.record("expected .daemon, got \(error)")
                return
            }
            #expect(rpc.code == -32010)
            #expect(rpc.knownCode == .modelNotFound)
            #expect(rpc.message == "no version churn@9: churn models lists the registered ones")
            #expect(rpc.data == ["model": "churn@9", "known": [1, 2, 3]])
            #expect(error.rpcError == rpc)
            #expect(error.description == "no version churn@9: churn models lists the registered ones")
        }
    }

    @Test func invalidParamsNameTheFieldInTheErrorData() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let error = try #require(await failure { try await client.predict([["customerID": "A-1"]]) })
            #expect(error.rpcError?.code == -32602)
            #expect(error.rpcError?.message == "invalid params: customers[0].tenure: required field is missing")
            #expect(error.rpcError?.data == ["field": "customers[0].tenure", "reason": "required field is missing"])
        }
    }

    @Test func aMethodTheDaemonDoesNotServeIsMethodNotFound() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let error = try #require(await failure { try await client.verify() })
            #expect(error.rpcError?.code == -32601)
            #expect(error.rpcError?.message == #"unknown method "models.verify""#)
            #expect(error.rpcError?.data == ["method": "models.verify"])
        }
    }

    @Test func trainDeliversEveryProgressStepBeforeItsResult() async throws {
        let seen = Seen()
        try await withDaemon(Self.methods(seen)) { _, client in
            let progress = Recorder<ProgressUpdate>()
            let version = try await client.train(
                TrainParams(kind: "echo", data: "/srv/churn/train.csv", params: ["smoothing": 2]), filesOnServer: true,
                onProgress: { progress.append($0) })
            #expect(version == fakeVersion(version: 5, params: ["smoothing": 2]))
            // With files on the server, the path goes as it is: nothing is uploaded.
            #expect(seen.train.all.map(\.data) == ["/srv/churn/train.csv"])
            let updates = progress.all
            #expect(updates.map(\.stage) == ["epoch", "epoch", "epoch", "register"])
            #expect(updates.map(\.step) == [1, 2, 3, 1])
            #expect(updates.map(\.total) == [3, 3, 3, nil])
            #expect(updates.map(\.message) == ["epoch 1 of 3", "epoch 2 of 3", "epoch 3 of 3", "registered churn@5"])
            let metrics: [[String: Double]?] = [["loss": 1], ["loss": 0.5], ["loss": 1.0 / 3], nil]
            #expect(updates.map(\.metrics) == metrics)
            #expect(Set(updates.map(\.request)).count == 1, "every step names the one request")
        }
    }

    @Test func progressOfOneCallNeverReachesAnother() async throws {
        try await withDaemon(Self.methods(Seen())) { _, client in
            let first = Recorder<ProgressUpdate>()
            let second = Recorder<ProgressUpdate>()
            async let one = client.train(
                TrainParams(kind: "echo", data: "/a.csv"), filesOnServer: true, onProgress: { first.append($0) })
            async let two = client.train(
                TrainParams(kind: "echo", data: "/b.csv"), filesOnServer: true, onProgress: { second.append($0) })
            _ = try await (one, two)
            #expect(first.all.count == 4)
            #expect(second.all.count == 4)
            let firstIDs = Set(first.all.map(\.request))
            let secondIDs = Set(second.all.map(\.request))
            #expect(firstIDs.count == 1 && secondIDs.count == 1 && firstIDs != secondIDs)
        }
    }

    @Test func concurrentCallsAnsweredOutOfOrderEachGetTheirOwnAnswer() async throws {
        let count = 24
        let release = Latch()
        let arrivals = Recorder<String>()
        try await withDaemon(Self.methods(Seen(), releasePredict: release, arrivals: arrivals, expected: count)) { _, client in
            let versions = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for index in 0..<count {
                    group.addTask {
                        let answer = try await client.predict([["customerID": .string("C\(index)"), "tenure": .number(Double(index))]], model: "churn@\(index)")
                        return (index, answer.first?.model.version ?? -1)
                    }
                }
                var versions: [Int: Int] = [:]
                for try await (index, version) in group { versions[index] = version }
                return versions
            }
            #expect(versions.count == count)
            #expect(versions.allSatisfy { $0.key == $0.value }, "\(versions.sorted { $0.key < $1.key })")
            #expect(arrivals.all.count == count)
        }
    }
}
