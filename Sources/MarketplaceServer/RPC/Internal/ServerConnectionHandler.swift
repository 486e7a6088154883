import Logging
import MarketplaceProtos
import MarketplaceRPC
import NIOCore

/// One accepted connection: frames in, calls dispatched, responses out.
///
/// Runs on the connection's event loop. Each call runs as a task whose
/// executor is that same loop (`EventLoopTaskExecutor`), started at once on
/// the loop's thread (`Task.immediate`): a call that never suspends (Health,
/// a call the interceptor refuses without reading) is answered before its
/// frame's read returns, with no job queued at all; storage and hashing run
/// on their own threads and the task resumes on the loop when they answer,
/// so the loop never waits on the disk or a hash.
///
/// Backpressure, never refusal: at the in-flight limit the connection stops
/// reading its socket (requests already read wait their turn, in order) and
/// resumes as calls finish; it also stops while responses pile up unread.
/// A frame, once its first byte arrived, must be complete within the frame
/// timeout (time the server itself stops reading does not count), and the
/// bytes of partly received frames count against a budget shared by every
/// connection. When the connection closes, its calls still running are
/// cancelled.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let executor: ServerRPCExecutor
    private let configuration: RPCServerConfiguration
    private let peer: PeerCredentials
    private let logger: Logger
    private let partialFrames: PartialFrameBudget
    private let processor: NIOSingleStepByteToMessageProcessor<FrameDecoder>

    private var skippingOversizedBody = false
    private var draining = false
    private var readDeferred = false
    private var lastActivity = NIODeadline.now()
    private var context: ChannelHandlerContext?

    /// Calls running now (a peer may reuse stream ids, so they are not the
    /// key): cancelled when the connection closes.
    private var calls = CallSlots()
    /// Calls running now (each holds a slot from its start to its answer).
    private var inFlight: Int { calls.count }
    /// Requests read while the in-flight limit was reached, in arrival order.
    private var waitingFrames = CircularBuffer<Frame>()
    /// Frames completed so far, to tell a new partial frame from the same one.
    private var framesCompleted = 0
    /// Closes the connection if the frame in progress is not completed in time.
    private var frameTimer: Scheduled<Void>?
    /// Bytes of the partial frame this connection holds against the budget.
    private var heldPartialBytes = 0

    init(
        executor: ServerRPCExecutor, configuration: RPCServerConfiguration, peer: PeerCredentials,
        partialFrames: PartialFrameBudget, logger: Logger
    ) {
        self.executor = executor
        self.configuration = configuration
        self.peer = peer
        self.partialFrames = partialFrames
        self.logger = logger
        self.processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maxBodySize: configuration.maxFrameBodySize))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        endConnection()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        let completedBefore = framesCompleted
        let buffer = unwrapInboundIn(data)
        do {
            try processor.process(buffer: buffer) { event in
                self.handle(event, context: context)
            }
        } catch {
            logger.warning("closing connection: cannot frame input", metadata: ["error": "\(error)"])
            flushAndClose(context)
            return
        }
        trackPartialFrame(restarted: framesCompleted != completedBefore, context: context)
    }

    /// Accounts the bytes of the frame in progress against the shared budget
    /// and keeps its deadline: set when its first byte arrives, not moved by
    /// later bytes of the same frame.
    private func trackPartialFrame(restarted: Bool, context: ChannelHandlerContext) {
        let held = processor.unprocessedBytes
        if held > heldPartialBytes {
            guard partialFrames.acquire(held - heldPartialBytes) else {
                logger.warning(
                    "closing connection: partly received frames on all connections would exceed their budget",
                    metadata: ["held_here": "\(held)", "budget": "\(partialFrames.limit)"])
                flushAndClose(context)
                return
            }
            heldPartialBytes = held
        } else if held < heldPartialBytes {
            partialFrames.release(heldPartialBytes - held)
            heldPartialBytes = held
        }
        if !(skippingOversizedBody || held > 0) {
            frameTimer?.cancel()
            frameTimer = nil
        } else if frameTimer == nil || restarted {
            armFrameTimer(context)
        }
    }

    private func armFrameTimer(_ context: ChannelHandlerContext) {
        frameTimer?.cancel()
        let timeout = configuration.partialFrameTimeout
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        frameTimer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.frameTimer = nil
            // The server stopped reading (backpressure): not the peer's delay.
            // The frame gets a new deadline when reading resumes.
            guard !handler.readDeferred else { return }
            handler.logger.notice(
                "closing connection: a frame was not completed within \(timeout.nanoseconds / 1_000_000) ms of its first byte")
            handler.flushAndClose(context)
        }
    }

    private func handle(_ event: FrameDecoder.Event, context: ChannelHandlerContext) {
        switch event {
        case .oversized(let header):
            skippingOversizedBody = true
            logger.notice("refusing oversized frame", metadata: ["rpc.stream": "\(header.streamID)", "length": "\(header.length)"])
            refuse(streamID: header.streamID, RPCError(
                .resourceExhausted,
                "frame body of \(header.length) bytes exceeds the limit of \(configuration.maxFrameBodySize) bytes"),
                requestBytes: Int(header.length), context: context)
        case .skipped(let remaining):
            skippingOversizedBody = remaining > 0
            if remaining == 0 { framesCompleted += 1 }
        case .frame(let frame):
            framesCompleted += 1
            if draining || (canStartCall(context) && waitingFrames.isEmpty) {
                handle(frame, context: context)
            } else {
                // At the limit, or answers pile up unread: the call waits for
                // a place; reading stops meanwhile.
                waitingFrames.append(frame)
            }
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        let streamID = frame.header.streamID
        guard frame.header.type == .request else {
            // As ttrpc: frames of other types are ignored for forward compatibility.
            logger.debug("ignoring frame of type \(frame.header.type.rawValue)", metadata: ["rpc.stream": "\(streamID)"])
            return
        }
        let requestBytes = frame.body.readableBytes
        guard streamID % 2 == 1 else {
            refuse(streamID: streamID, RPCError(
                .invalidArgument, "stream id \(streamID) is even; clients must use odd stream ids"),
                requestBytes: requestBytes, body: frame.body, context: context)
            return
        }
        guard !draining else {
            refuse(streamID: streamID, RPCError(.unavailable, "server is shutting down"),
                   requestBytes: requestBytes, body: frame.body, context: context)
            return
        }
        let call: ServerRPCExecutor.Call
        switch executor.prepare(body: frame.body, streamID: streamID, peer: peer) {
        case .failure(let refusal):
            configuration.callObserver.refused(
                service: refusal.service, method: refusal.method, streamID: streamID, peer: peer, error: refusal.error,
                requestBytes: requestBytes, logger: logger)
            respond(streamID: streamID, .failure(refusal.error), context: context)
            return
        case .success(let prepared):
            call = prepared
        }
        let id = calls.reserve()
        let executor = self.executor
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        // The call's task runs on this connection's loop (no hop to the
        // cooperative pool and back), started right here, until it first
        // awaits; it yields the loop whenever it awaits. It may have finished
        // (answered, its place freed, maybe reused) by the time `Task.immediate`
        // returns: `record` then ignores the stale key. Otherwise the handle is
        // recorded before the loop runs anything else, in time for a close to
        // cancel it.
        let preferred = taskExecutor(loop)
        let observer = configuration.callObserver
        let task: Task<Void, Never>
        if let deadline = call.context.deadline {
            task = Task.immediate(executorPreference: preferred) {
                await ServerConnectionHandler.run(
                    call, until: deadline, id: id, executor: executor, observer: observer, requestBytes: requestBytes,
                    loop: loop, bound: bound)
            }
        } else {
            task = Task.immediate(executorPreference: preferred) {
                await ServerConnectionHandler.run(
                    call, id: id, executor: executor, observer: observer, requestBytes: requestBytes, loop: loop, bound: bound)
            }
        }
        calls.record(task, for: id)
    }

    /// Answers a request refused before routing, with its own call line (see
    /// `CallObserver.refused`); `body`, when read, names the method in that line.
    private func refuse(
        streamID: UInt32, _ error: RPCError, requestBytes: Int, body: ByteBuffer? = nil, context: ChannelHandlerContext
    ) {
        let request = body.flatMap { body in try? body.withUnsafeReadableBytes { try TTRPCRequest(serializedBytes: $0) } }
        configuration.callObserver.refused(
            service: request?.service, method: request?.method, streamID: streamID, peer: peer, error: error,
            requestBytes: requestBytes, logger: logger)
        respond(streamID: streamID, .failure(error), context: context)
    }

    /// The body of the task of a call without a deadline: the answer is the
    /// outcome (observed: the per-call log line and metrics), answered and
    /// finished in one step on the loop (the task runs there: no closure, no
    /// hop). Small frames on purpose: an unobserved call skips the observer's
    /// frame, and the deadline path is a function of its own, so that the
    /// call's frames fit the task's first allocator slab (no malloc per call).
    private nonisolated(nonsending) static func run(
        _ call: ServerRPCExecutor.Call, id: CallSlots.Key, executor: ServerRPCExecutor, observer: CallObserver,
        requestBytes: Int, loop: any EventLoop, bound: NIOLoopBound<(ServerConnectionHandler, ChannelHandlerContext)>
    ) async {
        let result = observer.watches(call.context)
            ? await observer.observe(call.context, method: call.route.metrics, requestBytes: requestBytes) {
                await executor.outcome(call, identity: $0)
            }
            : await executor.outcome(call, identity: nil)
        let streamID = call.context.streamID
        if loop.inEventLoop {
            let (handler, context) = bound.value
            handler.answerAndFinish(id, streamID: streamID, result, context: context)
        } else {
            loop.execute {
                let (handler, context) = bound.value
                handler.answerAndFinish(id, streamID: streamID, result, context: context)
            }
        }
    }

    /// The body of the task of a call with a deadline: answered by its outcome
    /// or by its deadline, whichever comes first (`ServerRPCExecutor.run`),
    /// observed, then the connection is told it finished.
    private nonisolated(nonsending) static func run(
        _ call: ServerRPCExecutor.Call, until deadline: ContinuousClock.Instant, id: CallSlots.Key,
        executor: ServerRPCExecutor, observer: CallObserver, requestBytes: Int, loop: any EventLoop,
        bound: NIOLoopBound<(ServerConnectionHandler, ChannelHandlerContext)>
    ) async {
        let streamID = call.context.streamID
        _ = await observer.observe(call.context, method: call.route.metrics, requestBytes: requestBytes) {
            await executor.run(call, until: deadline, on: loop, identity: $0) {
                // The deadline passed first: the call's task is cancelled.
                onLoop(loop, bound) { handler, _ in handler.calls.task(for: id)?.cancel() }
            } answer: { result in
                onLoop(loop, bound) { handler, context in
                    if context.channel.isActive { handler.respond(streamID: streamID, result, context: context) }
                }
            }
        }
        onLoop(loop, bound) { handler, context in handler.callFinished(id, context: context) }
    }

    private func answerAndFinish(
        _ id: CallSlots.Key, streamID: UInt32, _ result: Result<[UInt8], RPCError>, context: ChannelHandlerContext
    ) {
        if context.channel.isActive { respond(streamID: streamID, result, context: context) }
        callFinished(id, context: context)
    }

    private static func onLoop(
        _ loop: any EventLoop, _ bound: NIOLoopBound<(ServerConnectionHandler, ChannelHandlerContext)>,
        _ body: @escaping @Sendable (ServerConnectionHandler, ChannelHandlerContext) -> Void
    ) {
        if loop.inEventLoop {
            let (handler, context) = bound.value
            body(handler, context)
        } else {
            loop.execute {
                let (handler, context) = bound.value
                body(handler, context)
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

    private func callFinished(_ id: CallSlots.Key, context: ChannelHandlerContext) {
        calls.remove(id)
        lastActivity = .now()
        guard context.channel.isActive else { return }
        startWaitingCalls(context)
        if draining && inFlight == 0 {
            flushAndClose(context)
        } else {
            resumeReadingIfPossible(context)
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
        if !context.channel.isWritable {
            logger.notice("closing connection: peer does not read its responses")
            flushAndClose(context)
        } else if inFlight == 0, waitingFrames.isEmpty, frameTimer == nil,
                  NIODeadline.now() - lastActivity >= configuration.idleConnectionTimeout {
            logger.debug("closing idle connection")
            flushAndClose(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endConnection()
        context.fireChannelInactive()
    }

    /// The connection is gone: cancel its calls, give back its budget.
    private func endConnection() {
        calls.cancelAll()
        waitingFrames.removeAll()
        frameTimer?.cancel()
        frameTimer = nil
        if heldPartialBytes > 0 {
            partialFrames.release(heldPartialBytes)
            heldPartialBytes = 0
        }
    }

    // MARK: Backpressure: stop reading while the in-flight limit is reached or
    // responses pile up unread; resume when calls finish or the peer reads.

    /// Whether a call may start now: a place is free and the peer reads its
    /// answers. A read can bring in hundreds of small requests at once; while
    /// the connection is not writable (answers over `maxPendingResponseBytes`
    /// wait unread) they wait, so the answers a peer that reads nothing can
    /// make the server hold stay bounded by the in-flight limit.
    private func canStartCall(_ context: ChannelHandlerContext) -> Bool {
        inFlight < configuration.maxConcurrentCallsPerConnection && context.channel.isWritable
    }

    /// Whether `startWaitingCalls` is running (further up this thread's stack).
    private var startingWaitingCalls = false

    /// The requests that waited for a place go first, in order. A call started
    /// here may finish before `handle` returns (it never suspended) and ask for
    /// the next one: that request is taken by this loop, not by a nested call,
    /// so a read's worth of waiting requests never deepens the stack.
    private func startWaitingCalls(_ context: ChannelHandlerContext) {
        guard !startingWaitingCalls else { return }
        startingWaitingCalls = true
        defer { startingWaitingCalls = false }
        while !draining, canStartCall(context), let next = waitingFrames.popFirst() {
            handle(next, context: context)
        }
    }

    private func canRead(_ context: ChannelHandlerContext) -> Bool {
        canStartCall(context) && waitingFrames.isEmpty
    }

    func read(context: ChannelHandlerContext) {
        if canRead(context) {
            context.read()
        } else {
            readDeferred = true
        }
    }

    private func resumeReadingIfPossible(_ context: ChannelHandlerContext) {
        guard readDeferred, canRead(context) else { return }
        readDeferred = false
        // A frame whose deadline passed while the server was not reading gets
        // a new one from now.
        if frameTimer == nil, skippingOversizedBody || processor.unprocessedBytes > 0 {
            armFrameTimer(context)
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            startWaitingCalls(context)
            resumeReadingIfPossible(context)
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Shutdown

    /// Refuses new calls and closes the connection once in-flight calls are answered.
    func startDraining() {
        guard let context, !draining else { return }
        draining = true
        // Requests waiting for a place are refused now (UNAVAILABLE).
        while let next = waitingFrames.popFirst() {
            handle(next, context: context)
        }
        if inFlight == 0 { flushAndClose(context) }
    }
}
