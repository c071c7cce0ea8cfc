import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnRegistry

@Suite("History store")
struct HistoryStoreTests {
    private let folder = NSTemporaryDirectory() + "history-\(UUID().uuidString)"
    private var path: String { folder + "/registry.sqlite" }

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    private func month(_ customer: String, _ period: Int, calls: Double, plan: String = "basic") -> StoredMonth {
        StoredMonth(customerID: customer, period: period, values: ["calls": .number(calls), "plan": .string(plan)])
    }

    @Test(arguments: TestRegistry.available) func monthsAreAppendedCorrectedAndKeptAcrossRestarts(backend: TestRegistry) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let location = try backend.freshLocation()
        _ = try ModelRegistry(location: location)  // the daemon opens the registry first
        let store = try HistoryStore(location: location)
        let first = try store.upsert(model: "churn", months: [month("a", 3, calls: 1), month("a", 1, calls: 0), month("b", 2, calls: 5)])
        #expect(first == HistoryUpsert(appended: 3))
        // The same months again change nothing; a correction replaces only its month.
        #expect(try store.upsert(model: "churn", months: [month("a", 1, calls: 0)]) == HistoryUpsert(unchanged: 1))
        #expect(try store.upsert(model: "churn", months: [month("a", 3, calls: 4), month("a", 4, calls: 2)]) == HistoryUpsert(appended: 1, replaced: 1))
        // Another model's months are its own.
        _ = try store.upsert(model: "prepaid", months: [month("a", 1, calls: 9, plan: "plus")])

        let reopened = try HistoryStore(location: location)
        let stored = try reopened.months(model: "churn", customers: ["a", "b", "nobody", "a"])
        #expect(stored["a"]?.map(\.period) == [1, 3, 4], "oldest first, a gap kept as a gap")
        #expect(stored["a"]?[1].values["calls"] == .number(4), "the correction")
        #expect(stored["b"] == [month("b", 2, calls: 5)])
        #expect(stored["nobody"] == nil)
        #expect(try reopened.months(model: "prepaid", customers: ["a"])["a"]?.first?.values["plan"] == .string("plus"))
        #expect(try reopened.count(model: "churn") == (customers: 2, months: 4))
    }

    @Test(arguments: TestRegistry.available) func aLookupOfManyCustomersGoesInChunks(backend: TestRegistry) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let location = try backend.freshLocation()
        let store = try HistoryStore(location: location)
        let months = (0..<1_300).flatMap { customer in (1...3).map { month("c\(customer)", $0, calls: Double(customer)) } }
        #expect(try store.upsert(model: "churn", months: months).appended == 3_900)
        let stored = try store.months(model: "churn", customers: (0..<1_300).map { "c\($0)" })
        #expect(stored.count == 1_300 && stored.values.allSatisfy { $0.count == 3 })
        #expect(stored["c1234"]?.last?.values["calls"] == .number(1234))
    }

    @Test(arguments: TestRegistry.available) func twoDaemonsOnOneRegistryShareTheStoreAndLoseNothing(backend: TestRegistry) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let location = try backend.freshLocation()
        _ = try ModelRegistry(location: location)
        let first = try HistoryStore(location: location)
        let second = try HistoryStore(location: location)
        // Both write at once, each its own customers plus a month they both correct.
        async let a: HistoryUpsert = Task.detached {
            var total = HistoryUpsert()
            for batch in 0..<20 {
                let stored = try first.upsert(model: "churn", months: (0..<50).map { month("a\(batch)-\($0)", 1, calls: 1) } + [month("shared", 1, calls: Double(batch))])
                total.appended += stored.appended
            }
            return total
        }.value
        async let b: HistoryUpsert = Task.detached {
            var total = HistoryUpsert()
            for batch in 0..<20 {
                let stored = try second.upsert(model: "churn", months: (0..<50).map { month("b\(batch)-\($0)", 1, calls: 2) } + [month("shared", 1, calls: Double(100 + batch))])
                total.appended += stored.appended
            }
            return total
        }.value
        let (fromFirst, fromSecond) = try await (a, b)
        #expect(fromFirst.appended + fromSecond.appended == 2_001, "every customer's month once, the shared month once")
        // Restarted, each sees everything either wrote.
        let reopened = try HistoryStore(location: location)
        #expect(try reopened.count(model: "churn") == (customers: 2_001, months: 2_001))
        let shared = try reopened.months(model: "churn", customers: ["shared"])["shared"]!
        #expect(shared.count == 1 && [19.0, 119.0].contains { shared[0].values["calls"] == .number($0) }, "the last write wins")
    }

    @Test func anInMemoryStoreHasItsOwnSchema() throws {
        let store = try HistoryStore(path: ":memory:")
        #expect(try store.upsert(model: "churn", months: [month("a", 1, calls: 1)]).appended == 1)
        #expect(try store.count(model: "churn") == (customers: 1, months: 1))
    }
}
