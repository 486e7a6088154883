import MarketplaceProtos
import MarketplaceRPC
import NIOCore
import NIOPosix
import Synchronization

/// A client of the service over its Unix socket.
///
/// One connection carries every call, concurrently; responses are matched by
/// stream id. The connection is opened on first use and opened again after it
/// drops (for example when the server restarts), so a client can live as long
/// as its process. Safe to share between tasks.
///
/// ```swift
/// let client = MarketplaceClient(socketPath: "/run/marketplace-users.sock")
/// let health = try await client.health.check()
/// ```
public final class MarketplaceClient: Sendable {
    /// The socket this client calls.
    public let socketPath: String
    /// Options merged into every call: metadata added before the call's own,
    /// timeout, wait-for-ready and retry policy used when the call sets none.
    public let defaultOptions: CallOptions
    /// Run around every call, the first outermost (see `ClientInterceptor`).
    public let interceptors: [any ClientInterceptor]
    private let group: any EventLoopGroup
    private let state = Mutex<ConnectionState>(.idle)

    private enum ConnectionState {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
        case closed
    }

    /// Creates a client; nothing is connected until the first call.
    public init(
        socketPath: String, defaultOptions: CallOptions = .init(), interceptors: [any ClientInterceptor] = [],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.socketPath = socketPath
        self.defaultOptions = defaultOptions
        self.interceptors = interceptors
        self.group = eventLoopGroup
    }

    /// Runs `body` with a client and closes the connection when it returns.
    public static func withClient<Result>(
        socketPath: String, defaultOptions: CallOptions = .init(), interceptors: [any ClientInterceptor] = [],
        _ body: (MarketplaceClient) async throws -> Result
    ) async throws -> Result {
        let client = MarketplaceClient(socketPath: socketPath, defaultOptions: defaultOptions, interceptors: interceptors)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// Calls a unary method: encodes `request`, waits for the answer, decodes it.
    ///
    /// - Parameter idempotency: from the contract (generated stubs pass it);
    ///   only `noSideEffects` and `idempotent` calls are retried.
    /// - Throws: `RPCError` with the server's status; `UNAVAILABLE` when the
    ///   socket cannot be reached or the connection drops mid-call (after the
    ///   retries an idempotent method gets); `DEADLINE_EXCEEDED` when the
    ///   timeout passes first; `CANCELLED` as soon as the calling task is
    ///   cancelled.
    public func unary<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String, request: Request, options: CallOptions = .init(),
        idempotency: Idempotency = .unknown
    ) async throws(RPCError) -> Response {
        let body = try await unary(
            service: service, method: method, payload: request.serializedBytes(), options: options,
            idempotency: idempotency)
        do {
            return try Response(serializedBytes: body)
        } catch {
            throw RPCError(.internal, "\(service)/\(method): response does not decode: \(error)", cause: error)
        }
    }

    /// Calls a unary method with an encoded request and returns the encoded
    /// answer: for generic tools (`marketplace-users call`) that know the
    /// messages only from the contract's descriptors. Same behaviour as the
    /// typed `unary`.
    public func unary(
        service: String, method: String, payload: [UInt8], options: CallOptions = .init(),
        idempotency: Idempotency = .unknown
    ) async throws(RPCError) -> [UInt8] {
        let start = ContinuousClock.now
        let call = ClientCall(
            service: service, method: method, idempotency: idempotency, payload: payload,
            options: options.merged(over: defaultOptions))
        return try await intercepted(call, from: interceptors[...], start: start).payload
    }

    private func intercepted(
        _ call: ClientCall, from chain: ArraySlice<any ClientInterceptor>, start: ContinuousClock.Instant
    ) async throws(RPCError) -> ClientResponse {
        guard let first = chain.first else { return try await perform(call, start: start) }
        let rest = chain.dropFirst()
        return try await first.intercept(call) { (next: ClientCall) async throws(RPCError) -> ClientResponse in
            try await self.intercepted(next, from: rest, start: start)
        }
    }

    /// Attempts, waits and retries of one call, within its deadline.
    private func perform(_ call: ClientCall, start: ContinuousClock.Instant) async throws(RPCError) -> ClientResponse {
        let name = "\(call.service)/\(call.method)"
        let deadline = call.options.timeout.map { start + $0 }
        let policy = call.options.retryPolicy ?? .standard
        var attempt = 1
        while true {
            do {
                let payload = try await attemptOnce(call, deadline: deadline)
                return ClientResponse(payload: payload, attempts: attempt)
            } catch where error.code == .unavailable && call.idempotency.allowsRetry
                && attempt < policy.maxAttempts && !isClosed {
                let delay = policy.delay(beforeRetry: attempt)
                if let deadline, ContinuousClock.now + delay >= deadline { throw error }
                try await Self.sleep(for: delay, name: name)
                attempt += 1
            }
        }
    }

    private func attemptOnce(_ call: ClientCall, deadline: ContinuousClock.Instant?) async throws(RPCError) -> [UInt8] {
        let name = "\(call.service)/\(call.method)"
        if Task.isCancelled { throw RPCError(.cancelled, "\(name): the calling task was cancelled") }
        let channel = try await readyConnection(waitForReady: call.options.waitForReady ?? false, deadline: deadline, name: name)
        var timeout: Duration?
        if let deadline {
            timeout = deadline - ContinuousClock.now
            if timeout! <= .zero {
                throw RPCError(.deadlineExceeded, "\(name): no answer within \(call.options.timeout ?? .zero)")
            }
        }
        let outbound = OutboundCall(
            service: call.service, method: call.method, payload: call.payload, timeout: timeout,
            metadata: call.options.metadata)
        return try await send(outbound, on: channel)
    }

    /// The connection; with `waitForReady`, waits for the socket to come back
    /// (retrying the connect with a short backoff) until the deadline.
    private func readyConnection(
        waitForReady: Bool, deadline: ContinuousClock.Instant?, name: String
    ) async throws(RPCError) -> any Channel {
        var wait = Duration.milliseconds(20)
        while true {
            do {
                return try await connection()
            } catch where waitForReady && error.code == .unavailable && !isClosed {
                var delay = wait
                if let deadline {
                    let left = deadline - ContinuousClock.now
                    if left <= .zero {
                        throw RPCError(
                            .deadlineExceeded, "\(name): the server at \(socketPath) was not ready before the deadline (waited for it: \(error.message))",
                            cause: error)
                    }
                    delay = min(delay, left)
                }
                try await Self.sleep(for: delay, name: name)
                wait = min(wait * 2, .milliseconds(500))
            }
        }
    }

    private var isClosed: Bool {
        state.withLock { if case .closed = $0 { true } else { false } }
    }

    private static func sleep(for delay: Duration, name: String) async throws(RPCError) {
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw RPCError(.cancelled, "\(name): the calling task was cancelled", cause: error)
        }
    }

    /// Closes the connection; later calls fail with `UNAVAILABLE`.
    public func close() async {
        let previous = state.withLock { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .connected(let channel): try? await channel.close()
        case .connecting(let future): try? await future.get().close()
        case .idle, .closed: break
        }
    }

    /// Writes the call and waits for its answer. Cancelling the calling task
    /// ends the wait at once with `CANCELLED`; the answer, if it still comes,
    /// is dropped. ttrpc has no cancel frame, so the server is not told: the
    /// call's deadline is what bounds its work there (docs/cli.md).
    private func send(_ call: OutboundCall, on channel: any Channel) async throws(RPCError) -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        let name = "\(call.service)/\(call.method)"
        do {
            return try await withTaskCancellationHandler {
                // A write that fails before the handler takes it (the connection just
                // closed) must still end the call; completing a promise twice is a no-op.
                channel.writeAndFlush(PendingCall(call: call, promise: promise)).whenFailure { error in
                    promise.fail(RPCError(.unavailable, "connection to \(self.socketPath) closed: \(error)", cause: error))
                }
                return try await promise.futureResult.get()
            } onCancel: {
                promise.fail(RPCError(.cancelled, "\(name): the calling task was cancelled"))
            }
        } catch let error as RPCError {
            // Whoever meets UNAVAILABLE needs to know which socket was tried.
            if error.code == .unavailable, !error.message.contains(socketPath) {
                var located = error
                located.message = "\(error.message) (socket \(socketPath))"
                throw located
            }
            throw error
        } catch {
            throw RPCError(.unavailable, "call on \(socketPath) failed: \(error)", cause: error)
        }
    }

    /// The open connection, opening one if there is none.
    private func connection() async throws(RPCError) -> any Channel {
        enum Next { case use(any Channel), wait(EventLoopFuture<any Channel>), closed }
        let next: Next = state.withLock { state in
            switch state {
            case .connected(let channel) where channel.isActive:
                return .use(channel)
            case .connecting(let future):
                return .wait(future)
            case .closed:
                return .closed
            case .idle, .connected:
                let future = connect()
                state = .connecting(future)
                return .wait(future)
            }
        }
        switch next {
        case .use(let channel):
            return channel
        case .closed:
            throw RPCError(.unavailable, "the client for \(socketPath) is closed")
        case .wait(let future):
            do {
                let channel = try await Self.cancellable(future)
                state.withLock { state in
                    if case .connecting(let f) = state, f === future { state = .connected(channel) }
                }
                return channel
            } catch let error as RPCError where error.code == .cancelled {
                throw error  // this caller gave up; the connect goes on for the others
            } catch {
                state.withLock { state in
                    if case .connecting(let f) = state, f === future { state = .idle }
                }
                let failure = ConnectError(error)
                throw RPCError(.unavailable, "cannot connect to \(socketPath): \(failure.phrase)", cause: failure)
            }
        }
    }

    /// Waits for `future`, or fails with `CANCELLED` as soon as the task is cancelled.
    private static func cancellable<T: Sendable>(_ future: EventLoopFuture<T>) async throws -> T {
        let relay = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: relay)
        return try await withTaskCancellationHandler {
            try await relay.futureResult.get()
        } onCancel: {
            relay.fail(RPCError(.cancelled, "the calling task was cancelled while connecting"))
        }
    }

    private func connect() -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler())
                }
            }
            .connect(unixDomainSocketPath: socketPath)
    }

}

/// A call on its way to the connection handler.
struct OutboundCall: Sendable {
    let service: String
    let method: String
    let payload: [UInt8]
    let timeout: Duration?
    let metadata: Metadata
}

/// A call and the promise its response completes.
struct PendingCall: Sendable {
    let call: OutboundCall
    let promise: EventLoopPromise<[UInt8]>
}
