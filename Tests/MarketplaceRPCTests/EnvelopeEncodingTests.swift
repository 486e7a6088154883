import MarketplaceProtos
import MarketplaceRPC
import NIOCore
import Testing

/// `Envelope.responseFrame` writes the `ttrpc.Response` by hand: it must be
/// byte for byte what encoding a `TTRPCResponse` gives, and decode back.
@Suite struct EnvelopeEncodingTests {
    static let results: [Result<[UInt8], RPCError>] = [
        .success([]),
        .success([0x08, 0x01, 0x12, 0x05, 0x30, 0x2e, 0x31, 0x2e, 0x30]),
        .success([UInt8](repeating: 0xAB, count: 127)),
        .success([UInt8](repeating: 0xCD, count: 128)),
        .success([UInt8](repeating: 0xEF, count: 70_000)),
        .failure(RPCError(.notFound, "account_user AUSR-0000-0000-0001: not found")),
        .failure(RPCError(.invalidArgument, "")),
        .failure(RPCError(.internal, String(repeating: "é", count: 200))),
        .failure(RPCError(StatusCode(rawValue: -3), "negative")),
        .failure(RPCError(StatusCode(rawValue: 0), "ok with a message")),
        .failure(RPCError(StatusCode(rawValue: 0), "")),
    ]

    @Test(arguments: 0..<results.count)
    func sameBytesAsTheGeneratedEncoder(_ index: Int) throws {
        let result = Self.results[index]
        let frame = Envelope.responseFrame(streamID: 77, result: result, allocator: ByteBufferAllocator())
        var expected = TTRPCResponse()
        switch result {
        case .success(let payload):
            expected.status = TTRPCStatus(code: 0)
            expected.payload = payload
        case .failure(let error):
            expected.status = TTRPCStatus(code: error.code.rawValue, message: error.message)
        }
        var reference = ByteBufferAllocator().buffer(capacity: 0)
        reference.writeFrame(streamID: 77, type: .response, body: expected.serializedBytes())
        #expect(frame == reference)

        var body = frame
        body.moveReaderIndex(forwardBy: FrameHeader.size)
        switch (Envelope.decodeResponse(body), result) {
        case (.success(let got), .success(let sent)):
            #expect(got == sent)
        case (.failure(let got), .failure(let sent)) where sent.code.rawValue != 0:
            #expect(got.code == sent.code)
            #expect(got.message == sent.message)
        case (.success(let got), .failure(let sent)):
            #expect(sent.code.rawValue == 0 && got.isEmpty)
        default:
            Issue.record("decoded \(Envelope.decodeResponse(body)) for \(result)")
        }
    }
}
