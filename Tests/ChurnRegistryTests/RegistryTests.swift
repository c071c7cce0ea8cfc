import ChurnProtocol
import ChurnTestSupport
import Foundation
import Testing

@testable import ChurnRegistry

private func scratch() -> String {
    let folder = NSTemporaryDirectory() + "registry-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

private func registration(_ name: String = "churn", kind: String = "random_forest", notes: String? = nil) -> ModelRegistration {
    ModelRegistration(
        name: name, kind: kind, pluginVersion: "1.0.0", params: ["n_trees": 300], metrics: ["test_roc_auc": 0.84],
        lossCurve: [EpochRecord(epoch: 1, values: ["loss": 0.5])], notes: notes, tags: ["nightly"])
}

private let artifact = Data((0..<100_000).map { UInt8(truncatingIfNeeded: ($0 * 7919) % 251) })

@Suite("Registry")
struct RegistryTests {
    @Test(.disabled(if: TestRegistry.postgresURL == nil, Comment(rawValue: TestRegistry.postgresMissing)))
    func theSharedRegistryTestsRunOnPostgreSQLToo() {
        #expect(TestRegistry.available.contains(.postgres))
    }

    @Test(arguments: TestRegistry.available) func registerResolveAndLoadRoundTrip(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        let first = try await registry.register(registration(notes: "first"), artifact: artifact, user: "alice")
        let second = try await registry.register(registration(), artifact: artifact + Data([1]), user: "bob")
        #expect(first.version == 1 && second.version == 2)
        #expect(first.createdBy == "alice" && first.notes == "first" && first.tags == ["nightly"])
        #expect(first.artifact.rawBytes == artifact.count && first.artifact.compressedBytes < artifact.count)
        #expect(first.artifact.sha256 == artifact.sha256Hex)
        #expect(try await registry.artifact(of: first.ref) == artifact)
        #expect(try await registry.list().map(\.version) == [2, 1])
        #expect(try await registry.resolve(ModelReference(selector: .version(1))).lossCurve?.first?.values["loss"] == 0.5)
    }

    /// A blend and its members are stored together or not at all, and a blend whose member is
    /// gone says which one when exported.
    @Test(arguments: TestRegistry.available) func aBlendAndItsMembersAreRegisteredInOneTransaction(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        let stored = try await storedArtifact(artifact)
        let members = [(registration(), stored), (registration(kind: "lstm"), stored)].map { (registration: $0.0, artifact: $0.1) }
        // The blend's own row fails (a name the registry refuses): neither member is kept.
        await #expect(throws: RegistryError.self) {
            _ = try await registry.registerBlend(
                members: members, blend: { _ in registration("not a name!", kind: "blend") }, artifact: stored, user: "a")
        }
        #expect(try await registry.list().isEmpty, "a failed blend leaves no member behind")
        let registered = try await registry.registerBlend(
            members: members,
            blend: { versions in
                var blend = registration(kind: "blend")
                blend.members = zip(versions, ["random_forest", "lstm"]).map { BlendMember(version: $0, kind: $1, weight: 0.5, sha256: stored.sha256) }
                return blend
            }, artifact: stored, user: "a")
        #expect(registered.members.map(\.version) == [1, 2] && registered.blend.version == 3, "numbers start where the failed run left none")
        #expect(try await registry.resolve(ModelReference(selector: .version(3))).members?.map(\.version) == [1, 2])
        try await registry.delete(registered.members[1].ref, user: "a")
        await #expect {
            _ = try await registry.export(registered.blend.ref)
        } throws: { error in
            "\(error)".contains("its member churn@2 (lstm, weight 0.5) is gone")
        }
    }

    private func storedArtifact(_ bytes: Data) async throws -> ModelRegistry.StoredArtifact {
        let file = scratch() + "/artifact"
        try bytes.write(to: URL(fileURLWithPath: file))
        return try await ModelRegistry.prepareArtifact(file: file)
    }

    /// A version is never both champion and challenger: promoting the challenger clears it.
    @Test(arguments: TestRegistry.available) func promotingTheChallengerClearsTheChallengerAlias(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        for _ in 0..<2 { _ = try await registry.register(registration(), artifact: artifact, user: "a") }
        _ = try await registry.setAlias("champion", of: "churn", to: 1, user: "a")
        _ = try await registry.setAlias("challenger", of: "churn", to: 2, user: "a")
        let promoted = try await registry.setAlias("champion", of: "churn", to: 2, user: "a")
        #expect(promoted == AliasChange(name: "churn", alias: "champion", from: 1, to: 2, cleared: ["challenger"]))
        #expect(try await registry.resolve(.champion()).aliases == ["champion"])
        await #expect(throws: RegistryError.aliasNotSet(name: "churn", alias: "challenger")) {
            _ = try await registry.resolve(ModelReference(selector: .alias("challenger")))
        }
        #expect(try await registry.auditLog().first?.detail?.contains("challenger cleared") == true)
        // Promoting another version leaves a challenger alone.
        _ = try await registry.setAlias("challenger", of: "churn", to: 1, user: "a")
        #expect(try await registry.setAlias("champion", of: "churn", to: 2, user: "a").cleared == nil)
        #expect(try await registry.resolve(ModelReference(selector: .alias("challenger"))).version == 1)
    }

    @Test(arguments: TestRegistry.available) func aliasesMoveAndRollBackThroughTheirHistory(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        for _ in 0..<3 { _ = try await registry.register(registration(), artifact: artifact, user: "a") }
        await #expect(throws: RegistryError.aliasNotSet(name: "churn", alias: "champion")) {
            _ = try await registry.resolve(.champion())
        }
        #expect(try await registry.setAlias("champion", of: "churn", to: 1, user: "a") == AliasChange(name: "churn", alias: "champion", from: nil, to: 1))
        _ = try await registry.setAlias("champion", of: "churn", to: 2, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 3, user: "a", reason: "better")
        #expect(try await registry.resolve(.champion()).version == 3)
        #expect(try await registry.rollbackAlias("champion", of: "churn", user: "b") == AliasChange(name: "churn", alias: "champion", from: 3, to: 2))
        #expect(try await registry.rollbackAlias("champion", of: "churn", user: "b").to == 1, "rollbacks walk further back")
        await #expect(throws: RegistryError.self) { _ = try await registry.rollbackAlias("champion", of: "churn", user: "b") }
        #expect(try await registry.resolve(.champion()).aliases == ["champion"])
        let audit = try await registry.auditLog()
        #expect(audit.map(\.action).prefix(2) == ["rollback", "rollback"])
        #expect(audit.first?.user == "b" && audit.first?.fromVersion == 2 && audit.first?.toVersion == 1)
    }

    @Test(arguments: TestRegistry.available) func deleteIsRefusedWhileAliasedAndNumbersAreNeverReused(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 2, user: "a")
        await #expect(throws: RegistryError.self) { try await registry.delete(ModelRef(name: "churn", version: 2), user: "a") }
        try await registry.delete(ModelRef(name: "churn", version: 1), user: "a")
        _ = try await registry.setAlias("challenger", of: "churn", to: 2, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 2, user: "a")
        let third = try await registry.register(registration(), artifact: artifact, user: "a")
        #expect(third.version == 3)
        await #expect(throws: RegistryError.versionNotFound(reference: "churn@1")) {
            _ = try await registry.artifact(of: ModelRef(name: "churn", version: 1))
        }
    }

    @Test(arguments: TestRegistry.available) func theAuditLogIsAppendOnly(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        await #expect(throws: (any Error).self) { try await registry.rawExecute(#"UPDATE audit_log SET "user" = 'mallory'"#) }
        await #expect(throws: (any Error).self) { try await registry.rawExecute("DELETE FROM audit_log") }
        #expect(try await registry.auditLog().first?.user == "a")
    }

    @Test func aCorruptedArtifactIsRefusedByNameAndNothingElseIsLost() async throws {
        let folder = scratch()
        let registry = try ModelRegistry(path: folder + "/r.sqlite")
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        _ = try await registry.register(registration(), artifact: artifact + Data([9]), user: "a")
        try await registry.rawExecute(
            "UPDATE artifacts SET data = substr(data, 1, 100) || x'00' || substr(data, 102) WHERE version_id = (SELECT id FROM versions WHERE version = 1)")
        await #expect {
            _ = try await registry.artifact(of: ModelRef(name: "churn", version: 1))
        } throws: { error in
            guard case .integrity(let version, _) = error as? RegistryError else { return false }
            return version == "churn@1"
        }
        #expect(try await registry.artifact(of: ModelRef(name: "churn", version: 2)) == artifact + Data([9]))
        let report = try await registry.verify()
        #expect(!report.healthy && report.artifactProblems.count == 1 && report.artifactProblems[0].hasPrefix("churn@1"))
    }

    @Test(arguments: TestRegistry.available) func aWrongRecordedSizeIsCaughtWithoutInflatingMore(backend: TestRegistry) async throws {
        let registry = try ModelRegistry(location: backend.freshLocation())
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        try await registry.rawExecute("UPDATE artifacts SET raw_size = raw_size - 10")
        await #expect(throws: RegistryError.self) { _ = try await registry.artifact(of: ModelRef(name: "churn", version: 1)) }
    }

    @Test func aTruncatedDatabaseFileIsAClearErrorNotACrash() async throws {
        let folder = scratch()
        let path = folder + "/r.sqlite"
        do {
            let registry = try ModelRegistry(path: path)
            for _ in 0..<5 { _ = try await registry.register(registration(), artifact: artifact, user: "a") }
            try await registry.rawExecute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 3)
        try handle.close()
        let outcome = await Result(catching: { () async throws -> Int in
            let registry = try ModelRegistry(path: path)
            _ = try await registry.list()
            return try await registry.artifact(of: ModelRef(name: "churn", version: 5)).count
        })
        switch outcome {
        case .success:
            Issue.record("a truncated registry must not read as healthy")
        case .failure(let error):
            guard case .corrupt(let damaged, _)? = error as? RegistryError else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
            #expect(damaged == path)
            #expect("\(error)".contains("damaged"))
        }
    }

    @Test func aDatabaseFromANewerChurnIsRefused() async throws {
        let folder = scratch()
        let path = folder + "/r.sqlite"
        do {
            let registry = try ModelRegistry(path: path)
            try await registry.rawExecute("PRAGMA user_version = 99")
        }
        #expect(throws: RegistryError.newerSchema(path: path, found: 99, supported: ModelRegistry.schemaVersion)) {
            _ = try ModelRegistry(path: path)
        }
    }

    @Test func anAliasToAMissingVersionIsNamed() async throws {
        let registry = try ModelRegistry(path: ":memory:")
        _ = try await registry.register(registration(), artifact: artifact, user: "a")
        _ = try await registry.setAlias("champion", of: "churn", to: 1, user: "a")
        try await registry.rawExecute("PRAGMA foreign_keys = OFF; DELETE FROM versions WHERE version = 1; PRAGMA foreign_keys = ON")
        await #expect {
            _ = try await registry.resolve(.champion())
        } throws: { error in
            if case .danglingAlias(let name, let alias, _) = error as? RegistryError { return name == "churn" && alias == "champion" }
            return false
        }
        #expect(try await registry.verify().aliasProblems == ["churn@champion names a missing version"])
    }

    @Test(arguments: TestRegistry.available) func exportAndImportCarryEverythingAndCheckTheChecksum(backend: TestRegistry) async throws {
        let source = try ModelRegistry(location: backend.freshLocation())
        let original = try await source.register(registration(notes: "trained on Tuesday"), artifact: artifact, user: "a")
        let file = try await source.export(original.ref)
        let target = try ModelRegistry(location: backend.freshLocation())
        _ = try await target.register(registration(), artifact: Data([1, 2, 3]), user: "b")
        let imported = try await target.importFile(file, file: "churn-1.churnmodel", user: "b")
        #expect(imported.version == 2)
        #expect(imported.artifact.sha256 == original.artifact.sha256 && imported.metrics == original.metrics)
        #expect(imported.notes?.contains("imported from churn-1.churnmodel (was churn@1") == true)
        #expect(try await target.artifact(of: imported.ref) == artifact)
        #expect(try await target.auditLog().first?.action == "import")
        var damaged = file
        damaged[damaged.count - 20] ^= 0xff
        await #expect(throws: RegistryError.self) { _ = try await target.importFile(damaged, file: "bad.churnmodel", user: "b") }
        await #expect(throws: RegistryError.self) { _ = try await target.importFile(Data("hello".utf8), file: "x", user: "b") }
        #expect(try await target.list().count == 2, "failed imports leave nothing behind")
    }
}

@Suite("Registry across processes", .serialized)
struct RegistryProcessTests {
    private var helper: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent + "/churn-registry-helper"
    }

    private func run(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: helper)
        process.arguments = arguments
        process.standardOutput = Pipe()
        try process.run()
        return process
    }

    @Test(arguments: TestRegistry.available) func twoProcessesRegisteringAtOnceGetDistinctNumbers(backend: TestRegistry) async throws {
        let location = try backend.freshLocation()
        let path = location.url
        _ = try ModelRegistry(location: location)
        let first = try run(["register", path, "20", "churn"])
        let second = try run(["register", path, "20", "churn"])
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        let numbers = [first, second].flatMap { process in
            String(decoding: (process.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").compactMap { Int($0) }
        }
        #expect(numbers.count == 40 && Set(numbers) == Set(1...40))
        let registry = try ModelRegistry(location: location)
        #expect(try await registry.list().count == 40)
        #expect(try await registry.verify().healthy)
    }

    @Test func aProcessKilledMidRegistrationLeavesNoHalfVersion() async throws {
        let path = scratch() + "/r.sqlite"
        do {
            let registry = try ModelRegistry(path: path)
            _ = try await registry.register(registration(), artifact: artifact, user: "a")
        }
        let doomed = try run(["die-mid-register", path])
        doomed.waitUntilExit()
        #expect(doomed.terminationReason == .uncaughtSignal && doomed.terminationStatus == SIGKILL)
        let registry = try ModelRegistry(path: path)
        #expect(try await registry.list().map(\.version) == [1], "the killed registration is not visible")
        #expect(try await registry.verify().healthy)
        #expect(try await registry.register(registration(), artifact: artifact, user: "a").version == 2)
    }

    // MARK: Streamed artifacts

    @Test func aTrainedArtifactFileIsStoredStreamedAndWrittenBackStreamedByteForByte() async throws {
        let folder = scratch()
        // Larger than several stream pieces, with an uneven tail.
        let big = Data((0..<(Zlib.chunkSize * 3 + 12_345)).map { UInt8(truncatingIfNeeded: ($0 * 31) % 253 + $0 / 4096) })
        try big.write(to: URL(fileURLWithPath: folder + "/trained.artifact"))
        let stored = try await ModelRegistry.prepareArtifact(file: folder + "/trained.artifact")
        #expect(stored.rawSize == big.count)
        #expect(stored.sha256 == big.sha256Hex)
        let registry = try ModelRegistry(path: folder + "/r.sqlite")
        let version = try await registry.register(registration(), stored: stored, user: "a")
        #expect(version.artifact.sha256 == big.sha256Hex)
        try await registry.writeArtifact(of: version.ref, to: folder + "/cache.artifact")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/cache.artifact")) == big)
        #expect(try await registry.artifact(of: version.ref) == big)
        // An export keeps the stored stream; importing it elsewhere gives the same bytes.
        let exported = try await registry.export(version.ref)
        let other = try ModelRegistry(path: ":memory:")
        let imported = try await other.importFile(exported, file: "x.churnmodel", user: "b")
        #expect(try await other.artifact(of: imported.ref) == big)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".partial") }
        #expect(leftovers.isEmpty)
    }

    @Test func aDamagedArtifactIsNeverWrittenToTheCache() async throws {
        let folder = scratch()
        let registry = try ModelRegistry(path: folder + "/r.sqlite")
        let version = try await registry.register(registration(), artifact: artifact, user: "a")
        try await registry.rawExecute("UPDATE artifacts SET data = substr(data, 1, 100) || x'00' || substr(data, 102)")
        await #expect {
            try await registry.writeArtifact(of: version.ref, to: folder + "/cache.artifact")
        } throws: { error in
            guard case .integrity(let name, _) = error as? RegistryError else { return false }
            return name == "churn@1"
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/cache.artifact"), "no file appears for a damaged artifact")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { !$0.contains(".partial") })
    }

    @Test func aTruncatedOrAlteredExportIsRefusedBeforeAnythingIsStored() async throws {
        let source = try ModelRegistry(path: ":memory:")
        let version = try await source.register(registration(), artifact: artifact, user: "a")
        let exported = try await source.export(version.ref)
        let target = try ModelRegistry(path: ":memory:")
        for (damaged, label) in [(exported.prefix(exported.count - 20), "truncated"), (exported.dropLast(1) + Data([0x55]), "altered")] {
            await #expect(throws: RegistryError.self, "\(label)") {
                _ = try await target.importFile(Data(damaged), file: "bad.churnmodel", user: "b")
            }
        }
        #expect(try await target.list().isEmpty)
    }
}
