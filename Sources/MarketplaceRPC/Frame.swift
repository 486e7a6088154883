import NIOCore

/// The kind of a ttrpc frame (byte 8 of the header).
public struct FrameType: Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let request = FrameType(rawValue: 0x01)
    public static let response = FrameType(rawValue: 0x02)
}

/// The 10-byte ttrpc frame header: body length, stream id, type and flags.
public struct FrameHeader: Hashable, Sendable {
    /// Size of the header on the wire.
    public static let size = 10
    /// The largest body a peer may send (4 MiB, as ttrpc).
    public static let maxBodySize = 4 << 20

    public var length: UInt32
    public var streamID: UInt32
    public var type: FrameType
    public var flags: UInt8

    public init(length: UInt32, streamID: UInt32, type: FrameType, flags: UInt8 = 0) {
        self.length = length
        self.streamID = streamID
        self.type = type
        self.flags = flags
    }
}

/// A whole frame: header and body.
public struct Frame: Sendable, Hashable {
    public var header: FrameHeader
    public var body: ByteBuffer

    public init(header: FrameHeader, body: ByteBuffer) {
        self.header = header
        self.body = body
    }
}

extension ByteBuffer {
    /// Appends one frame: the header for `body` followed by `body`.
    public mutating func writeFrame(streamID: UInt32, type: FrameType, flags: UInt8 = 0, body: some Collection<UInt8>) {
        writeInteger(UInt32(body.count), endianness: .big)
        writeInteger(streamID, endianness: .big)
        writeInteger(type.rawValue)
        writeInteger(flags)
        writeBytes(body)
    }
}
