import NIOCore

/// Splits a byte stream into ttrpc frames.
///
/// The declared length is checked against `maxBodySize` before anything is
/// buffered: an oversized body is reported at once as `.oversized` and then
/// discarded as it arrives, never held in memory, and the stream stays framed.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// What the decoder found in the stream.
    public enum Event: Sendable, Hashable {
        /// A complete frame within the size limit.
        case frame(Frame)
        /// A header declaring a body over the limit; its bytes will be skipped.
        case oversized(FrameHeader)
        /// Part of an oversized body was discarded; `remaining` bytes are still to come.
        case skipped(remaining: Int)
    }

    public typealias InboundOut = Event

    private let maxBodySize: Int
    private var skipRemaining = 0

    public init(maxBodySize: Int = FrameHeader.maxBodySize) {
        self.maxBodySize = maxBodySize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Event? {
        if skipRemaining > 0 {
            guard buffer.readableBytes > 0 else { return nil }
            let n = min(skipRemaining, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: n)
            skipRemaining -= n
            return .skipped(remaining: skipRemaining)
        }
        guard buffer.readableBytes >= FrameHeader.size,
              let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self),
              let streamID = buffer.getInteger(at: buffer.readerIndex + 4, endianness: .big, as: UInt32.self),
              let type = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt8.self),
              let flags = buffer.getInteger(at: buffer.readerIndex + 9, as: UInt8.self)
        else { return nil }
        let header = FrameHeader(length: length, streamID: streamID, type: FrameType(rawValue: type), flags: flags)
        if Int(length) > maxBodySize {
            buffer.moveReaderIndex(forwardBy: FrameHeader.size)
            skipRemaining = Int(length)
            return .oversized(header)
        }
        guard buffer.readableBytes >= FrameHeader.size + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        let body = buffer.readSlice(length: Int(length))!
        return .frame(Frame(header: header, body: body))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Event? {
        try decode(buffer: &buffer)
    }

    /// Whether the decoder is in the middle of discarding an oversized body.
    public var isSkipping: Bool { skipRemaining > 0 }
}
