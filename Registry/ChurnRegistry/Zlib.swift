import CZlib
import Foundation

/// zlib compression of artifacts (the system libz).
public enum Zlib {
    /// Why bytes could not be (de)compressed.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case compression(status: Int32)
        /// The stream is damaged, or inflates to another size than recorded.
        case corruptStream(detail: String)

        public var description: String {
            switch self {
            case .compression(let status): "zlib compression failed (status \(status))"
            case .corruptStream(let detail): "compressed data is damaged: \(detail)"
            }
        }
    }

    /// Compresses `data` as one zlib stream.
    public static func compress(_ data: Data, level: Int32 = 6) throws(Failure) -> Data {
        var bound = compressBound(uLong(data.count))
        var output = Data(count: Int(bound))
        let status = output.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                compress2(
                    target.bindMemory(to: Bytef.self).baseAddress, &bound,
                    source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), level)
            }
        }
        guard status == Z_OK else { throw .compression(status: status) }
        output.count = Int(bound)
        return output
    }

    /// Inflates `data`, which must expand to exactly `expectedSize` bytes; never allocates more.
    public static func decompress(_ data: Data, expectedSize: Int) throws(Failure) -> Data {
        guard expectedSize >= 0 else { throw .corruptStream(detail: "negative recorded size") }
        // One spare byte tells "exactly the recorded size" from "more than recorded".
        var length = uLong(expectedSize + 1)
        var output = Data(count: expectedSize + 1)
        let status = output.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                uncompress(
                    target.bindMemory(to: Bytef.self).baseAddress, &length,
                    source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count))
            }
        }
        switch status {
        case Z_OK where Int(length) == expectedSize:
            output.count = expectedSize
            return output
        case Z_OK:
            throw .corruptStream(detail: "inflates to \(length) bytes, recorded size is \(expectedSize)")
        case Z_BUF_ERROR:
            throw .corruptStream(detail: "inflates to more than the recorded \(expectedSize) bytes, or is truncated")
        case Z_DATA_ERROR:
            throw .corruptStream(detail: "not a valid zlib stream")
        default:
            throw .corruptStream(detail: "zlib status \(status)")
        }
    }
}
