import MarketplaceRPC
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func frameBytes(streamID: UInt32, type: FrameType = .request, body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(streamID: streamID, type: type, body: body)
        return buffer
    }

    private func expectedFrame(streamID: UInt32, type: FrameType = .request, body: [UInt8]) -> FrameDecoder.Event {
        .frame(Frame(
            header: FrameHeader(length: UInt32(body.count), streamID: streamID, type: type),
            body: ByteBuffer(bytes: body)))
    }

    @Test("frames survive every split: byte by byte, in batches, several per read")
    func verifierSplits() throws {
        let bodies: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 7, count: 1000), [0xFF]]
        var input = ByteBuffer()
        var expected: [FrameDecoder.Event] = []
        for (i, body) in bodies.enumerated() {
            let id = UInt32(2 * i + 1)
            var frame = frameBytes(streamID: id, body: body)
            input.writeBuffer(&frame)
            expected.append(expectedFrame(streamID: id, body: body))
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(input, expected)],
            decoderFactory: { FrameDecoder() })
    }

    @Test("a header alone or a partial body yields nothing yet")
    func partialInput() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 4, 0, 0, 0])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeBytes([1, 1, 0, 9, 9])  // header complete, 2 of 4 body bytes
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeBytes([9, 9])
        #expect(try decoder.decode(buffer: &buffer) == expectedFrame(streamID: 1, body: [9, 9, 9, 9]))
        #expect(buffer.readableBytes == 0)
    }

    @Test("header fields are big-endian and type and flags pass through, even unknown ones")
    func headerFields() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 1, 0x01, 0x02, 0x03, 0x05, 0x7F, 0x04, 0xAA])
        let event = try decoder.decode(buffer: &buffer)
        guard case .frame(let frame) = event else { Issue.record("no frame"); return }
        #expect(frame.header.length == 1)
        #expect(frame.header.streamID == 0x0102_0305)
        #expect(frame.header.type == FrameType(rawValue: 0x7F))
        #expect(frame.header.flags == 4)
        #expect(Array(frame.body.readableBytesView) == [0xAA])
    }

    @Test("an oversized body is reported before buffering, skipped as it arrives, and framing resumes")
    func oversized() throws {
        var decoder = FrameDecoder(maxBodySize: 16)
        var buffer = ByteBuffer()
        buffer.writeBytes([0, 0, 0, 40, 0, 0, 0, 3, 1, 0])
        #expect(try decoder.decode(buffer: &buffer) == .oversized(FrameHeader(length: 40, streamID: 3, type: .request)))
        #expect(decoder.isSkipping)
        buffer.writeBytes(Array(repeating: 0xEE, count: 25))
        #expect(try decoder.decode(buffer: &buffer) == .skipped(remaining: 15))
        #expect(buffer.readableBytes == 0)
        buffer.writeBytes(Array(repeating: 0xEE, count: 15))
        var next = frameBytes(streamID: 5, body: [1, 2])
        buffer.writeBuffer(&next)
        #expect(try decoder.decode(buffer: &buffer) == .skipped(remaining: 0))
        #expect(!decoder.isSkipping)
        #expect(try decoder.decode(buffer: &buffer) == expectedFrame(streamID: 5, body: [1, 2]))
    }

    @Test("a 4 GiB declaration allocates nothing: the reader only advances past the header")
    func fourGiB() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 1, 0])
        let capacityBefore = buffer.capacity
        #expect(try decoder.decode(buffer: &buffer) == .oversized(FrameHeader(length: .max, streamID: 1, type: .request)))
        #expect(buffer.capacity == capacityBefore)
        #expect(decoder.isSkipping)
    }

    @Test("the limit is inclusive: exactly 4 MiB is a frame, one byte more is refused")
    func limitBoundary() throws {
        var decoder = FrameDecoder()
        var ok = frameBytes(streamID: 1, body: Array(repeating: 0, count: FrameHeader.maxBodySize))
        if case .frame = try decoder.decode(buffer: &ok) {} else { Issue.record("4 MiB body must decode") }
        var over = ByteBuffer()
        over.writeInteger(UInt32(FrameHeader.maxBodySize + 1))
        over.writeBytes([0, 0, 0, 3, 1, 0])
        if case .oversized = try decoder.decode(buffer: &over) {} else { Issue.record("4 MiB + 1 must be refused") }
    }
}
