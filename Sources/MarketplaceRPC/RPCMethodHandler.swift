import MarketplaceProtos

/// Decodes a method's request from the payload of a ttrpc Request.
public struct ProtoDeserializer<Message: ProtoMessage>: Sendable {
    public init() {}

    public func deserialize(_ bytes: [UInt8]) throws(ProtoDecodingError) -> Message {
        try Message(serializedBytes: bytes)
    }
}

/// Encodes a method's response for the payload of a ttrpc Response.
public struct ProtoSerializer<Message: ProtoMessage>: Sendable {
    public init() {}

    public func serialize(_ message: Message) -> [UInt8] {
        message.serializedBytes()
    }
}

/// The three parts of a method, which the server's executor runs in order:
/// `deserialize`, then (after the interceptor) `handle`, then `serialize`.
public protocol RPCMethodHandler: Sendable {
    associatedtype Request: ProtoMessage
    associatedtype Response: ProtoMessage

    func deserialize(_ payload: [UInt8]) throws(ProtoDecodingError) -> Request
    func handle(_ request: Request, context: RPCContext) async throws -> Response
    func serialize(_ response: Response) -> [UInt8]
}

/// A unary method: one request, one response.
public struct UnaryMethodHandler<Request: ProtoMessage, Response: ProtoMessage>: RPCMethodHandler {
    public let deserializer: ProtoDeserializer<Request>
    public let serializer: ProtoSerializer<Response>
    public let handler: @Sendable (Request, RPCContext) async throws -> Response

    public init(
        deserializer: ProtoDeserializer<Request>, serializer: ProtoSerializer<Response>,
        handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        self.deserializer = deserializer
        self.serializer = serializer
        self.handler = handler
    }

    public func deserialize(_ payload: [UInt8]) throws(ProtoDecodingError) -> Request {
        try deserializer.deserialize(payload)
    }

    public func handle(_ request: Request, context: RPCContext) async throws -> Response {
        try await handler(request, context)
    }

    public func serialize(_ response: Response) -> [UInt8] {
        serializer.serialize(response)
    }
}
