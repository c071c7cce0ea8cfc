import ChurnProtocol
import ChurnRPC
import Crypto
import Foundation

/// Why a client call failed, phrased so a person knows what to do next.
public enum ChurnClientError: Error, Sendable, CustomStringConvertible {
    /// Nothing answers at the socket path (no such file, or nobody listening on it).
    case noDaemon(path: String, reason: String)
    /// A daemon may be there, but this user may not use its socket (or a folder on the way to it).
    case socketAccessDenied(SocketAccess)
    /// The daemon answered with an error.
    case daemon(RPCError)
    /// The connection failed or the answer was unreadable.
    case transport(String)
    /// A local file the client reads (to send) or writes (what it received) is unusable.
    case localFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .noDaemon(let path, let reason):
            "no daemon at \(path) (\(reason)): start one with `churn serve`, or point --socket / CHURN_SOCKET at a running one"
        case .socketAccessDenied(let access):
            access.description
        case .daemon(let error):
            error.message
        case .transport(let detail):
            detail
        case .localFile(let path, let reason):
            "\(path): \(reason)"
        }
    }

    /// The daemon's error, when it sent one.
    public var rpcError: RPCError? {
        if case .daemon(let error) = self { return error }
        return nil
    }
}

/// Why this user may not connect to a socket: the socket's (or a closed folder's) owner, group and
/// mode, and who the user is, so the message can say who lets them in and how.
public struct SocketAccess: Sendable, Hashable, CustomStringConvertible {
    /// The socket the client tried.
    public var socket: String
    /// What refused the user: the socket itself, or a folder on its path they may not enter.
    public var refusedBy: String
    /// The owner, group and permission bits of `refusedBy`; nil when it could not be looked at.
    public var owner: String?
    public var group: String?
    public var mode: UInt32?
    /// The user running the client, and whether `group` is one of this process's groups.
    public var user: String
    public var inGroup: Bool

    /// Whether a connect failure's reason is a refusal (EACCES, EPERM), not a missing daemon.
    static func isDenial(_ reason: String) -> Bool {
        [EACCES, EPERM].contains { String(cString: strerror($0)) == reason }
    }

    /// Looks at the socket, or (when the socket cannot even be looked at) at the first folder on
    /// its path this user may not enter.
    static func inspect(socket: String) -> SocketAccess {
        var refusedBy = socket
        var info = stat()
        if stat(socket, &info) != 0 {
            // Looking needs search permission on every folder above: find the one that lacks it.
            var folder = ""
            for component in (socket as NSString).deletingLastPathComponent.split(separator: "/") {
                folder += "/" + component
                if access(folder, X_OK) != 0 {
                    refusedBy = folder
                    break
                }
            }
            if refusedBy == socket || stat(refusedBy, &info) != 0 {
                return SocketAccess(
                    socket: socket, refusedBy: refusedBy, user: PeerCredentials.currentUserName, inGroup: false)
            }
        }
        var groups = [gid_t](repeating: 0, count: Int(max(0, getgroups(0, nil))))
        let count = getgroups(Int32(groups.count), &groups)
        groups = Array(groups.prefix(Int(max(0, count))))
        return SocketAccess(
            socket: socket, refusedBy: refusedBy, owner: PeerCredentials.userName(uid: info.st_uid),
            group: groupName(info.st_gid), mode: UInt32(info.st_mode) & 0o7777, user: PeerCredentials.currentUserName,
            inGroup: info.st_gid == getegid() || groups.contains(info.st_gid))
    }

    public var description: String {
        let onSocket = refusedBy == socket
        let what = onSocket ? "use churnd's socket \(socket)" : "enter \(refusedBy), a folder on the way to churnd's socket \(socket)"
        guard let owner, let group, let mode else {
            return "permission denied: you (\(user)) may not \(what): ask an administrator for access "
                + "(churnd's --socket-group names the group allowed to connect)"
        }
        let facts = "permission denied: you (\(user)) may not \(what) (owner \(owner), group \(group), mode "
            + String(format: "%04o", mode) + ")"
        let widen = onSocket ? "run churnd with --socket-mode 0660" : "open the folder (chmod u+x,g+x \(refusedBy))"
        if owner == user {
            return facts + ": you own it, but its mode shuts you out; " + (onSocket ? "run churnd with --socket-mode 0660" : "chmod u+x \(refusedBy)")
        }
        if inGroup {
            return facts + ": you are in group \(group), but its mode shuts the group out; an administrator can \(widen)"
        }
        return facts + ": ask an administrator to add you to group \(group) (e.g. `sudo usermod -aG \(group) \(user)`, "
            + "then log in again), or to run churnd with --socket-group naming a group you are in"
    }
}

/// The name of group `gid`, or its number.
private func groupName(_ gid: gid_t) -> String {
    var entry = group()
    var result: UnsafeMutablePointer<group>?
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else {
        return "\(gid)"
    }
    return String(cString: name)
}

/// A typed client of `churnd`'s methods. Safe to share: concurrent calls are pipelined on
/// one connection.
public final class ChurnClient: Sendable {
    private let connection: RPCConnection

    /// The socket this client talks to.
    public var socketPath: String { connection.path }

    private init(connection: RPCConnection) {
        self.connection = connection
    }

    /// Connects to the daemon at `socketPath`.
    public static func connect(
        socketPath: String, maximumFramePayload: Int = FrameLimits.defaultMaximumPayload
    ) async throws(ChurnClientError) -> ChurnClient {
        do {
            return ChurnClient(
                connection: try await RPCConnection.connect(to: socketPath, maximumFramePayload: maximumFramePayload))
        } catch let RPCConnectionError.cannotConnect(path, reason) {
            // EACCES/EPERM: the socket is there but closed to this user, which `churn serve` won't fix.
            if SocketAccess.isDenial(reason) { throw .socketAccessDenied(SocketAccess.inspect(socket: path)) }
            throw .noDaemon(path: path, reason: reason)
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Closes the connection.
    public func close() async {
        await connection.close()
    }

    /// Calls any daemon method by its type.
    public func call<M: RPCMethod>(
        _ method: M.Type, _ params: M.Params, timeout: Duration? = nil,
        onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws(ChurnClientError) -> M.Result {
        do {
            return try await connection.call(method, params, timeout: timeout, onProgress: onProgress)
        } catch RPCConnectionError.remote(let error) {
            throw .daemon(error)
        } catch RPCConnectionError.closed {
            throw .transport("the daemon closed the connection before answering \(M.name): see its log")
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Liveness and state.
    public func health() async throws(ChurnClientError) -> HealthResult {
        try await call(DaemonMethod.Health.self, NoParams(), timeout: .seconds(10))
    }

    /// The plugins the daemon found.
    public func plugins() async throws(ChurnClientError) -> [PluginStatus] {
        try await call(DaemonMethod.PluginsList.self, NoParams(), timeout: .seconds(10)).plugins
    }

    /// Churn predictions from the champion, or from `model` when given.
    public func predict(_ customers: [CustomerRecord], model: String? = nil, log: Bool? = nil) async throws(ChurnClientError)
        -> [Prediction]
    {
        try await call(DaemonMethod.Predict.self, PredictParams(customers: customers, model: model, log: log)).predictions
    }

    /// Churn probabilities for a batch sent by column (`predict.batch`), from the champion or
    /// `model`: the form for scoring many customers.
    public func predictBatch(_ batch: CustomerBatch, model: String? = nil, log: Bool? = nil) async throws(ChurnClientError)
        -> PredictBatchResult
    {
        try await call(DaemonMethod.PredictBatch.self, PredictBatchParams(batch: batch, model: model, log: log))
    }

    /// Predictions with their reasons.
    public func explain(_ customers: [CustomerRecord], model: String? = nil, top: Int? = nil)
        async throws(ChurnClientError) -> [CustomerExplanation]
    {
        try await call(DaemonMethod.Explain.self, ExplainParams(customers: customers, model: model, top: top))
            .explanations
    }

    /// Stores customers' months in the daemon's history store (checked against the panel of
    /// `model`, default `churn`); a month sent again replaces the stored one.
    public func appendHistory(_ months: [[String: FieldValue]], model: String? = nil) async throws(ChurnClientError)
        -> HistoryAppendResult
    {
        try await call(HistoryMethod.Append.self, HistoryAppendParams(model: model, months: months))
    }

    /// A customer's stored months, oldest first.
    public func history(of customer: String, model: String? = nil) async throws(ChurnClientError) -> HistoryGetResult {
        try await call(HistoryMethod.Get.self, HistoryGetParams(model: model, customerID: customer))
    }

    /// Trains, evaluates and registers a version; `onProgress` sees every step.
    ///
    /// The files it names (`data`, `history`, a `mapping` file) are this machine's: the client
    /// reads and sends them (``upload(file:)``). With `filesOnServer`, they are paths churnd
    /// reads itself, accepted only under its `--data-root` folders.
    public func train(
        _ params: TrainParams, filesOnServer: Bool = false, onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws(ChurnClientError) -> ModelVersionInfo {
        var sent = params
        if !filesOnServer {
            sent.data = try await upload(file: params.data)
            if let history = params.history { sent.history = try await upload(file: history) }
            if let mapping = params.mapping, mapping.contains("/") || mapping.hasSuffix(".json") {
                sent.mapping = try await upload(file: mapping)
            }
        }
        return try await call(DaemonMethod.ModelsTrain.self, sent, onProgress: onProgress)
    }

    /// Sends the local file at `path` to churnd in pieces (``DaemonMethod/FilesUpload``), checked
    /// there by size and sha256; returns how requests name it (`upload:<id>`). A value that
    /// already names an upload is returned as it is.
    public func upload(file path: String) async throws(ChurnClientError) -> String {
        if path.hasPrefix("upload:") { return path }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard let handle = FileHandle(forReadingAtPath: absolute) else {
            throw .localFile(path: path, reason: FileManager.default.fileExists(atPath: absolute) ? "cannot be read" : "no such file")
        }
        defer { try? handle.close() }
        // Pieces fit churnd's frame limit once base64-encoded and wrapped in a request.
        let limit = try await health().maxFrameBytes ?? FrameLimits.defaultMaximumPayload
        let pieceSize = max(3, min(Self.transferPiece, (limit - 1024) / 4 * 3))
        var hasher = SHA256Digest()
        var upload: String?
        var offset = 0
        while true {
            let piece: Data
            do {
                piece = try handle.read(upToCount: pieceSize) ?? Data()
            } catch {
                throw .localFile(path: path, reason: error.localizedDescription)
            }
            hasher.update(piece)
            let last = piece.count < pieceSize
            let result = try await call(
                DaemonMethod.FilesUpload.self,
                UploadParams(
                    upload: upload, offset: offset, data: piece.base64EncodedString(), last: last,
                    sha256: last ? hasher.finalize() : nil, name: upload == nil ? absolute : nil))
            upload = result.upload
            offset = result.received
            if last {
                guard let file = result.file else { throw .transport("churnd did not name the finished upload") }
                return file
            }
        }
    }

    /// Reads the download `id` from churnd piece by piece into the local file `path` (written
    /// beside it, then renamed), checking its size and sha256.
    public func download(_ id: String, to path: String) async throws(ChurnClientError) -> Int {
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw .localFile(path: path, reason: "cannot be written")
        }
        let limit = try await health().maxFrameBytes ?? FrameLimits.defaultMaximumPayload
        let pieceSize = max(3, min(Self.transferPiece, (limit - 1024) / 4 * 3))
        var hasher = SHA256Digest()
        var offset = 0
        var expected: (bytes: Int, sha256: String)?
        do throws(ChurnClientError) {
            defer { try? handle.close() }
            while true {
                let piece = try await call(DaemonMethod.FilesDownload.self, DownloadParams(download: id, offset: offset, length: pieceSize))
                guard let bytes = Data(base64Encoded: piece.data) else { throw .transport("churnd sent a piece that is not base64") }
                do {
                    try handle.write(contentsOf: bytes)
                } catch {
                    throw .localFile(path: path, reason: error.localizedDescription)
                }
                hasher.update(bytes)
                offset += bytes.count
                expected = (piece.bytes, piece.sha256)
                if piece.last { break }
                guard !bytes.isEmpty else { throw .transport("churnd sent an empty piece before the end") }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        let actual = hasher.finalize()
        guard let expected, expected.bytes == offset, expected.sha256 == actual else {
            try? FileManager.default.removeItem(atPath: partial)
            throw .transport("the download \(id) arrived damaged (\(offset) bytes, sha256 \(actual)); nothing was written")
        }
        if rename(partial, path) != 0 {
            try? FileManager.default.removeItem(atPath: partial)
            throw .localFile(path: path, reason: String(cString: strerror(errno)))
        }
        return offset
    }

    /// The size of the pieces files are sent and received in (under the default frame limit once
    /// base64-encoded).
    static let transferPiece = 4 << 20

    /// Registered versions, newest first.
    public func models(name: String? = nil) async throws(ChurnClientError) -> [ModelVersionInfo] {
        try await call(DaemonMethod.ModelsList.self, ModelsListParams(name: name)).versions
    }

    /// One version in full.
    public func model(_ reference: String) async throws(ChurnClientError) -> ModelVersionInfo {
        try await call(DaemonMethod.ModelsGet.self, ModelRefParams(model: reference))
    }

    /// Points `alias` (default champion) at `model`.
    public func promote(_ model: String, alias: String? = nil, reason: String? = nil, createAlias: Bool = false)
        async throws(ChurnClientError) -> AliasChange
    {
        try await call(
            DaemonMethod.ModelsPromote.self,
            PromoteParams(model: model, alias: alias, reason: reason, createAlias: createAlias ? true : nil))
    }

    /// Moves `alias` (default champion) back to its previous version.
    public func rollback(name: String? = nil, alias: String? = nil, reason: String? = nil)
        async throws(ChurnClientError) -> AliasChange
    {
        try await call(DaemonMethod.ModelsRollback.self, RollbackParams(name: name, alias: alias, reason: reason))
    }

    /// Registers the version an export file holds: a local file the client sends, or with
    /// `fileOnServer` a path churnd reads under its data roots.
    public func importModel(file: String, name: String? = nil, fileOnServer: Bool = false)
        async throws(ChurnClientError) -> ModelVersionInfo
    {
        let named = fileOnServer ? file : try await upload(file: file)
        return try await call(DaemonMethod.ModelsRegister.self, RegisterParams(file: named, name: name))
    }

    /// Writes a version to the export file `file`: received from churnd and written here by the
    /// client, or with `fileOnServer` written by churnd under its export roots. An existing file
    /// is replaced only with `overwrite`.
    public func export(_ model: String, to file: String, overwrite: Bool = false, fileOnServer: Bool = false)
        async throws(ChurnClientError) -> ExportResult
    {
        if fileOnServer {
            return try await call(DaemonMethod.ModelsExport.self, ExportParams(model: model, file: file, overwrite: overwrite))
        }
        if !overwrite, FileManager.default.fileExists(atPath: file) {
            throw .localFile(path: file, reason: "exists: pass --overwrite to replace it")
        }
        var result = try await call(DaemonMethod.ModelsExport.self, ExportParams(model: model))
        guard let download = result.download else { throw .transport("churnd offered no download for the export") }
        _ = try await self.download(download, to: file)
        result.file = file
        result.download = nil
        return result
    }

    /// Deletes a version that no alias names.
    public func delete(_ model: String) async throws(ChurnClientError) -> ModelRef {
        try await call(DaemonMethod.ModelsDelete.self, ModelRefParams(model: model))
    }

    /// Checks the registry's integrity and every artifact.
    public func verify() async throws(ChurnClientError) -> VerifyResult {
        try await call(DaemonMethod.ModelsVerify.self, NoParams())
    }

    /// The audit log, newest first.
    public func audit(limit: Int? = nil) async throws(ChurnClientError) -> [AuditRecord] {
        try await call(DaemonMethod.ModelsAudit.self, AuditParams(limit: limit)).entries
    }

    /// Starts a champion/challenger experiment.
    public func startExperiment(challenger: String, mode: ExperimentMode, share: Double? = nil, note: String? = nil)
        async throws(ChurnClientError) -> ExperimentInfo
    {
        try await call(
            DaemonMethod.ExperimentsStart.self, ExperimentStartParams(challenger: challenger, mode: mode, share: share, note: note))
    }

    /// Stops the running experiment.
    public func stopExperiment(name: String? = nil) async throws(ChurnClientError) -> ExperimentInfo {
        try await call(DaemonMethod.ExperimentsStop.self, ExperimentModelParams(name: name))
    }

    /// The running experiment and the history.
    public func experiments(name: String? = nil) async throws(ChurnClientError) -> ExperimentsStatusResult {
        try await call(DaemonMethod.ExperimentsStatus.self, ExperimentModelParams(name: name))
    }

    /// The report of the running (or latest, or given) experiment.
    public func experimentReport(name: String? = nil, experiment: Int? = nil, topFraction: Double? = nil)
        async throws(ChurnClientError) -> ExperimentReport
    {
        try await call(
            DaemonMethod.ExperimentsReport.self, ExperimentReportParams(name: name, experiment: experiment, topFraction: topFraction))
    }

    /// Records who churned.
    public func feedback(_ outcomes: [Outcome]) async throws(ChurnClientError) -> FeedbackResult {
        try await call(DaemonMethod.Feedback.self, FeedbackParams(outcomes: outcomes))
    }

    /// Outcomes recorded by `feedback`, by month observed, newest first (at most `months`).
    public func feedbackSummary(months: Int? = nil) async throws(ChurnClientError) -> [FeedbackMonth] {
        try await call(DaemonMethod.FeedbackSummary.self, FeedbackSummaryParams(months: months)).months
    }

    /// Starts a retention campaign: `offer` for the cohort, a random `controlShare` held back.
    public func startCampaign(_ params: CampaignStartParams) async throws(ChurnClientError) -> CampaignInfo {
        try await call(CampaignMethod.Start.self, params)
    }

    /// Every campaign, newest first.
    public func campaigns() async throws(ChurnClientError) -> [CampaignInfo] {
        try await call(CampaignMethod.List.self, NoParams()).campaigns
    }

    /// Who is treated (to contact) and who is held back in campaign `id`.
    public func campaignMembers(_ id: Int) async throws(ChurnClientError) -> [CampaignMembersResult.Member] {
        try await call(CampaignMethod.Members.self, CampaignRefParams(campaign: id)).members
    }

    public func stopCampaign(_ id: Int) async throws(ChurnClientError) -> CampaignInfo {
        try await call(CampaignMethod.Stop.self, CampaignRefParams(campaign: id))
    }

    /// Churn treated vs control and the measured uplift of campaign `id`.
    public func campaignReport(_ id: Int) async throws(ChurnClientError) -> CampaignReport {
        try await call(CampaignMethod.Report.self, CampaignRefParams(campaign: id))
    }

    /// Trains an uplift model from campaign `params.campaign`'s outcomes; `params.data` is a
    /// local file sent to churnd first (unless `filesOnServer`).
    public func trainUplift(
        _ params: UpliftTrainParams, filesOnServer: Bool = false, onProgress: (@Sendable (ProgressUpdate) -> Void)? = nil
    ) async throws(ChurnClientError) -> ModelVersionInfo {
        var sent = params
        if !filesOnServer { sent.data = try await upload(file: params.data) }
        return try await call(CampaignMethod.TrainUplift.self, sent, onProgress: onProgress)
    }

    /// Each customer's churn without and with the offer, from the uplift model `model`.
    public func predictUplift(_ customers: [CustomerRecord], model: String) async throws(ChurnClientError) -> UpliftPredictResult {
        try await call(CampaignMethod.PredictUplift.self, UpliftPredictParams(model: model, customers: customers))
    }

    /// Serving metrics in Prometheus text format.
    public func metrics() async throws(ChurnClientError) -> String {
        try await call(DaemonMethod.Metrics.self, NoParams()).prometheus
    }
}

/// SHA-256 of bytes fed in pieces, as lower-case hex (swift-crypto).
struct SHA256Digest {
    private var hasher = SHA256()

    mutating func update(_ bytes: Data) { hasher.update(data: bytes) }

    func finalize() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }
}
