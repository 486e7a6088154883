import Logging
import Synchronization
import MarketplaceProtos
import MarketplaceRPC
import NIOCore

/// Runs one call: owns the order of things. Envelope, routing, metadata,
/// deadline, handler, error mapping, encoding: whatever happens, the result is
/// a response for the call's stream id, never a thrown error.
struct ServerRPCExecutor: Sendable {
    let router: RPCRouter
    /// Converts errors other than `RPCError` (e.g. domain errors) to a status; nil
    /// means unexpected, answered as INTERNAL with the cause logged, not sent.
    let errorMapper: @Sendable (any Error) -> RPCError?
    let logger: Logger

    /// A decoded request ready to run.
    struct Call: Sendable {
        let method: RPCRouter.Method
        let payload: ByteBuffer
        let context: RPCContext
    }

    /// Decodes the envelope and finds the handler; fails with the status to answer.
    func prepare(body: ByteBuffer, streamID: UInt32, peer: PeerCredentials) -> Result<Call, RPCError> {
        let request: TTRPCRequest
        do {
            request = try body.withUnsafeReadableBytes { try TTRPCRequest(serializedBytes: $0) }
        } catch {
            return .failure(RPCError(.invalidArgument, "frame body is not a valid ttrpc Request: \(error)"))
        }
        guard let method = router.method(service: request.service, method: request.method) else {
            let service = Self.shortened(request.service), name = Self.shortened(request.method)
            if router.hasService(request.service) {
                return .failure(RPCError(.unimplemented, "unknown method \(name) of service \(service)"))
            }
            return .failure(RPCError(.unimplemented, "unknown service \(request.service.isEmpty ? "\"\"" : service)"))
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
        var payload = ByteBuffer()
        payload.writeBytes(request.payload)
        return .success(Call(method: method, payload: payload, context: context))
    }

    /// A name the peer sent, cut for an error message: an answer never echoes a
    /// huge input back (a 4 MiB name would otherwise make a 4 MiB answer).
    static func shortened(_ name: String, limit: Int = 256) -> String {
        guard name.utf8.count > limit else { return name }
        return "\(name.prefix(limit))... (\(name.utf8.count) bytes)"
    }

    /// Runs the handler within the call's deadline and maps its outcome to a status.
    func run(_ call: Call) async -> Result<[UInt8], RPCError> {
        do {
            if let deadline = call.context.deadline {
                return .success(try await withDeadline(deadline) {
                    try await call.method(call.payload, context: call.context)
                })
            }
            return .success(try await call.method(call.payload, context: call.context))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            if let mapped = errorMapper(error) { return .failure(mapped) }
            call.context.logger.error("call failed unexpectedly", metadata: ["error": "\(String(reflecting: error))"])
            return .failure(RPCError(.internal, "internal error"))
        }
    }

    /// Answers DEADLINE_EXCEEDED as soon as the deadline passes, without waiting
    /// for a handler that does not react to cancellation. The handler's work may
    /// still complete (as in gRPC, a deadline does not undo a write).
    private func withDeadline(
        _ deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> [UInt8]
    ) async throws -> [UInt8] {
        let outcome = OnceResult<[UInt8]>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.set(continuation)
            let work = Task {
                do { outcome.resume(.success(try await body())) } catch { outcome.resume(.failure(error)) }
            }
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if outcome.resume(.failure(RPCError(.deadlineExceeded, "deadline exceeded before the call completed"))) {
                    work.cancel()
                }
            }
        }
    }
}

/// A continuation resumed by whichever of several racers finishes first.
private final class OnceResult<T: Sendable>: Sendable {
    private let state = Mutex<(CheckedContinuation<T, any Error>?, Result<T, any Error>?)>((nil, nil))

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let result = state.1 { return result }
            state.0 = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Resumes the waiter if nobody has; returns whether this call did.
    @discardableResult
    func resume(_ result: Result<T, any Error>) -> Bool {
        let (continuation, first): (CheckedContinuation<T, any Error>?, Bool) = state.withLock { state in
            guard state.1 == nil else { return (nil, false) }
            state.1 = result
            let c = state.0
            state.0 = nil
            return (c, true)
        }
        continuation?.resume(with: result)
        return first
    }
}
