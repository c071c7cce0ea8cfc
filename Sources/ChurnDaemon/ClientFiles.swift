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
/// are offered for download (`files.download`). A daemon-side path is accepted only when it is
/// absolute and beneath a configured root (`--data-root` to read, `--export-root` to write),
/// with `..` refused; it is resolved beneath the root's descriptor without following any
/// symlink (``ConfinedFolder``), only regular files are read, and an export never replaces a
/// file unless asked.
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
    private let dataRoots: [ConfinedFolder]
    private let exportRoots: [ConfinedFolder]

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

    /// Opens every root once (see ``ConfinedFolder``); `dataRoots` and `exportRoots` are
    /// absolute folders as ``root(_:flag:)`` checked them.
    init(folder: String, dataRoots: [String], exportRoots: [String]) throws {
        self.folder = folder
        func open(_ roots: [String], flag: String) throws -> [ConfinedFolder] {
            try roots.map { root in
                guard let resolved = Self.realPath(root) else {
                    throw RPCError(.fileError, "\(flag) \(root) does not exist")
                }
                do throws(ConfinedPathError) {
                    return try ConfinedFolder(path: resolved, configuredPath: root)
                } catch {
                    throw RPCError(.fileError, "\(flag) \(root): \(error.reason)")
                }
            }
        }
        self.dataRoots = try open(dataRoots, flag: "--data-root")
        self.exportRoots = try open(exportRoots, flag: "--export-root")
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RPCError(.fileError, "cannot create the transfer folder \(folder): \(error.localizedDescription)")
        }
        // Transfers live in this process's memory: files an earlier churnd left (killed mid-upload,
        // say) can never be named again, and may hold a customer file or fill the disk.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where name.hasPrefix("upload-") || name.hasPrefix("download-") {
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
        }
    }

    // MARK: Roots

    /// A configured root as churnd keeps it: absolute (not resolved: requests may spell paths
    /// either way), and a folder.
    static func root(_ path: String, flag: String) throws -> String {
        let absolute = ChurnLocations.absolute(path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder) else {
            throw DaemonSettingsError(description: "\(flag) \(path) does not exist")
        }
        guard isFolder.boolValue else { throw DaemonSettingsError(description: "\(flag) \(path) is not a folder") }
        return absolute
    }

    /// The files one request reads: opened as the request names them, read through until the
    /// request ends (``RequestFiles/close()``), named in messages as the client named them.
    func request() -> RequestFiles { RequestFiles(files: self) }

    /// A regular file `value` names for churnd to read: a finished upload, or a path under a data
    /// root opened beneath it. Returns a path to read it by (the upload's, or the opened
    /// descriptor's under `/proc/self/fd`) and the descriptor to close when done (nil for an
    /// upload).
    fileprivate func open(_ value: String, field: String) throws -> (path: String, descriptor: Int32?) {
        if value.hasPrefix(Self.uploadPrefix) {
            let id = String(value.dropFirst(Self.uploadPrefix.count))
            guard let upload = uploads.withLock({ $0[id] }), upload.state.withLock({ $0.complete }) else {
                throw RPCError.invalidParams(
                    field: field, "\(value) is not a finished upload of this churnd (send the file with files.upload first)")
            }
            return (upload.path, nil)
        }
        let (root, components) = try confined(value, field: field, roots: dataRoots, rootFlag: "--data-root", verb: "read")
        do {
            let descriptor = try root.openFile(components)
            return ("/proc/self/fd/\(descriptor)", descriptor)
        } catch {
            throw Self.refusal(error, value: value, field: field)
        }
    }

    /// Where `models.export` may write `value`: beneath an export root, through no symlink, not
    /// an existing file unless `overwrite`. Checked before any work; ``write(_:to:)`` writes.
    func exportTarget(_ value: String, field: String, overwrite: Bool) throws -> ExportTarget {
        let (root, components) = try confined(value, field: field, roots: exportRoots, rootFlag: "--export-root", verb: "write")
        do {
            if try root.exists(components), !overwrite {
                throw RPCError(
                    .conflict, "\(value) exists: pass overwrite (churn export --overwrite) to replace it",
                    data: ["field": .string(field), "path": .string(value)])
            }
        } catch let error as ConfinedPathError {
            throw Self.refusal(error, value: value, field: field)
        }
        return ExportTarget(root: root, components: components, path: value, field: field, overwrite: overwrite)
    }

    /// Where an export goes, as ``exportTarget(_:field:overwrite:)`` checked it.
    struct ExportTarget: Sendable {
        fileprivate let root: ConfinedFolder
        fileprivate let components: [String]
        /// The path as the request named it.
        let path: String
        fileprivate let field: String
        fileprivate let overwrite: Bool
    }

    /// Writes `bytes` to `target` atomically (a temporary file in the target's folder, renamed
    /// there). Call off the event loop.
    func write(_ bytes: Data, to target: ExportTarget) throws {
        do {
            try target.root.write(bytes, to: target.components, overwrite: target.overwrite)
        } catch .exists {
            throw RPCError(
                .conflict, "\(target.path) exists: pass overwrite (churn export --overwrite) to replace it",
                data: ["field": .string(target.field), "path": .string(target.path)])
        } catch {
            throw Self.refusal(error, value: target.path, field: target.field)
        }
    }

    /// `value` beneath one of `roots`: absolute, no NUL, no `..`; refused when no root is set.
    private func confined(
        _ value: String, field: String, roots: [ConfinedFolder], rootFlag: String, verb: String
    ) throws -> (ConfinedFolder, [String]) {
        guard !roots.isEmpty else {
            throw RPCError.invalidParams(
                field: field,
                "churnd does not \(verb) files named by clients: send the file's bytes instead (the churn CLI does), or start churnd with \(rootFlag) FOLDER to allow paths under FOLDER")
        }
        guard !value.utf8.contains(0) else {
            throw RPCError.invalidParams(field: field, "contains a NUL character: name the file without it")
        }
        guard value.hasPrefix("/") else {
            throw RPCError.invalidParams(
                field: field, "\"\(value)\" is not an absolute path: churnd does not resolve paths against its own working folder; name the file from /")
        }
        guard !value.split(separator: "/").contains("..") else {
            throw RPCError.invalidParams(field: field, "\(value) contains \"..\": name the file without it")
        }
        for root in roots {
            if let components = root.components(of: value) { return (root, components) }
        }
        throw RPCError.invalidParams(
            field: field,
            "\(value) is outside churnd's \(verb == "read" ? "data" : "export") roots: churnd \(verb)s only under \(roots.map(\.configuredPath).joined(separator: ", "))")
    }

    /// A path refused beneath its root, as the client sees it: what and where, never content.
    private static func refusal(_ error: ConfinedPathError, value: String, field: String) -> RPCError {
        let data: JSONValue = ["field": .string(field), "path": .string(value)]
        switch error {
        case .symlink, .notARegularFile, .notAFolder:
            return RPCError(.invalidParams, "\(field): \(value): \(error.reason)", data: data)
        case .missing:
            return RPCError(.fileError, "cannot read \(value): \(error.reason)", data: data)
        case .exists, .system:
            return RPCError(.fileError, "\(value): \(error.reason)", data: data)
        }
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

    /// `error` with every upload's path (and `opened`'s paths) in it replaced by the file's name
    /// on the client, so a message about a bad row names the file the person sent.
    func naming(_ error: RPCError, opened: [(path: String, name: String)] = []) -> RPCError {
        // Longest first: /proc/self/fd/1 is a prefix of /proc/self/fd/12.
        let names = (opened + uploads.withLock { $0.values.map { ($0.path, $0.name) } })
            .sorted { $0.path.count > $1.path.count }
        func rename(_ text: String) -> String {
            names.reduce(text) { $0.replacingOccurrences(of: $1.path, with: $1.name) }
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
            if let code = Self.append(piece, to: upload.path) {
                // A partial upload is useless and, on a full disk, keeps it full: discard it.
                uploads.withLock { _ = $0.removeValue(forKey: id) }
                unlink(upload.path)
                throw RPCError(
                    .fileError,
                    "cannot store upload \(id) in \(folder): \(String(cString: strerror(code)))\(code == ENOSPC ? " (the disk is full)" : ""); the upload is discarded: free space (or fix the folder), then send the file again",
                    data: ["field": "data", "upload": .string(id)])
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

    /// Appends `bytes` to the file at `path`; the errno when that failed, else nil.
    private static func append(_ bytes: Data, to path: String) -> Int32? {
        let file = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        guard file >= 0 else { return errno }
        defer { Glibc.close(file) }
        return writeAll(bytes, to: file)
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

/// The files one request reads (see ``ClientFiles/request()``): each opened once, by descriptor
/// when it lies under a data root, and kept open until ``close()``, so what is read is what was
/// checked.
final class RequestFiles: Sendable {
    private let files: ClientFiles
    private let opened = Mutex<[(path: String, name: String, descriptor: Int32?)]>([])

    fileprivate init(files: ClientFiles) {
        self.files = files
    }

    deinit { close() }

    /// Opens the file `value` names (an upload, or a regular file under a data root) and returns
    /// the path to read it by until ``close()``.
    func open(_ value: String, field: String) throws -> String {
        let (path, descriptor) = try files.open(value, field: field)
        opened.withLock { $0.append((path, files.displayName(value), descriptor)) }
        return path
    }

    /// `error` naming every file as the client named it.
    func naming(_ error: RPCError) -> RPCError {
        files.naming(error, opened: opened.withLock { $0.map { ($0.path, $0.name) } })
    }

    /// Closes what was opened under the data roots. Safe to call more than once.
    func close() {
        let descriptors = opened.withLock { list in
            defer { list = list.map { ($0.path, $0.name, nil) } }
            return list.compactMap(\.descriptor)
        }
        for descriptor in descriptors { Glibc.close(descriptor) }
    }
}
