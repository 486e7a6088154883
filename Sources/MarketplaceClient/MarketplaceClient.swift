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
    /// timeout used when the call sets none.
    public let defaultOptions: CallOptions
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
        socketPath: String, defaultOptions: CallOptions = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.socketPath = socketPath
        self.defaultOptions = defaultOptions
        self.group = eventLoopGroup
    }

    /// Runs `body` with a client and closes the connection when it returns.
    public static func withClient<Result>(
        socketPath: String, defaultOptions: CallOptions = .init(),
        _ body: (MarketplaceClient) async throws -> Result
    ) async throws -> Result {
        let client = MarketplaceClient(socketPath: socketPath, defaultOptions: defaultOptions)
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
    /// - Throws: `RPCError` with the server's status; `UNAVAILABLE` when the
    ///   socket cannot be reached or the connection drops mid-call;
    ///   `DEADLINE_EXCEEDED` when the timeout passes first.
    public func unary<Request: ProtoMessage, Response: ProtoMessage>(
        service: String, method: String, request: Request, options: CallOptions = .init()
    ) async throws(RPCError) -> Response {
        var metadata = defaultOptions.metadata
        for (key, value) in options.metadata { metadata.add(key, value) }
        let call = OutboundCall(
            service: service, method: method, payload: request.serializedBytes(),
            timeout: options.timeout ?? defaultOptions.timeout, metadata: metadata)
        let body = try await send(call)
        do {
            return try Response(serializedBytes: body)
        } catch {
            throw RPCError(.internal, "\(service)/\(method): response does not decode: \(error)")
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

    private func send(_ call: OutboundCall) async throws(RPCError) -> [UInt8] {
        let channel = try await connection()
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        // A write that fails before the handler takes it (the connection just
        // closed) must still end the call; completing a promise twice is a no-op.
        channel.writeAndFlush(PendingCall(call: call, promise: promise)).whenFailure { error in
            promise.fail(RPCError(.unavailable, "connection to \(self.socketPath) closed: \(error)"))
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as RPCError {
            // Whoever meets UNAVAILABLE needs to know which socket was tried.
            if error.code == .unavailable, !error.message.contains(socketPath) {
                throw RPCError(.unavailable, "\(error.message) (socket \(socketPath))")
            }
            throw error
        } catch {
            throw RPCError(.unavailable, "call on \(socketPath) failed: \(error)")
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
                let channel = try await future.get()
                state.withLock { state in
                    if case .connecting(let f) = state, f === future { state = .connected(channel) }
                }
                return channel
            } catch {
                state.withLock { state in
                    if case .connecting(let f) = state, f === future { state = .idle }
                }
                throw RPCError(.unavailable, "cannot connect to \(socketPath): \(Self.describe(error))")
            }
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

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return io.description.contains("No such file") || io.errnoCode == 2
                ? "no such socket (is the server running?)"
                : io.errnoCode == 111 ? "connection refused (is the server running?)" : "\(io)"
        }
        return "\(error)"
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
