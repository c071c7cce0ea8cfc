import ChurnProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import ChurnRPC

@Suite("Framing")
struct FramingTests {
    private func channel(maximum: Int = 64) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addChurnFraming(maximumPayload: maximum)
        return channel
    }

    private func frame(_ text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(text.utf8.count), endianness: .big)
        buffer.writeString(text)
        return buffer
    }

    @Test func frameSplitAcrossWritesIsReassembled() throws {
        let channel = try channel()
        var whole = frame(#"{"a":1}"#)
        while whole.readableBytes > 0 {
            let piece = whole.readSlice(length: min(3, whole.readableBytes))!
            try channel.writeInbound(piece)
        }
        let decoded = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(String(buffer: decoded) == #"{"a":1}"#)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func framesCoalescedInOneWriteAreSplit() throws {
        let channel = try channel()
        var both = frame(#"{"a":1}"#)
        var second = frame(#"{"b":2}"#)
        both.writeBuffer(&second)
        try channel.writeInbound(both)
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == #"{"a":1}"#)
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == #"{"b":2}"#)
    }

    @Test func zeroLengthFrameIsAnError() throws {
        let channel = try channel()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0))
        #expect(throws: FrameError.emptyFrame) { try channel.writeInbound(buffer) }
    }

    @Test func oversizedFrameIsRejectedFromItsHeaderAlone() throws {
        let channel = try channel(maximum: 64)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(65))
        #expect(throws: FrameError.frameTooLarge(length: 65, maximum: 64)) { try channel.writeInbound(buffer) }
    }

    @Test func truncatedFrameAtEndOfStreamIsReported() throws {
        let channel = try channel()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(10))
        buffer.writeString("abc")
        try channel.writeInbound(buffer)
        #expect(throws: FrameError.truncatedFrame(expected: 10, received: 3)) {
            _ = try channel.finish()
        }
    }

    @Test func outboundFramesGetABigEndianLengthPrefix() throws {
        let channel = try channel()
        try channel.writeOutbound(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"health"}"#))
        var written = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
        let bytes = written.readBytes(length: written.readableBytes)!
        // The frame shown in PROTOCOL.md, section Framing.
        #expect(Array(bytes.prefix(6)) == [0x00, 0x00, 0x00, 0x2a, 0x7b, 0x22])
        #expect(bytes.count == 4 + 42)
    }
}
