/// A hash of text that is the same on every host, every run and every build: for sticky
/// assignments (experiment arms, campaign control groups, `churn score --shard` parts) that
/// several churnd hosts must agree on. Swift's own `Hasher` is seeded per process, so it cannot be
/// used for these.
public enum StableHash {
    /// FNV-1a (64 bits) of the text's UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// FNV-1a finished with splitmix64's mixer, so that nearby texts spread over every bit.
    public static func mixed(_ text: String) -> UInt64 {
        var hash = fnv1a(text)
        hash ^= hash >> 30
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 27
        hash = hash &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        return hash
    }

    /// Where the text falls in [0, 1), uniformly.
    public static func fraction(_ text: String) -> Double {
        Double(mixed(text) >> 11) * 0x1.0p-53
    }
}
