import ChurnProtocol
import NIOCore
import NIOExtras

/// Why a byte stream could not be cut into frames. The connection that sent it is closed
/// after an error response; every other connection is unaffected.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length prefix was 0: every frame must carry a JSON message.
    case emptyFrame
    /// The length prefix exceeds the configured maximum.
    case frameTooLarge(length: Int, maximum: Int)
    /// The peer closed the connection in the middle of a frame.
    case truncatedFrame(expected: Int, received: Int)

    public var description: String {
        switch self {
        case .emptyFrame:
            "zero-length frame: every frame must carry a JSON message"
        case .frameTooLarge(let length, let maximum):
            "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case .truncatedFrame(let expected, let received):
            "connection closed inside a frame: \(received) of \(expected) bytes received"
        }
    }
}

/// Cuts a byte stream into frames: a 4-byte unsigned big-endian length N, then N bytes.
///
/// NIOExtras' `LengthFieldBasedFrameDecoder` has no upper bound short of `Int32.max` and
/// accepts zero-length frames; the protocol rejects both before buffering a byte of payload,
/// so the check lives here (outbound frames use NIOExtras' `LengthFieldPrepender`).
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The largest payload accepted.
    public let maximumPayload: Int

    public init(maximumPayload: Int = FrameLimits.defaultMaximumPayload) {
        self.maximumPayload = maximumPayload
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        let payloadLength = Int(length)
        if payloadLength == 0 { throw FrameError.emptyFrame }
        if payloadLength > maximumPayload {
            throw FrameError.frameTooLarge(length: payloadLength, maximum: maximumPayload)
        }
        guard buffer.readableBytes >= FrameLimits.headerLength + payloadLength else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameLimits.headerLength)
        return buffer.readSlice(length: payloadLength)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        guard seenEOF, buffer.readableBytes > 0 else { return nil }
        let expected = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self).map(Int.init)
        let received = max(buffer.readableBytes - FrameLimits.headerLength, 0)
        let error = FrameError.truncatedFrame(expected: expected ?? FrameLimits.headerLength, received: received)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        throw error
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the churn framing: ``FrameDecoder`` inbound, a 4-byte length prefix outbound.
    public func addChurnFraming(maximumPayload: Int) throws {
        try addHandler(ByteToMessageHandler(FrameDecoder(maximumPayload: maximumPayload)))
        try addHandler(LengthFieldPrepender(lengthFieldBitLength: .thirtyTwoBits, lengthFieldEndianness: .big))
    }
}
