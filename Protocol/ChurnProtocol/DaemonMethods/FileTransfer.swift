extension DaemonMethod {
    /// One piece of a file sent to churnd (for `models.train`, `models.register`).
    public enum FilesUpload: RPCMethod {
        public static let name = "files.upload"
        public typealias Params = UploadParams
        public typealias Result = UploadResult
    }

    /// One piece of a file churnd offers (an export).
    public enum FilesDownload: RPCMethod {
        public static let name = "files.download"
        public typealias Params = DownloadParams
        public typealias Result = DownloadResult
    }
}

/// Params of `files.upload`: one piece of a file sent to churnd.
public struct UploadParams: Codable, Sendable, Hashable {
    /// The upload this piece belongs to; absent for the first piece (which starts one).
    public var upload: String?
    /// Where the piece goes in the file: the bytes received so far.
    public var offset: Int
    /// The piece, base64.
    public var data: String
    /// True on the last piece.
    public var last: Bool?
    /// On the last piece: the sha256 of the whole file (lower-case hex), checked by churnd.
    public var sha256: String?
    /// On the first piece: the file's name on the client, which churnd's messages use for it.
    public var name: String?

    public init(upload: String?, offset: Int, data: String, last: Bool? = nil, sha256: String? = nil, name: String? = nil) {
        self.upload = upload
        self.offset = offset
        self.data = data
        self.last = last
        self.sha256 = sha256
        self.name = name
    }
}

/// The `files.upload` result.
public struct UploadResult: Codable, Sendable, Hashable {
    public var upload: String
    /// Bytes received so far.
    public var received: Int
    /// After the last piece: how requests name the file (`upload:<id>`).
    public var file: String?

    public init(upload: String, received: Int, file: String? = nil) {
        self.upload = upload
        self.received = received
        self.file = file
    }
}

/// Params of `files.download`: one piece of a file churnd offers.
public struct DownloadParams: Codable, Sendable, Hashable {
    public var download: String
    public var offset: Int
    /// Bytes wanted (default and most: 4 MiB).
    public var length: Int?

    public init(download: String, offset: Int, length: Int? = nil) {
        self.download = download
        self.offset = offset
        self.length = length
    }
}

/// The `files.download` result.
public struct DownloadResult: Codable, Sendable, Hashable {
    public var download: String
    public var offset: Int
    /// The piece, base64.
    public var data: String
    /// The whole file's size and sha256, to check once every piece is in.
    public var bytes: Int
    public var sha256: String
    /// True when this piece ends the file (the download is then forgotten).
    public var last: Bool

    public init(download: String, offset: Int, data: String, bytes: Int, sha256: String, last: Bool) {
        self.download = download
        self.offset = offset
        self.data = data
        self.bytes = bytes
        self.sha256 = sha256
        self.last = last
    }
}
