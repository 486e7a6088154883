import Logging
import MarketplaceProtos
import MarketplaceRPC
import NIOCore

/// Runs one call: the one owner of the call order. Envelope and routing
/// (`prepare`), then, in the call's task: decode the request, authorize it
/// (the router's interceptor), handle it, encode the response, check its size
/// against the frame limit, all within the call's deadline. Whatever happens,
/// the outcome is one answer for the call's stream id, never a thrown error.
struct ServerRPCExecutor: Sendable {
    let router: RPCRouter
    /// Converts errors other than `RPCError` (e.g. domain errors) to a status; nil
    /// means unexpected, answered as INTERNAL with the cause logged, not sent.
    let errorMapper: @Sendable (any Error) -> RPCError?
    let logger: Logger
    /// The largest frame body the server writes (the peer's read limit).
    let maxFrameBodySize: Int

    init(
        router: RPCRouter, errorMapper: @escaping @Sendable (any Error) -> RPCError?, logger: Logger,
        maxFrameBodySize: Int = FrameHeader.maxBodySize
    ) {
        self.router = router
        self.errorMapper = errorMapper
        self.logger = logger
        self.maxFrameBodySize = maxFrameBodySize
    }

    /// A routed request ready to run.
    struct Call: Sendable {
        let method: RPCRouter.Method
        let payload: [UInt8]
        let context: RPCContext
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
        guard let method = router.method(service: request.service, method: request.method) else {
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
        return .success(Call(method: method, payload: request.payload, context: context))
    }

    /// A name the peer sent, cut for an error message: an answer never echoes a
    /// huge input back (a 4 MiB name would otherwise make a 4 MiB answer).
    static func shortened(_ name: String, limit: Int = 256) -> String {
        guard name.utf8.count > limit else { return name }
        // Cut by bytes, not characters: one character may be megabytes long.
        return "\(String(decoding: name.utf8.prefix(limit), as: UTF8.self))... (\(name.utf8.count) bytes)"
    }

    /// Runs the call and gives its answer to `answer`, once.
    ///
    /// With a deadline, the call and a timer run as the two children of a task
    /// group (so both stay on the caller's task executor, the connection's
    /// event loop): whichever finishes first answers and the other is
    /// cancelled. The timer is the loop's (`LoopTimer`), removed when
    /// cancelled, so it ends with its call and holds nothing after it. A handler that ignores cancellation is still answered
    /// DEADLINE_EXCEEDED on time; `run` returns when it has stopped (its work
    /// may complete: as in gRPC, a deadline does not undo a write).
    func run(_ call: Call, on loop: any EventLoop, answer: (Result<[UInt8], RPCError>) -> Void) async {
        guard let deadline = call.context.deadline else {
            answer(await outcome(call))
            return
        }
        await withTaskGroup(of: Result<[UInt8], RPCError>?.self) { group in
            group.addTask { await outcome(call) }
            group.addTask {
                // Cancelled: the call ended first, or its connection closed.
                guard await LoopTimer.sleep(until: deadline, on: loop) else { return nil }
                return .failure(RPCError(.deadlineExceeded, "deadline exceeded before the call completed"))
            }
            while let next = await group.next() {
                guard let result = next else { continue }
                group.cancelAll()
                answer(result)
                return
            }
        }
    }

    /// Decode, authorize, handle, encode, check the size; errors mapped to a status.
    private func outcome(_ call: Call) async -> Result<[UInt8], RPCError> {
        do {
            let payload = try await execute(call.method.handler, payload: call.payload, context: call.context)
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

    /// The steps of one method, in order.
    private func execute<Handler: RPCMethodHandler>(
        _ handler: Handler, payload: [UInt8], context: RPCContext
    ) async throws -> [UInt8] {
        var context = context
        let request: Handler.Request
        do {
            request = try handler.deserialize(payload)
        } catch {
            throw RPCError(
                .invalidArgument, "\(context.service)/\(context.method): request payload does not decode: \(error)")
        }
        try await router.interceptor?.intercept(request: request, context: &context)
        let response = try await handler.handle(request, context: context)
        return handler.serialize(response)
    }

    /// An error whose message keeps its answer far under the frame limit.
    private func capped(_ error: RPCError) -> RPCError {
        let limit = 16 << 10
        guard error.message.utf8.count > limit else { return error }
        return RPCError(error.code, Self.shortened(error.message, limit: limit))
    }
}
