import MarketplaceProtos
import NIOCore

/// Encoding of the ttrpc envelope around a method's payload.
public enum Envelope {
    /// A response frame for `streamID`: OK with `payload`, or the error's status.
    ///
    /// The `ttrpc.Response` is written straight into the frame: the same bytes
    /// as encoding a `TTRPCResponse` (a test holds them equal), without the C
    /// struct tree, the intermediate array and its copy, on every call.
    public static func responseFrame(
        streamID: UInt32, result: Result<[UInt8], RPCError>, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        switch result {
        case .success(let payload):
            // status = Status{} (code 0: no fields), payload when not empty.
            let payloadField = payload.isEmpty ? 0 : 1 + varintSize(UInt64(payload.count)) + payload.count
            let bodyLength = 2 + payloadField
            var buffer = allocator.buffer(capacity: FrameHeader.size + bodyLength)
            buffer.writeResponseHeader(streamID: streamID, bodyLength: bodyLength)
            buffer.writeInteger(UInt8(0x0A))  // field 1 (status), length-delimited
            buffer.writeInteger(UInt8(0))
            if !payload.isEmpty {
                buffer.writeInteger(UInt8(0x12))  // field 2 (payload), length-delimited
                buffer.writeVarint(UInt64(payload.count))
                buffer.writeBytes(payload)
            }
            return buffer
        case .failure(let error):
            // int32 code: negative values are sign-extended to 10 bytes, as protobuf does.
            let code = UInt64(bitPattern: Int64(error.code.rawValue))
            let message = error.message.utf8
            let codeField = code == 0 ? 0 : 1 + varintSize(code)
            let messageField = message.isEmpty ? 0 : 1 + varintSize(UInt64(message.count)) + message.count
            let statusLength = codeField + messageField
            let bodyLength = 1 + varintSize(UInt64(statusLength)) + statusLength
            var buffer = allocator.buffer(capacity: FrameHeader.size + bodyLength)
            buffer.writeResponseHeader(streamID: streamID, bodyLength: bodyLength)
            buffer.writeInteger(UInt8(0x0A))  // field 1 (status)
            buffer.writeVarint(UInt64(statusLength))
            if code != 0 {
                buffer.writeInteger(UInt8(0x08))  // Status.code, varint
                buffer.writeVarint(code)
            }
            if !message.isEmpty {
                buffer.writeInteger(UInt8(0x12))  // Status.message, length-delimited
                buffer.writeVarint(UInt64(message.count))
                buffer.writeBytes(message)
            }
            return buffer
        }
    }

    /// The body size of the OK response frame that carries `payloadCount` bytes
    /// (what `responseFrame` writes after the header).
    public static func responseBodySize(payloadCount: Int) -> Int {
        2 + (payloadCount == 0 ? 0 : 1 + varintSize(UInt64(payloadCount)) + payloadCount)
    }

    /// The bytes of `value` as a protobuf varint.
    static func varintSize(_ value: UInt64) -> Int {
        var value = value
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
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
        let details = status.details.map { RPCError.Detail(typeURL: $0.typeUrl, value: $0.value) }
        return .failure(RPCError(StatusCode(rawValue: status.code), status.message, details: details, cause: nil))
    }
}

extension ByteBuffer {
    fileprivate mutating func writeResponseHeader(streamID: UInt32, bodyLength: Int) {
        writeInteger(UInt32(bodyLength), endianness: .big)
        writeInteger(streamID, endianness: .big)
        writeInteger(FrameType.response.rawValue)
        writeInteger(UInt8(0))
    }

    fileprivate mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }
}
