import MarketplaceProtos
import NIOCore

/// Encoding of the ttrpc envelope around a method's payload.
public enum Envelope {
    /// A response frame for `streamID`: OK with `payload`, or the error's status.
    public static func responseFrame(
        streamID: UInt32, result: Result<[UInt8], RPCError>, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var response = TTRPCResponse()
        switch result {
        case .success(let payload):
            response.status = TTRPCStatus(code: 0)
            response.payload = payload
        case .failure(let error):
            response.status = TTRPCStatus(code: error.code.rawValue, message: error.message)
        }
        let body = response.serializedBytes()
        var buffer = allocator.buffer(capacity: FrameHeader.size + body.count)
        buffer.writeFrame(streamID: streamID, type: .response, body: body)
        return buffer
    }

    /// A request frame: the envelope for a call of `service/method`.
    public static func requestFrame(
        streamID: UInt32, service: String, method: String, payload: [UInt8],
        timeout: Duration?, metadata: Metadata, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var request = TTRPCRequest(service: service, method: method, payload: payload)
        if let timeout, timeout > .zero {
            let (seconds, attoseconds) = timeout.components
            request.timeoutNano = max(1, seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
        }
        request.metadata = metadata.map { TTRPCKeyValue(key: $0.key, value: $0.value) }
        let body = request.serializedBytes()
        var buffer = allocator.buffer(capacity: FrameHeader.size + body.count)
        buffer.writeFrame(streamID: streamID, type: .request, body: body)
        return buffer
    }

    /// Decodes a response body into the method's payload or the error it carries.
    public static func decodeResponse(_ body: ByteBuffer) -> Result<[UInt8], RPCError> {
        let response: TTRPCResponse
        do {
            response = try body.withUnsafeReadableBytes { try TTRPCResponse(serializedBytes: $0) }
        } catch {
            return .failure(RPCError(.internal, "malformed response envelope: \(error)"))
        }
        let status = response.status ?? TTRPCStatus()
        if status.code == 0 { return .success(response.payload) }
        return .failure(RPCError(StatusCode(rawValue: status.code), status.message))
    }
}
