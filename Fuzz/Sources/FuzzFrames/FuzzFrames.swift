import FuzzSupport
import MarketplaceClient
import MarketplaceRPC
import NIOCore

/// Fuzz target: bytes from a peer -> FrameDecoder -> ttrpc envelope.
///
/// Input: byte 0 picks the size of the reads the stream arrives in (1...64
/// bytes, as a peer's writes may be split anywhere), byte 1 the body limit (the
/// real 4 MiB, or 64 bytes so that small inputs reach the oversized-body path);
/// the rest is the stream. Properties checked besides "no crash":
/// - framing does not depend on how the stream is split into reads;
/// - no frame body is larger than the limit or differs from its declared length;
/// - a decoded Request or Response re-encodes to bytes that decode to it again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 2, let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let chunk = Int(input[0] % 64) + 1
    let limit = input[1] & 1 == 0 ? FrameHeader.maxBodySize : 64
    let stream = Array(input[2...])

    let whole = frameEvents(stream, chunkSize: max(stream.count, 1), limit: limit)
    let split = frameEvents(stream, chunkSize: chunk, limit: limit)
    if whole != split { fuzzFailure("framing depends on read sizes: \(whole) vs \(split)") }
    for event in whole {
        guard case .frame(let frame) = event else { continue }
        if frame.body.readableBytes != Int(frame.header.length) || frame.body.readableBytes > limit {
            fuzzFailure("frame body of \(frame.body.readableBytes) bytes for declared \(frame.header.length)")
        }
        checkEnvelope(frame)
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfAsked(Seeds.frameInputs)
    return 0
}

/// What the decoder reports: frames and oversized headers (skip progress is
/// read-size dependent, so it is left out).
private enum Seen: Equatable, CustomStringConvertible {
    case frame(FrameHeader, [UInt8])
    case oversized(FrameHeader)

    var description: String {
        switch self {
        case .frame(let header, let body): "frame(\(header.streamID), \(body.count) bytes)"
        case .oversized(let header): "oversized(\(header.streamID), \(header.length))"
        }
    }
}

private func frameEvents(_ stream: [UInt8], chunkSize: Int, limit: Int) -> [FrameDecoder.Event] {
    let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maxBodySize: limit))
    var events: [FrameDecoder.Event] = []
    var offset = 0
    repeat {
        let end = min(offset + chunkSize, stream.count)
        var buffer = ByteBuffer()
        buffer.writeBytes(stream[offset..<end])
        do {
            try processor.process(buffer: buffer) { event in
                if case .skipped = event { return }
                events.append(event)
            }
        } catch {
            fuzzFailure("FrameDecoder threw \(error)")
        }
        offset = end
    } while offset < stream.count
    return events
}

private func checkEnvelope(_ frame: Frame) {
    let bytes = Array(frame.body.readableBytesView)
    switch frame.header.type {
    case .request:
        guard let request = try? TTRPCRequest(serializedBytes: bytes) else { return }
        var metadata = Metadata()
        for entry in request.metadata { metadata.add(entry.key, entry.value) }
        let timeout: Duration? = request.timeoutNano > 0 ? .nanoseconds(request.timeoutNano) : nil
        let again = Envelope.requestFrame(
            streamID: frame.header.streamID, service: request.service, method: request.method,
            payload: request.payload, timeout: timeout, metadata: metadata, allocator: ByteBufferAllocator())
        let body = Array(again.readableBytesView.dropFirst(FrameHeader.size))
        guard let decoded = try? TTRPCRequest(serializedBytes: body) else {
            fuzzFailure("re-encoded request does not decode")
        }
        if decoded.service != request.service || decoded.method != request.method || decoded.payload != request.payload
            || decoded.metadata.count != request.metadata.count
        {
            fuzzFailure("request changed when re-encoded")
        }
    case .response:
        let result = Envelope.decodeResponse(frame.body)
        let again = Envelope.responseFrame(streamID: frame.header.streamID, result: result, allocator: ByteBufferAllocator())
        var body = again
        body.moveReaderIndex(forwardBy: FrameHeader.size)
        switch (result, Envelope.decodeResponse(body)) {
        case (.success(let a), .success(let b)) where a == b: break
        case (.failure(let a), .failure(let b)) where a.code == b.code && a.message == b.message: break
        default: fuzzFailure("response changed when re-encoded")
        }
    default:
        break
    }
}
