import CZlib
import Crypto
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
}

// MARK: Streaming

extension Zlib {
    /// The size of the pieces streamed through zlib: artifacts are never held whole, raw.
    public static let chunkSize = 1 << 20

    /// Compresses the file at `path` piece by piece, hashing the raw bytes as they pass: the raw
    /// artifact is never in memory whole, only its compressed form.
    static func deflate(file path: String, level: Int32 = 6) throws(RegistryError) -> (compressed: Data, sha256: String, rawSize: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .file(path: path, reason: "cannot open it for reading")
        }
        defer { try? handle.close() }
        var stream = z_stream()
        guard deflateInit_(&stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .conflict("cannot start zlib compression")
        }
        defer { deflateEnd(&stream) }
        var hasher = SHA256()
        var compressed = Data()
        var rawSize = 0
        var output = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let piece: Data
            do {
                piece = try handle.read(upToCount: chunkSize) ?? Data()
            } catch {
                throw .file(path: path, reason: error.localizedDescription)
            }
            hasher.update(data: piece)
            rawSize += piece.count
            let flush = piece.isEmpty ? Z_FINISH : Z_NO_FLUSH
            var status = Z_OK
            piece.withUnsafeBytes { input in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                repeat {
                    output.withUnsafeMutableBufferPointer { buffer in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = uInt(buffer.count)
                        status = CZlib.deflate(&stream, flush)
                        compressed.append(buffer.baseAddress!, count: buffer.count - Int(stream.avail_out))
                    }
                } while stream.avail_out == 0 || (flush == Z_FINISH && status == Z_OK)
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw .conflict("cannot compress \(path): zlib status \(status)")
            }
            if piece.isEmpty { break }
        }
        return (compressed, hasher.finalize().hex, rawSize)
    }

    /// Inflates `compressed` piece by piece into `sink`, checking that it expands to exactly
    /// `expectedSize` bytes whose sha256 is `sha256`. The raw bytes are never held whole.
    static func inflate(
        _ compressed: Data, expectedSize: Int, sha256: String, into sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Void {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure.corruptStream(detail: "cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        var hasher = SHA256()
        var produced = 0
        var output = [UInt8](repeating: 0, count: chunkSize)
        var status = Z_OK
        try compressed.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            while status == Z_OK {
                try output.withUnsafeMutableBytes { buffer in
                    stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(buffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - Int(stream.avail_out))])
                    produced += piece.count
                    if produced > expectedSize {
                        throw Failure.corruptStream(detail: "inflates to more than the recorded \(expectedSize) bytes")
                    }
                    hasher.update(bufferPointer: piece)
                    try sink(piece)
                }
                if status == Z_BUF_ERROR, stream.avail_in == 0 {
                    throw Failure.corruptStream(detail: "truncated: ends after \(produced) of \(expectedSize) bytes")
                }
            }
        }
        switch status {
        case Z_STREAM_END where produced == expectedSize: break
        case Z_STREAM_END: throw Failure.corruptStream(detail: "inflates to \(produced) bytes, recorded size is \(expectedSize)")
        case Z_DATA_ERROR: throw Failure.corruptStream(detail: "not a valid zlib stream")
        default: throw Failure.corruptStream(detail: "zlib status \(status)")
        }
        let actual = hasher.finalize().hex
        guard actual == sha256 else { throw ArtifactMismatch(actual: actual, recorded: sha256) }
    }

    /// An artifact whose bytes hash to another sha256 than recorded.
    struct ArtifactMismatch: Error, CustomStringConvertible {
        let actual: String
        let recorded: String
        var description: String { "sha256 is \(actual), recorded \(recorded)" }
    }
}
