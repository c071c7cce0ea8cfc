extension DaemonMethod {
    /// Register a version from an export file (`models.export` writes them).
    public enum ModelsRegister: RPCMethod {
        public static let name = "models.register"
        public typealias Params = RegisterParams
        public typealias Result = ModelVersionInfo

        /// The version is registered before the answer: an oversized one is answered as
        /// `models.list` shows it (``ModelVersionInfo/summary``).
        public static func compacted(_ result: ModelVersionInfo) -> ModelVersionInfo? { result.summary }
    }

    /// Write a version, with everything known about it, to an export file.
    public enum ModelsExport: RPCMethod {
        public static let name = "models.export"
        public typealias Params = ExportParams
        public typealias Result = ExportResult
    }
}

/// Params of `models.register`.
public struct RegisterParams: Codable, Sendable, Hashable {
    /// An export file: an upload (`upload:<id>`, see `files.upload`), or a path under one of
    /// churnd's data roots.
    public var file: String
    /// Register under this model name instead of the file's.
    public var name: String?

    public init(file: String, name: String? = nil) {
        self.file = file
        self.name = name
    }
}

/// Params of `models.export`.
public struct ExportParams: Codable, Sendable, Hashable {
    public var model: String
    /// Where churnd writes the file, under one of its export roots; absent: the export is
    /// offered for download (`files.download`).
    public var file: String?
    /// Replace `file` when it exists (default false: an existing file is an error).
    public var overwrite: Bool?

    public init(model: String, file: String? = nil, overwrite: Bool? = nil) {
        self.model = model
        self.file = file
        self.overwrite = overwrite
    }
}

/// The `models.export` result.
public struct ExportResult: Codable, Sendable, Hashable {
    public var model: ModelRef
    /// The file churnd wrote, when a `file` was asked for.
    public var file: String?
    /// The download to read with `files.download`, when no `file` was asked for.
    public var download: String?
    public var bytes: Int
    /// Of the export's bytes.
    public var sha256: String?

    public init(model: ModelRef, file: String? = nil, download: String? = nil, bytes: Int, sha256: String? = nil) {
        self.model = model
        self.file = file
        self.download = download
        self.bytes = bytes
        self.sha256 = sha256
    }
}
