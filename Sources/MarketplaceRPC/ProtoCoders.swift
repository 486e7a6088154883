import MarketplaceProtos

/// Decodes a method's request from the payload of a ttrpc Request.
public struct ProtoDeserializer<Message: ProtoMessage>: Sendable {
    @inlinable
    public init() {}

    @inlinable
    public func deserialize(_ bytes: [UInt8]) throws(ProtoDecodingError) -> Message {
        try Message(serializedBytes: bytes)
    }
}

/// Encodes a method's response for the payload of a ttrpc Response.
public struct ProtoSerializer<Message: ProtoMessage>: Sendable {
    @inlinable
    public init() {}

    @inlinable
    public func serialize(_ message: Message) -> [UInt8] {
        message.serializedBytes()
    }
}
