import ChurnClient
import ChurnProtocol
import ChurnRPC
import Foundation
import Synchronization
import Testing

/// Files go to churnd and come back in pieces sized by its frame limit, checked by sha256 at the
/// far end.
@Suite("Client file transfers", .timeLimit(.minutes(1)))
struct ClientFileTransferTests {
    /// The frame limit the fake daemon announces: pieces of (2048 - 1024) / 4 * 3 = 768 bytes.
    static let maxFrameBytes = 2048
    static let piece = 768

    /// The fake daemon's side of uploads and downloads.
    final class Files: Sendable {
        struct Upload: Sendable {
            var bytes = Data()
            var pieces: [UploadParams] = []
        }
        let uploads = Mutex<[String: Upload]>([:])
        /// What each download offers, and the sha256 it announces (a wrong one for a damaged file).
        let offered: [String: (bytes: Data, sha256: String)]
        let downloadRequests = Recorder<DownloadParams>()
        let train = Recorder<TrainParams>()

        init(offered: [String: (bytes: Data, sha256: String)] = [:]) {
            self.offered = offered
        }

        func upload(_ id: String) -> Upload? { uploads.withLock { $0[id] } }
    }

    static func methods(_ files: Files) -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register(DaemonMethod.Health.self) { _, _ in fakeHealth(maxFrameBytes: maxFrameBytes) }
        table.register(DaemonMethod.FilesUpload.self) { params, _ in
            guard let piece = Data(base64Encoded: params.data) else { throw RPCError.invalidParams(field: "data", "not base64") }
            return try files.uploads.withLock { uploads throws(RPCError) -> UploadResult in
                let id = params.upload ?? "u\(uploads.count + 1)"
                guard var upload = params.upload == nil ? Files.Upload() : uploads[id] else {
                    throw RPCError(.modelNotFound, "no upload \(id)")
                }
                guard params.offset == upload.bytes.count else {
                    throw RPCError.invalidParams(field: "offset", "expected \(upload.bytes.count), got \(params.offset)")
                }
                upload.bytes.append(piece)
                upload.pieces.append(params)
                uploads[id] = upload
                guard params.last == true else { return UploadResult(upload: id, received: upload.bytes.count) }
                guard params.sha256 == sha256Hex(upload.bytes) else {
                    throw RPCError(.integrityFailure, "upload \(id) arrived damaged")
                }
                return UploadResult(upload: id, received: upload.bytes.count, file: "upload:\(id)")
            }
        }
        table.register(DaemonMethod.FilesDownload.self) { params, _ in
            files.downloadRequests.append(params)
            guard let (bytes, sha256) = files.offered[params.download].map({ ($0.bytes, $0.sha256) }) else {
                throw RPCError(.modelNotFound, "no download \(params.download)")
            }
            let end = min(bytes.count, params.offset + (params.length ?? 4 << 20))
            return DownloadResult(
                download: params.download, offset: params.offset, data: bytes[params.offset..<end].base64EncodedString(),
                bytes: bytes.count, sha256: sha256, last: end == bytes.count)
        }
        table.register(DaemonMethod.ModelsTrain.self) { params, _ in
            files.train.append(params)
            return fakeVersion(version: 6)
        }
        return table
    }

    /// A scratch folder, removed after `body`.
    static func withFolder(_ body: (String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("churn-client-files-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await body(folder)
    }

    /// `count` bytes that differ from piece to piece.
    static func content(_ count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) })
    }

    @Test(arguments: [2000, 1536, 0])
    func anUploadGoesInPiecesSizedByTheFrameLimitWithTheChecksumOnTheLast(size: Int) async throws {
        let files = Files()
        try await Self.withFolder { folder in
            let path = folder + "/customers.csv"
            let bytes = Self.content(size)
            try bytes.write(to: URL(fileURLWithPath: path))
            try await withDaemon(Self.methods(files)) { _, client in
                let name = try await client.upload(file: path)
                #expect(name == "upload:u1")
                let upload = try #require(files.upload("u1"))
                #expect(upload.bytes == bytes)
                // Full pieces, then the rest (empty when the size is a multiple of a piece): the
                // short piece is the last.
                let sizes = Array(repeating: Self.piece, count: size / Self.piece) + [size % Self.piece]
                #expect(upload.pieces.map { Data(base64Encoded: $0.data)?.count } == sizes)
                #expect(upload.pieces.map(\.offset) == sizes.indices.map { $0 * Self.piece })
                #expect(upload.pieces.map(\.last) == sizes.indices.map { $0 == sizes.count - 1 })
                #expect(upload.pieces.map(\.upload) == sizes.indices.map { $0 == 0 ? nil : "u1" })
                #expect(upload.pieces.map(\.name) == sizes.indices.map { $0 == 0 ? path : nil })
                #expect(upload.pieces.map(\.sha256) == sizes.indices.map { $0 == sizes.count - 1 ? sha256Hex(bytes) : nil })
            }
        }
    }

    @Test func aMissingLocalFileIsNamedAndNothingIsSent() async throws {
        let files = Files()
        try await withDaemon(Self.methods(files)) { _, client in
            let path = "/nonexistent-\(UUID().uuidString.prefix(8))/customers.csv"
            let error = await failure { try await client.upload(file: path) }
            guard case .localFile(let named, let reason)? = error else {
                Issue.record("expected .localFile, got \(String(describing: error))")
                return
            }
            #expect(named == path)
            #expect(reason == "no such file")
            #expect(error?.description == "\(path): no such file")
            #expect(files.uploads.withLock { $0.isEmpty })
        }
    }

    @Test func aNameThatAlreadyNamesAnUploadIsNotSentAgain() async throws {
        let files = Files()
        try await withDaemon(Self.methods(files)) { _, client in
            let name = try await client.upload(file: "upload:u7")
            #expect(name == "upload:u7")
            #expect(files.uploads.withLock { $0.isEmpty })
        }
    }

    @Test func trainSendsTheLocalFilesFirstAndNamesTheUploads() async throws {
        let files = Files()
        try await Self.withFolder { folder in
            let data = folder + "/train.csv"
            let history = folder + "/panel.csv"
            try Self.content(1000).write(to: URL(fileURLWithPath: data))
            try Self.content(10).write(to: URL(fileURLWithPath: history))
            try await withDaemon(Self.methods(files)) { _, client in
                let version = try await client.train(TrainParams(kind: "echo", data: data, history: history))
                #expect(version.version == 6)
                let sent = try #require(files.train.all.first)
                #expect(sent.data == "upload:u1")
                #expect(sent.history == "upload:u2")
                #expect(files.upload("u1")?.bytes == Self.content(1000))
                #expect(files.upload("u2")?.bytes == Self.content(10))
            }
        }
    }

    @Test func aDownloadArrivesInPiecesAndIsWrittenWhole() async throws {
        let bytes = Self.content(2000)
        let files = Files(offered: ["d1": (bytes, sha256Hex(bytes))])
        try await Self.withFolder { folder in
            let path = folder + "/export.churn"
            try await withDaemon(Self.methods(files)) { _, client in
                let written = try await client.download("d1", to: path)
                #expect(written == 2000)
                #expect(FileManager.default.contents(atPath: path) == bytes)
                #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
                #expect(files.downloadRequests.all.map(\.offset) == [0, 768, 1536])
                #expect(files.downloadRequests.all.map(\.length) == [768, 768, 768])
            }
        }
    }

    @Test func aDamagedDownloadIsRefusedAndLeavesTheOldFileAlone() async throws {
        let bytes = Self.content(1000)
        let files = Files(offered: ["d-bad": (bytes, sha256Hex(Data("something else".utf8)))])
        try await Self.withFolder { folder in
            let path = folder + "/export.churn"
            try Data("the previous export".utf8).write(to: URL(fileURLWithPath: path))
            try await withDaemon(Self.methods(files)) { _, client in
                let error = await failure { try await client.download("d-bad", to: path) }
                guard case .transport(let detail)? = error else {
                    Issue.record("expected .transport, got \(String(describing: error))")
                    return
                }
                #expect(detail == "the download d-bad arrived damaged (1000 bytes, sha256 \(sha256Hex(bytes))); nothing was written")
                #expect(FileManager.default.contents(atPath: path) == Data("the previous export".utf8))
                #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
            }
        }
    }

    @Test func aDownloadTheDaemonDoesNotOfferIsItsErrorAndLeavesNoPartialFile() async throws {
        try await Self.withFolder { folder in
            let path = folder + "/export.churn"
            try await withDaemon(Self.methods(Files())) { _, client in
                let error = await failure { try await client.download("d-none", to: path) }
                #expect(error?.rpcError?.code == -32010)
                #expect(error?.rpcError?.message == "no download d-none")
                #expect(!FileManager.default.fileExists(atPath: path))
                #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
            }
        }
    }
}
