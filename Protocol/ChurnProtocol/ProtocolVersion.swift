/// The version of the churn wire protocol spoken by `churnd`, its clients and its plugins.
///
/// It changes only when an existing method or field changes meaning or disappears;
/// adding methods, optional fields or error codes keeps the version. A plugin whose
/// `describe` answer carries another `protocol_version` is refused by the daemon.
/// See `Protocol/PROTOCOL.md`, section "Handshake and versioning".
public enum ChurnProtocolVersion {
    /// The protocol version this build speaks.
    public static let current = 1
}

/// Limits of one request (`Protocol/PROTOCOL.md`, section "Limits").
public enum RequestLimits {
    /// The most customers one `predict`, `predict.batch`, `explain` or `uplift.predict` carries.
    public static let maximumCustomers = 100_000
}

/// Limits of the framing layer (`Protocol/PROTOCOL.md`, section "Framing").
public enum FrameLimits {
    /// Bytes in the length prefix of every frame: an unsigned 32-bit big-endian integer.
    public static let headerLength = 4
    /// The default largest payload accepted in one frame: 16 MiB.
    public static let defaultMaximumPayload = 16 * 1024 * 1024
}
