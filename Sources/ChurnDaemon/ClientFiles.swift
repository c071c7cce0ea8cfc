#if canImport(Glibc)
import Glibc
#endif
import ChurnProtocol
import ChurnRPC
import ChurnRegistry
import Crypto
import Foundation
import Synchronization

/// Files that requests name, and files clients send or receive.
///
/// churnd runs with its own rights, often more than its clients': it never opens a path a
/// client chose unless the operator allowed that folder. By default clients send a file's bytes
/// (`files.upload`, in pieces, checked by size and sha256) and name it `upload:<id>`; exports
/// are offered for download (`files.download`). A daemon-side path is accepted only under a
/// configured root (`--data-root` to read, `--export-root` to write), with `..` refused and
/// symlinks followed before the check; an export never replaces a file unless asked.
final class ClientFiles: Sendable {
    /// How a request names an upload.
    static let uploadPrefix = "upload:"
    /// The largest file one upload may hold.
    static let maximumUpload = 4 << 30
    /// The largest piece of one `files.upload` or `files.download` call (decoded).
    static let maximumPiece = 4 << 20
    /// Uploads and downloads untouched this long are deleted.
    static let expiry: TimeInterval = 24 * 3600

    /// Where uploads and offered downloads live (mode 0700).
    let folder: String
    let dataRoots: [String]
    let exportRoots: [String]

    private final class Upload: Sendable {
        let path: String
        /// The file's name on the client, for messages.
        let name: String
        /// Bytes received and the hash of them, in order.
        let state = Mutex<(received: Int, hasher: SHA256, complete: Bool)>((0, SHA256(), false))

        init(path: String, name: String) {
            self.path = path
            self.name = name
        }
    }

    private struct Download: Sendable {
        let path: String
        let bytes: Int
        let sha256: String
    }

    private let uploads = Mutex<[String: Upload]>([:])
    private let downloads = Mutex<[String: Download]>([:])

    init(folder: String, dataRoots: [String], exportRoots: [String]) throws {
        self.folder = folder
        self.dataRoots = dataRoots
        self.exportRoots = exportRoots
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RPCError(.fileError, "cannot create the transfer folder \(folder): \(error.localizedDescription)")
        }
        removeExpired()
    }

    // MARK: Roots

    /// A configured root as churnd checks paths against it: absolute, symlinks resolved, a folder.
    static func root(_ path: String, flag: String) throws -> String {
        guard let resolved = realPath(ChurnLocations.absolute(path)) else {
            throw DaemonSettingsError(description: "\(flag) \(path) does not exist")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder), isFolder.boolValue else {
            throw DaemonSettingsError(description: "\(flag) \(path) is not a folder")
        }
        return resolved
    }

    /// The file `value` names for churnd to read: a finished upload, or a path under a data root.
    func readable(_ value: String, field: String) throws -> String {
        if value.hasPrefix(Self.uploadPrefix) {
            let id = String(value.dropFirst(Self.uploadPrefix.count))
            guard let upload = uploads.withLock({ $0[id] }), upload.state.withLock({ $0.complete }) else {
                throw RPCError.invalidParams(
                    field: field, "\(value) is not a finished upload of this churnd (send the file with files.upload first)")
            }
            return upload.path
        }
        let path = try checked(value, field: field, roots: dataRoots, rootFlag: "--data-root", verb: "read")
        guard let resolved = Self.realPath(path) else {
            throw RPCError(.fileError, "cannot read \(value): it does not exist", data: ["field": .string(field), "path": .string(value)])
        }
        guard Self.isUnder(resolved, dataRoots) else {
            throw RPCError.invalidParams(
                field: field, "\(value) leads outside churnd's data roots (through a symlink): churnd reads only under \(dataRoots.joined(separator: ", "))")
        }
        return resolved
    }

    /// Where `models.export` may write `value`: under an export root (its folder resolved), not an
    /// existing file unless `overwrite`, never through a symlink.
    func writable(_ value: String, field: String, overwrite: Bool) throws -> String {
        let path = try checked(value, field: field, roots: exportRoots, rootFlag: "--export-root", verb: "write")
        let parent = (path as NSString).deletingLastPathComponent
        guard let resolvedParent = Self.realPath(parent), Self.isUnder(resolvedParent + "/x", exportRoots) else {
            throw RPCError.invalidParams(
                field: field, "\(value) is not in a folder under churnd's export roots (\(exportRoots.joined(separator: ", ")))")
        }
        let target = (resolvedParent as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        var status = stat()
        if lstat(target, &status) == 0 {
            if (status.st_mode & S_IFMT) == S_IFLNK {
                throw RPCError.invalidParams(field: field, "\(value) is a symlink: churnd does not write through one")
            }
            guard overwrite else {
                throw RPCError(
                    .conflict, "\(value) exists: pass overwrite (churn export --overwrite) to replace it",
                    data: ["field": .string(field), "path": .string(value)])
            }
        }
        return target
    }

    /// `value` as an absolute path under one of `roots`, with no `..`; refused when no root is set.
    private func checked(_ value: String, field: String, roots: [String], rootFlag: String, verb: String) throws -> String {
        guard !roots.isEmpty else {
            throw RPCError.invalidParams(
                field: field,
                "churnd does not \(verb) files named by clients: send the file's bytes instead (the churn CLI does), or start churnd with \(rootFlag) FOLDER to allow paths under FOLDER")
        }
        guard !value.isEmpty, !value.split(separator: "/").contains("..") else {
            throw RPCError.invalidParams(field: field, "\(value) contains \"..\": name the file without it")
        }
        // Made absolute without following symlinks: those are followed, and checked, afterwards.
        let absolute = value.hasPrefix("/") ? value : FileManager.default.currentDirectoryPath + "/" + value
        guard Self.isUnder(absolute, roots) || Self.realPath((absolute as NSString).deletingLastPathComponent).map({ Self.isUnder($0 + "/x", roots) }) == true else {
            throw RPCError.invalidParams(
                field: field, "\(value) is outside churnd's \(verb == "read" ? "data" : "export") roots: churnd \(verb)s only under \(roots.joined(separator: ", "))")
        }
        return absolute
    }

    private static func isUnder(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// How messages name the file `value` names: an upload by its name on the client.
    func displayName(_ value: String) -> String {
        guard value.hasPrefix(Self.uploadPrefix) else { return value }
        let id = String(value.dropFirst(Self.uploadPrefix.count))
        return uploads.withLock { $0[id]?.name } ?? value
    }

    /// `error` with every upload's path in it replaced by the file's name on the client, so a
    /// message about a bad row names the file the person sent.
    func naming(_ error: RPCError) -> RPCError {
        let names = uploads.withLock { $0.values.map { ($0.path, $0.name) } }
        func rename(_ text: String) -> String {
            names.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        func rename(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let text): .string(rename(text))
            case .array(let items): .array(items.map(rename))
            case .object(let members): .object(members.mapValues(rename))
            default: value
            }
        }
        var renamed = error
        renamed.message = rename(error.message)
        renamed.data = error.data.map(rename)
        return renamed
    }

    // MARK: Uploads

    /// Takes one piece of an upload (the first piece starts it); checks the whole file's size and
    /// sha256 on the last piece. Call off the event loop (it writes the piece).
    func receive(_ params: UploadParams) throws -> UploadResult {
        guard let piece = Data(base64Encoded: params.data) else {
            throw RPCError.invalidParams(field: "data", "is not valid base64")
        }
        guard piece.count <= Self.maximumPiece else {
            throw RPCError.invalidParams(field: "data", "holds \(piece.count) bytes; at most \(Self.maximumPiece) per piece")
        }
        let id: String
        let upload: Upload
        if let existing = params.upload {
            guard let known = uploads.withLock({ $0[existing] }) else {
                throw RPCError.invalidParams(field: "upload", "\(existing) is not an upload in progress (it expired, or churnd restarted): start again")
            }
            (id, upload) = (existing, known)
        } else {
            guard params.offset == 0 else { throw RPCError.invalidParams(field: "offset", "a new upload starts at offset 0") }
            removeExpired()
            id = UUID().uuidString.lowercased()
            upload = Upload(
                path: (folder as NSString).appendingPathComponent("upload-\(id)"),
                name: params.name.map { String($0.prefix(1024)) } ?? Self.uploadPrefix + id)
            guard FileManager.default.createFile(atPath: upload.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw RPCError(.fileError, "cannot create \(upload.path)")
            }
            uploads.withLock { $0[id] = upload }
        }
        return try upload.state.withLock { state in
            guard !state.complete else { throw RPCError.invalidParams(field: "upload", "\(id) is already complete") }
            guard params.offset == state.received else {
                throw RPCError.invalidParams(field: "offset", "is \(params.offset); upload \(id) has \(state.received) bytes, so the next piece starts there")
            }
            guard state.received + piece.count <= Self.maximumUpload else {
                throw RPCError.invalidParams(field: "data", "the upload would exceed \(Self.maximumUpload) bytes")
            }
            do {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: upload.path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: piece)
            } catch {
                throw RPCError(.fileError, "cannot write upload \(id): \(error.localizedDescription)")
            }
            state.received += piece.count
            state.hasher.update(data: piece)
            guard params.last == true else { return UploadResult(upload: id, received: state.received) }
            let actual = state.hasher.finalize().hex
            guard let expected = params.sha256?.lowercased() else {
                throw RPCError.invalidParams(field: "sha256", "the last piece must carry the whole file's sha256")
            }
            guard actual == expected else {
                uploads.withLock { _ = $0.removeValue(forKey: id) }
                try? FileManager.default.removeItem(atPath: upload.path)
                throw RPCError.invalidParams(
                    field: "sha256", "the \(state.received) bytes received hash to \(actual), not \(expected): the upload is discarded, send it again")
            }
            state.complete = true
            return UploadResult(upload: id, received: state.received, file: Self.uploadPrefix + id)
        }
    }

    // MARK: Downloads

    /// Offers `bytes` for download; returns its id.
    func offer(_ bytes: Data) throws -> (id: String, sha256: String) {
        removeExpired()
        let id = UUID().uuidString.lowercased()
        let path = (folder as NSString).appendingPathComponent("download-\(id)")
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw RPCError(.fileError, "cannot write \(path)")
        }
        let sha256 = bytes.sha256Hex
        downloads.withLock { $0[id] = Download(path: path, bytes: bytes.count, sha256: sha256) }
        return (id, sha256)
    }

    /// One piece of a download; the last piece forgets it. Call off the event loop.
    func read(_ params: DownloadParams) throws -> DownloadResult {
        guard let download = downloads.withLock({ $0[params.download] }) else {
            throw RPCError.invalidParams(field: "download", "\(params.download) is not a download of this churnd (it was read to the end, expired, or churnd restarted)")
        }
        let length = min(params.length ?? Self.maximumPiece, Self.maximumPiece)
        guard length > 0 else { throw RPCError.invalidParams(field: "length", "must be positive") }
        guard (0...download.bytes).contains(params.offset) else {
            throw RPCError.invalidParams(field: "offset", "must be between 0 and \(download.bytes)")
        }
        let piece: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: download.path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(params.offset))
            piece = try handle.read(upToCount: length) ?? Data()
        } catch {
            throw RPCError(.fileError, "cannot read download \(params.download): \(error.localizedDescription)")
        }
        let last = params.offset + piece.count >= download.bytes
        if last {
            downloads.withLock { _ = $0.removeValue(forKey: params.download) }
            try? FileManager.default.removeItem(atPath: download.path)
        }
        return DownloadResult(
            download: params.download, offset: params.offset, data: piece.base64EncodedString(), bytes: download.bytes,
            sha256: download.sha256, last: last)
    }

    /// Deletes transfers untouched for ``expiry``.
    private func removeExpired() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let cutoff = Date().addingTimeInterval(-Self.expiry)
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            try? FileManager.default.removeItem(atPath: path)
            let id = name.split(separator: "-", maxSplits: 1).last.map(String.init) ?? ""
            uploads.withLock { _ = $0.removeValue(forKey: id) }
            downloads.withLock { _ = $0.removeValue(forKey: id) }
        }
    }
}
