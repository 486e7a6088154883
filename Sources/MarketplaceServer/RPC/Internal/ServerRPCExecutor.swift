import Logging
import MarketplaceProtos
import MarketplaceRPC
import NIOCore
import Synchronization

/// Runs one call: the one owner of the call order. Envelope and routing
/// (`prepare`), then, in the call's task: decode the request, authorize it
/// (the router's interceptor), handle it, encode the response, check its size
/// against the frame limit, all within the call's deadline. Whatever happens,
/// the outcome is one answer for the call's stream id, never a thrown error.
final class ServerRPCExecutor: Sendable {
    let router: RPCRouter
    /// Converts errors other than `RPCError` (e.g. domain errors) to a status; nil
    /// means unexpected, answered as INTERNAL with the cause logged, not sent.
    let errorMapper: @Sendable (any Error) -> RPCError?
    let logger: Logger
    /// The largest frame body the server writes (the peer's read limit).
    let maxFrameBodySize: Int

    /// The router's methods with what the server keeps per method (its
    /// metric handles), by service, then method: one lookup per call.
    private let routes: [String: [String: Route]]

    init(
        router: RPCRouter, errorMapper: @escaping @Sendable (any Error) -> RPCError?, logger: Logger,
        maxFrameBodySize: Int = FrameHeader.maxBodySize
    ) {
        self.router = router
        self.errorMapper = errorMapper
        self.logger = logger
        self.maxFrameBodySize = maxFrameBodySize
        var routes: [String: [String: Route]] = [:]
        for method in router.methods {
            routes[method.service, default: [:]][method.method] = Route(
                method: method, metrics: CallMetrics.Method(name: method.fullName),
                interceptor: router.interceptor?.bound(toService: method.service, method: method.method))
        }
        self.routes = routes
    }

    /// A registered method and what the server keeps for it, made at start:
    /// its metric handles and the router's interceptor bound to it. A class:
    /// each call holds its route by one reference.
    final class Route: Sendable {
        let method: RPCRouter.Method
        let metrics: CallMetrics.Method
        /// Used only for calls of `method`.
        let interceptor: (any RPCInterceptor)?

        init(method: RPCRouter.Method, metrics: CallMetrics.Method, interceptor: (any RPCInterceptor)?) {
            self.method = method
            self.metrics = metrics
            self.interceptor = interceptor
        }
    }

    /// A routed request ready to run. A class: the call is handed from step
    /// to step by reference, its context is copied once (for the interceptor).
    final class Call: Sendable {
        let route: Route
        let payload: [UInt8]
        let context: RPCContext

        init(route: Route, payload: [UInt8], context: RPCContext) {
            self.route = route
            self.payload = payload
            self.context = context
        }
    }

    /// A request answered before it was routed: the status to answer, and the
    /// service and method the peer named (nil when the envelope does not decode).
    struct Refusal: Error {
        let error: RPCError
        var service: String?
        var method: String?
    }

    /// Decodes the envelope and finds the handler; fails with the status to answer.
    func prepare(body: ByteBuffer, streamID: UInt32, peer: PeerCredentials) -> Result<Call, Refusal> {
        let request: TTRPCRequest
        do {
            request = try body.withUnsafeReadableBytes { try TTRPCRequest(serializedBytes: $0) }
        } catch {
            return .failure(Refusal(error: RPCError(.invalidArgument, "frame body is not a valid ttrpc Request: \(error)")))
        }
        guard let route = routes[request.service]?[request.method] else {
            let service = Self.shortened(request.service), name = Self.shortened(request.method)
            let error = router.hasService(request.service)
                ? RPCError(.unimplemented, "unknown method \(name) of service \(service)")
                : RPCError(.unimplemented, "unknown service \(request.service.isEmpty ? "\"\"" : service)")
            return .failure(Refusal(error: error, service: request.service, method: request.method))
        }
        var metadata = Metadata()
        for entry in request.metadata { metadata.add(entry.key, entry.value) }
        var deadline: ContinuousClock.Instant?
        if request.timeoutNano > 0 {
            deadline = ContinuousClock.now.advanced(by: .nanoseconds(request.timeoutNano))
        }
        let context = RPCContext(
            service: request.service, method: request.method, streamID: streamID, metadata: metadata,
            deadline: deadline, peer: peer, connectionLogger: logger)
        return .success(Call(route: route, payload: request.payload, context: context))
    }

    /// A name the peer sent, cut for an error message: an answer never echoes a
    /// huge input back (a 4 MiB name would otherwise make a 4 MiB answer).
    static func shortened(_ name: String, limit: Int = 256) -> String {
        guard name.utf8.count > limit else { return name }
        // Cut by bytes, not characters: one character may be megabytes long.
        return "\(String(decoding: name.utf8.prefix(limit), as: UTF8.self))... (\(name.utf8.count) bytes)"
    }

    /// Runs the call and gives its answer to `answer`, once; returns that answer.
    ///
    /// With a deadline, one timer on the connection's event loop (NIO's timer
    /// heap; no extra task, no task group): if it fires first it answers
    /// DEADLINE_EXCEEDED at once and calls `cancel` (which cancels the call's
    /// task), so a handler that ignores cancellation is still answered on time;
    /// if the call ends first, its timer is cancelled, removed from the loop at
    /// once, so nothing of the call is held until its deadline. `run` returns
    /// when the handler has stopped (its work may complete: as in gRPC, a
    /// deadline does not undo a write); its late result is dropped.
    /// A call without a deadline needs none of this: its answer is `outcome`.
    nonisolated(nonsending) func run(
        _ call: Call, until deadline: ContinuousClock.Instant, on loop: any EventLoop, identity: IdentityBox?,
        cancel: @escaping @Sendable () -> Void, answer: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void
    ) async -> Result<[UInt8], RPCError> {
        let once = AnswerOnce(answer)
        let timer = loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(until: deadline))) {
            if once.give(.failure(RPCError(.deadlineExceeded, "deadline exceeded before the call completed"))) {
                cancel()
            }
        }
        let result = await outcome(call, identity: identity)
        timer.cancel()
        _ = once.give(result)
        return once.given ?? result
    }

    /// The time left until `deadline` for the loop's timer, 0 once it passed.
    static func nanoseconds(until deadline: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = ContinuousClock.now.duration(to: deadline).components
        guard seconds >= 0 else { return 0 }
        guard seconds < 1_000_000_000 else { return 1_000_000_000 * 1_000_000_000 }  // ~31 years
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Decode, authorize, handle, encode (the method's `invoke`), check the
    /// size; errors mapped to a status: the whole of a call without a deadline.
    nonisolated(nonsending) func outcome(_ call: Call, identity: IdentityBox?) async -> Result<[UInt8], RPCError> {
        do {
            var context = call.context
            // Who the interceptor decided the caller is, even when it refused
            // the call (an inout is written back when it throws): for the log
            // line (no box when the line is not written).
            defer { identity?.caller = context.caller }
            let payload = try await call.route.method.invoke(call.payload, &context, call.route.interceptor)
            let size = Envelope.responseBodySize(payloadCount: payload.count)
            guard size <= maxFrameBodySize else {
                call.context.logger.warning(
                    "refusing an answer past the frame limit", metadata: ["bytes": "\(size)", "limit": "\(maxFrameBodySize)"])
                return .failure(RPCError(
                    .resourceExhausted,
                    "\(call.context.service)/\(call.context.method): the answer of \(size) bytes exceeds the frame limit of \(maxFrameBodySize) bytes; ask for less (a smaller page)"))
            }
            return .success(payload)
        } catch let error as RPCError {
            return .failure(capped(error))
        } catch is CancellationError where Task.isCancelled {
            return .failure(RPCError(.cancelled, "call cancelled"))
        } catch {
            if let mapped = errorMapper(error) { return .failure(capped(mapped)) }
            call.context.logger.error("call failed unexpectedly", metadata: ["error": "\(String(reflecting: error))"])
            return .failure(RPCError(.internal, "internal error"))
        }
    }

    /// An error whose message keeps its answer far under the frame limit.
    private func capped(_ error: RPCError) -> RPCError {
        let limit = 16 << 10
        guard error.message.utf8.count > limit else { return error }
        return RPCError(error.code, Self.shortened(error.message, limit: limit))
    }
}

/// The one answer of a call with a deadline: the first of the call's own
/// result and its timer's DEADLINE_EXCEEDED; the other is dropped.
private final class AnswerOnce: Sendable {
    private let answer: @Sendable (Result<[UInt8], RPCError>) -> Void
    private let state = Mutex<Result<[UInt8], RPCError>?>(nil)

    init(_ answer: @escaping @Sendable (Result<[UInt8], RPCError>) -> Void) {
        self.answer = answer
    }

    /// Gives `result` as the answer unless one was given; true if this one was.
    func give(_ result: Result<[UInt8], RPCError>) -> Bool {
        let first = state.withLock { state in
            if state != nil { return false }
            state = result
            return true
        }
        if first { answer(result) }
        return first
    }

    /// The answer given, if any.
    var given: Result<[UInt8], RPCError>? { state.withLock { $0 } }
}
