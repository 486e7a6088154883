import Logging
import MarketplaceRPC
import NIOCore

/// One accepted connection: frames in, calls dispatched, responses out.
///
/// Runs on the connection's event loop. Each call runs as a task whose
/// executor is that same loop (`EventLoopTaskExecutor`), so a cheap call costs
/// no thread hop; storage and hashing run on their own threads and the task
/// resumes on the loop when they answer, so the loop never waits on the disk
/// or a hash.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let executor: ServerRPCExecutor
    private let configuration: RPCServerConfiguration
    private let peer: PeerCredentials
    private let logger: Logger
    private let processor: NIOSingleStepByteToMessageProcessor<FrameDecoder>

    private var skippingOversizedBody = false
    private var inFlight = 0
    private var draining = false
    private var readDeferred = false
    private var lastActivity = NIODeadline.now()
    private var context: ChannelHandlerContext?

    init(executor: ServerRPCExecutor, configuration: RPCServerConfiguration, peer: PeerCredentials, logger: Logger) {
        self.executor = executor
        self.configuration = configuration
        self.peer = peer
        self.logger = logger
        self.processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maxBodySize: configuration.maxFrameBodySize))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        let buffer = unwrapInboundIn(data)
        do {
            try processor.process(buffer: buffer) { event in
                self.handle(event, context: context)
            }
        } catch {
            logger.warning("closing connection: cannot frame input", metadata: ["error": "\(error)"])
            flushAndClose(context)
        }
    }

    private func handle(_ event: FrameDecoder.Event, context: ChannelHandlerContext) {
        switch event {
        case .oversized(let header):
            skippingOversizedBody = true
            logger.notice("refusing oversized frame", metadata: ["rpc.stream": "\(header.streamID)", "length": "\(header.length)"])
            respond(streamID: header.streamID, .failure(RPCError(
                .resourceExhausted,
                "frame body of \(header.length) bytes exceeds the limit of \(configuration.maxFrameBodySize) bytes")),
                context: context)
        case .skipped(let remaining):
            skippingOversizedBody = remaining > 0
        case .frame(let frame):
            handle(frame, context: context)
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        let streamID = frame.header.streamID
        guard frame.header.type == .request else {
            // As ttrpc: frames of other types are ignored for forward compatibility.
            logger.debug("ignoring frame of type \(frame.header.type.rawValue)", metadata: ["rpc.stream": "\(streamID)"])
            return
        }
        guard streamID % 2 == 1 else {
            respond(streamID: streamID, .failure(RPCError(
                .invalidArgument, "stream id \(streamID) is even; clients must use odd stream ids")), context: context)
            return
        }
        guard !draining else {
            respond(streamID: streamID, .failure(RPCError(.unavailable, "server is shutting down")), context: context)
            return
        }
        guard inFlight < configuration.maxConcurrentCallsPerConnection else {
            respond(streamID: streamID, .failure(RPCError(
                .resourceExhausted,
                "too many calls in flight on this connection (limit \(configuration.maxConcurrentCallsPerConnection))")),
                context: context)
            return
        }
        let call: ServerRPCExecutor.Call
        switch executor.prepare(body: frame.body, streamID: streamID, peer: peer) {
        case .failure(let error):
            respond(streamID: streamID, .failure(error), context: context)
            return
        case .success(let prepared):
            call = prepared
        }
        inFlight += 1
        let executor = self.executor
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        // The call's task runs on this connection's loop (no hop to the
        // cooperative pool and back); it yields the loop whenever it awaits.
        let observer = configuration.callObserver, requestBytes = frame.body.readableBytes
        Task(executorPreference: taskExecutor(loop)) {
            let result = await observer.observe(call.context, requestBytes: requestBytes) { await executor.run(call) }
            if loop.inEventLoop {
                let (handler, context) = bound.value
                handler.callFinished(streamID: streamID, result: result, context: context)
            } else {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.callFinished(streamID: streamID, result: result, context: context)
                }
            }
        }
    }

    private var loopExecutor: EventLoopTaskExecutor?

    private func taskExecutor(_ loop: any EventLoop) -> EventLoopTaskExecutor {
        if let loopExecutor { return loopExecutor }
        let created = EventLoopTaskExecutor(loop)
        loopExecutor = created
        return created
    }

    private func callFinished(streamID: UInt32, result: Result<[UInt8], RPCError>, context: ChannelHandlerContext) {
        inFlight -= 1
        lastActivity = .now()
        if context.channel.isActive {
            respond(streamID: streamID, result, context: context)
        }
        if draining && inFlight == 0 {
            flushAndClose(context)
        }
    }

    /// Closes the connection after flushing: responses are written at once but
    /// flushed once per loop turn, so a close must not discard one already
    /// written (a call that finished just before a shutdown drain).
    private func flushAndClose(_ context: ChannelHandlerContext) {
        context.flush()
        context.close(promise: nil)
    }

    /// Whether a flush is already scheduled for the responses written in this
    /// turn of the loop.
    private var flushScheduled = false

    /// Writes a response. The flush (one `write` syscall) is shared by every
    /// response written before the loop runs its next task: under load many
    /// calls finish in one turn of the loop; a lone call is flushed at once
    /// after the task that answered it.
    private func respond(streamID: UInt32, _ result: Result<[UInt8], RPCError>, context: ChannelHandlerContext) {
        let frame = Envelope.responseFrame(streamID: streamID, result: result, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(frame), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if skippingOversizedBody || processor.unprocessedBytes > 0 {
            logger.notice("closing connection: peer stopped in the middle of a frame")
            flushAndClose(context)
        } else if !context.channel.isWritable {
            logger.notice("closing connection: peer does not read its responses")
            flushAndClose(context)
        } else if inFlight == 0, NIODeadline.now() - lastActivity >= configuration.idleConnectionTimeout {
            logger.debug("closing idle connection")
            flushAndClose(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Backpressure: stop reading requests while responses pile up unread.

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readDeferred = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readDeferred {
            readDeferred = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Shutdown

    /// Refuses new calls and closes the connection once in-flight calls are answered.
    func startDraining() {
        guard let context, !draining else { return }
        draining = true
        if inFlight == 0 { flushAndClose(context) }
    }
}
