import MarketplaceRPC
import NIOCore

/// Writes calls as request frames with fresh odd stream ids and completes each
/// call's promise with the response carrying its id.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingCall
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let promise: EventLoopPromise<[UInt8]>
        let timeout: Scheduled<Void>?
    }

    private let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder())
    private var nextStreamID: UInt32 = 1
    private var waiting: [UInt32: Waiting] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let pending = unwrapOutboundIn(data)
        guard nextStreamID < UInt32.max - 2 else {
            pending.promise.fail(RPCError(.unavailable, "stream ids exhausted on this connection; reconnecting"))
            context.close(promise: nil)
            return
        }
        let streamID = nextStreamID
        nextStreamID += 2
        let call = pending.call
        var timeout: Scheduled<Void>?
        if let limit = call.timeout {
            let nanos = limit.components.seconds &* 1_000_000_000 &+ limit.components.attoseconds / 1_000_000_000
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            timeout = context.eventLoop.scheduleTask(in: .nanoseconds(max(nanos, 0))) {
                loopBound.value.fail(streamID, RPCError(.deadlineExceeded, "\(call.service)/\(call.method): no answer within \(limit)"))
            }
        }
        waiting[streamID] = Waiting(promise: pending.promise, timeout: timeout)
        let frame = Envelope.requestFrame(
            streamID: streamID, service: call.service, method: call.method, payload: call.payload,
            timeout: call.timeout, metadata: call.metadata, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try processor.process(buffer: unwrapInboundIn(data)) { event in
                switch event {
                case .frame(let frame):
                    guard frame.header.type == .response,
                          let entry = waiting.removeValue(forKey: frame.header.streamID)
                    else { return }
                    entry.timeout?.cancel()
                    switch Envelope.decodeResponse(frame.body) {
                    case .success(let payload): entry.promise.succeed(payload)
                    case .failure(let error): entry.promise.fail(error)
                    }
                case .oversized(let header):
                    // The answer will never be read (its body is skipped): fail
                    // the call now rather than at its deadline.
                    guard header.type == .response,
                          let entry = waiting.removeValue(forKey: header.streamID)
                    else { return }
                    entry.timeout?.cancel()
                    entry.promise.fail(RPCError(
                        .resourceExhausted,
                        "the server's answer of \(header.length) bytes exceeds the frame limit of \(FrameHeader.maxBodySize) bytes"))
                case .skipped:
                    break
                }
            }
        } catch {
            context.close(promise: nil)
        }
    }

    private func fail(_ streamID: UInt32, _ error: RPCError) {
        waiting.removeValue(forKey: streamID)?.promise.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let pending = waiting
        waiting.removeAll()
        for (_, entry) in pending {
            entry.timeout?.cancel()
            entry.promise.fail(RPCError(.unavailable, "connection to the server closed before it answered"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
