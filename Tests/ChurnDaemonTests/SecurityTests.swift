#if canImport(Glibc)
import Glibc
#endif
import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Testing

@testable import ChurnDaemon

/// What a socket client can make churnd do to files and to the registry: paths only under the
/// operator's roots, files otherwise sent as bytes, changing methods only for admins.
@Suite("Security: files and roles", .serialized)
struct SecurityTests {
    /// A file outside every root, which must never be read or written.
    private func outsidePath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("churn-outside-\(UUID().uuidString.prefix(8))-\(name)").path
    }

    @Test func aPathOutsideTheRootsIsRefusedAndNothingIsReadOrWritten() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        let target = outsidePath("export.churnmodel")
        await expectDaemonError(.invalidParams, field: "file", messageContains: "outside churnd's export roots") {
            () async throws(ChurnClientError) in
            try await client.export("champion", to: target, fileOnServer: true)
        }
        #expect(!FileManager.default.fileExists(atPath: target), "nothing was written outside the roots")
        // Reading: /etc/passwd exists and is readable by churnd, and is still refused.
        await expectDaemonError(.invalidParams, field: "data", messageContains: "outside churnd's data roots") {
            () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: "/etc/passwd"), filesOnServer: true)
        }
        await expectDaemonError(.invalidParams, field: "file") { () async throws(ChurnClientError) in
            try await client.importModel(file: "/etc/passwd", fileOnServer: true)
        }
        // `..` is refused even when the result would be inside.
        await expectDaemonError(.invalidParams, field: "data", messageContains: "..") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: harness.root + "/../" + (harness.root as NSString).lastPathComponent + "/train.csv"), filesOnServer: true)
        }
        #expect(try await client.models().count == 1, "nothing was registered")
        await client.close()
        try await harness.stop()
    }

    @Test func aSymlinkUnderARootThatLeadsOutsideIsRefused() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        let link = harness.root + "/innocent.csv"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/passwd")
        await expectDaemonError(.invalidParams, field: "data", messageContains: "symlink") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: link), filesOnServer: true)
        }
        // Nor does an export write through a symlink, even one inside the root.
        let victim = outsidePath("victim")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: harness.root + "/out.churnmodel", withDestinationPath: victim)
        await expectDaemonError(.invalidParams, field: "file", messageContains: "symlink") { () async throws(ChurnClientError) in
            try await client.export("champion", to: harness.root + "/out.churnmodel", overwrite: true, fileOnServer: true)
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me")
        try? FileManager.default.removeItem(atPath: victim)
        await client.close()
        try await harness.stop()
    }

    @Test func anExportNeverReplacesAFileUnlessAsked() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        let client = try await harness.client()
        let onServer = harness.root + "/champion.churnmodel"
        try Data("an older export".utf8).write(to: URL(fileURLWithPath: onServer))
        await expectDaemonError(.conflict, field: "file", messageContains: "overwrite") { () async throws(ChurnClientError) in
            try await client.export("champion", to: onServer, fileOnServer: true)
        }
        #expect(try String(contentsOfFile: onServer, encoding: .utf8) == "an older export")
        let replaced = try await client.export("champion", to: onServer, overwrite: true, fileOnServer: true)
        #expect(replaced.bytes == (try FileManager.default.attributesOfItem(atPath: onServer)[.size] as? Int))

        // Received by the client: the same rule on the client's side, and the bytes are checked.
        let local = harness.root + "/local.churnmodel"
        try Data("mine".utf8).write(to: URL(fileURLWithPath: local))
        do {
            _ = try await client.export("champion", to: local)
            Issue.record("an existing local file must not be replaced without --overwrite")
        } catch {
            guard case .localFile = error else {
                Issue.record("expected a local file error, got \(error)")
                return
            }
        }
        let received = try await client.export("champion", to: local, overwrite: true)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: local))
        #expect(bytes.count == received.bytes)
        #expect(bytes.sha256Hex == received.sha256)
        #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: onServer))), "sent and written exports are the same bytes")
        // And it registers elsewhere from the client's copy.
        let again = try await client.importModel(file: local, name: "copy")
        #expect(again.artifact.sha256 == (try await client.model("champion")).artifact.sha256)
        await client.close()
        try await harness.stop()
    }

    @Test func uploadsAreCheckedPieceByPieceAndByTheirSHA256() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.start()
        let client = try await harness.client()
        let first = try await client.call(
            DaemonMethod.FilesUpload.self, UploadParams(upload: nil, offset: 0, data: Data("customerID,".utf8).base64EncodedString()))
        // A piece that does not start where the last ended is refused.
        await expectDaemonError(.invalidParams, field: "offset") { () async throws(ChurnClientError) in
            try await client.call(
                DaemonMethod.FilesUpload.self, UploadParams(upload: first.upload, offset: 3, data: Data("x".utf8).base64EncodedString()))
        }
        // A last piece whose sha256 is not the file's discards the upload.
        await expectDaemonError(.invalidParams, field: "sha256") { () async throws(ChurnClientError) in
            try await client.call(
                DaemonMethod.FilesUpload.self,
                UploadParams(upload: first.upload, offset: first.received, data: Data("tenure\n".utf8).base64EncodedString(), last: true, sha256: String(repeating: "0", count: 64)))
        }
        await expectDaemonError(.invalidParams, field: "upload") { () async throws(ChurnClientError) in
            try await client.call(
                DaemonMethod.FilesUpload.self, UploadParams(upload: first.upload, offset: first.received, data: ""))
        }
        // Naming an upload that never finished is refused by training.
        await expectDaemonError(.invalidParams, field: "data", messageContains: "not a finished upload") { () async throws(ChurnClientError) in
            try await client.train(TrainParams(kind: "echo", data: "upload:" + first.upload))
        }
        await expectDaemonError(.invalidParams, field: "data") { () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.FilesUpload.self, UploadParams(upload: nil, offset: 0, data: "not base64!"))
        }
        await client.close()
        try await harness.stop()
    }

    @Test func aNonAdminCanReadButNotChangeAndTheRefusalIsAudited() async throws {
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        try await harness.stopKeepingState()
        // The same registry, now with nobody (not even this test's user) an admin.
        var configuration = harness.configuration
        configuration.access = AccessPolicy(adminUsers: [], adminGroups: [])
        try await harness.start(configuration: configuration)
        let client = try await harness.client()
        #expect(try await client.predict([testCustomer("reader")]).count == 1, "reading needs no role")
        #expect(try await client.health().status == "ok")
        #expect(try await client.models().count == 1)
        await expectDaemonError(.permissionDenied, messageContains: "models.promote needs the admin role") { () async throws(ChurnClientError) in
            try await client.promote("1")
        }
        await expectDaemonError(.permissionDenied) { () async throws(ChurnClientError) in try await client.delete("1") }
        await expectDaemonError(.permissionDenied) { () async throws(ChurnClientError) in try await client.verify() }
        await expectDaemonError(.permissionDenied) { () async throws(ChurnClientError) in
            try await client.call(DaemonMethod.FilesUpload.self, UploadParams(upload: nil, offset: 0, data: ""))
        }
        // Refusals are written to the log just after they are answered.
        try await DaemonHarness.waitUntil { try await client.audit().filter { $0.action == .refused }.count >= 4 }
        let refusals = try await client.audit().filter { $0.action == .refused }
        #expect(refusals.count == 4)
        #expect(refusals.contains { $0.detail?.contains("uid \(getuid()) called models.promote") == true })
        await client.close()
        try await harness.stop()
    }

    @Test func theAdminRoleComesFromUsersAndGroups() {
        let policy = AccessPolicy(adminUsers: [1000], adminGroups: [4242])
        let admin = PeerCredentials(pid: 1, uid: 1000, gid: 1000)
        let inGroup = PeerCredentials(pid: 1, uid: 2000, gid: 4242)
        let other = PeerCredentials(pid: 1, uid: 3000, gid: 3000)
        for method in AccessPolicy.readMethods { #expect(policy.refusal(of: method, by: other) == nil, "\(method) is a read method") }
        for method in ["models.train", "models.promote", "models.rollback", "models.delete", "models.register", "models.export",
                       "experiments.start", "experiments.stop", "feedback", "history.append", "files.upload", "some.future.method"] {
            #expect(policy.refusal(of: method, by: admin) == nil)
            #expect(policy.refusal(of: method, by: inGroup) == nil, "a member of an admin group is an admin")
            #expect(policy.refusal(of: method, by: other)?.code == RPCErrorCode.permissionDenied.rawValue, "\(method)")
            #expect(policy.refusal(of: method, by: nil) != nil, "an unknown peer is not an admin")
        }
    }

    /// A second Unix user, created for the test, reaches the socket through its group: it can
    /// predict but not promote. Needs root (to create the user); skipped otherwise.
    @Test func aSecondUnixUserCanPredictButNotPromote() async throws {
        guard getuid() == 0 else {
            print("skipped: creating a second Unix user needs root (run the suite as root, as CI does)")
            return
        }
        let user = "churn-test-reader"
        if AccessPolicy.userID(user) == nil {
            let add = Process()
            add.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            add.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]
            try add.run()
            add.waitUntilExit()
            try #require(add.terminationStatus == 0, "useradd \(user) failed")
        }
        let harness = try DaemonHarness(kinds: ["echo"])
        try await harness.startWithChampion()
        // Let the other user reach the socket (an operator does this with a group).
        chmod(harness.root, 0o755)
        chmod(harness.socketPath, 0o666)
        let churn = DaemonHarness.productsDirectory + "/churn"
        func asReader(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", churn] + arguments + ["--socket", harness.socketPath]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        let status = try asReader(["health"])
        #expect(status.status == 0, "the reader sees health: \(status.output)")
        let promote = try asReader(["promote", "1"])
        #expect(promote.status != 0)
        #expect(promote.output.contains("needs the admin role"), "\(promote.output)")
        let client = try await harness.client()
        try await DaemonHarness.waitUntil { try await client.audit().contains { $0.action == .refused } }
        let refusal = try #require(try await client.audit().first { $0.action == .refused })
        #expect(refusal.user == user)
        #expect(refusal.detail?.contains("models.promote") == true)
        await client.close()
        try await harness.stop()
    }
}
