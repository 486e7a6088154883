#if canImport(Glibc)
import Glibc
#endif
import Logging
import MarketplaceRPC
import NIOCore
import NIOPosix
import Synchronization

/// A ttrpc server on a Unix domain socket.
///
/// Frames and envelopes are handled in channel handlers on the event loops;
/// each call runs as a task on its connection's loop. The server bounds
/// connections (overall, per uid, with places kept for operators), calls per
/// connection (by backpressure), the time to complete a frame and the bytes of
/// partly received frames; it reads each peer's credentials, raises its
/// descriptor limit at start, backs off when accept fails, and shuts down
/// gracefully: stop accepting, let in-flight calls finish within the grace
/// period, close, remove the socket file.
public final class RPCServer: Sendable {
    /// Why the server could not start.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The path the server listens on.
    public let socketPath: String
    private let configuration: RPCServerConfiguration
    private let listener: any Channel
    private let connections: ConnectionRegistry
    private let logger: Logger
    private let state = Mutex<State>(.serving)
    private let closedPromise: EventLoopPromise<Void>

    private enum State {
        case serving
        case shuttingDown
        case closed
    }

    private init(
        configuration: RPCServerConfiguration, listener: any Channel, connections: ConnectionRegistry,
        logger: Logger, closedPromise: EventLoopPromise<Void>
    ) {
        self.socketPath = configuration.socketPath
        self.configuration = configuration
        self.listener = listener
        self.connections = connections
        self.logger = logger
        self.closedPromise = closedPromise
    }

    /// Binds the socket and starts serving `router`.
    ///
    /// - Parameters:
    ///   - errorMapper: converts errors handlers throw (other than `RPCError`) to a
    ///     status; errors it returns nil for answer INTERNAL and are logged.
    /// - Throws: `StartError` when the path is taken by a live server or is not a
    ///   socket, or the socket cannot be bound.
    public static func start(
        configuration: RPCServerConfiguration,
        router: RPCRouter,
        errorMapper: @escaping @Sendable (any Error) -> RPCError? = { _ in nil },
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RPCServer {
        if configuration.inheritedListener == nil {
            do {
                try SocketPath.prepare(configuration.socketPath)
            } catch {
                throw StartError(description: error.description)
            }
        }
        let descriptors = try DescriptorLimit.raise(forConnections: configuration.maxConnections)
        guard configuration.maxPartialFrameBytes >= configuration.maxFrameBodySize + FrameHeader.size else {
            throw StartError(description:
                "the partial-frame budget (\(configuration.maxPartialFrameBytes) bytes) must hold one largest frame (\(configuration.maxFrameBodySize) bytes)")
        }
        let executor = ServerRPCExecutor(
            router: router, errorMapper: errorMapper, logger: logger, maxFrameBodySize: configuration.maxFrameBodySize)
        let connections = ConnectionRegistry(
            limit: configuration.maxConnections, perUID: configuration.maxConnectionsPerUID,
            reservedForOperators: configuration.isOperator == nil ? 0 : configuration.connectionsReservedForOperators)
        let partialFrames = PartialFrameBudget(limit: configuration.maxPartialFrameBytes)
        let highWater = max(configuration.maxPendingResponseBytes, 1024)
        let listener: any Channel
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcceptBackoff.handler(logger: logger))
                    }
                }
                .childChannelOption(.writeBufferWaterMark, value: .init(low: highWater / 2, high: highWater))
                .childChannelInitializer { channel in
                    PeerCredentials.of(channel).flatMapThrowing { peer in
                        try Self.initialize(
                            channel: channel, peer: peer, executor: executor, configuration: configuration,
                            connections: connections, partialFrames: partialFrames, logger: logger)
                    }
                }
            if let inherited = configuration.inheritedListener {
                listener = try await bootstrap.withBoundSocket(inherited).get()
            } else {
                listener = try await bootstrap
                    .bind(unixDomainSocketPath: configuration.socketPath, cleanupExistingSocketFile: false)
                    .get()
            }
        } catch {
            throw StartError(description: "cannot listen on \(configuration.socketPath): \(error)")
        }
        guard configuration.inheritedListener != nil || chmod(configuration.socketPath, mode_t(configuration.socketMode)) == 0 else {
            let reason = String(cString: strerror(errno))
            try? await listener.close()
            unlink(configuration.socketPath)
            throw StartError(description: "cannot set mode of \(configuration.socketPath): \(reason)")
        }
        let server = RPCServer(
            configuration: configuration, listener: listener, connections: connections, logger: logger,
            closedPromise: group.next().makePromise())
        logger.debug("listening", metadata: ["max_connections": "\(configuration.maxConnections)", "open_files_limit": "\(descriptors)"])
        return server
    }

    private static func initialize(
        channel: any Channel, peer: PeerCredentials, executor: ServerRPCExecutor,
        configuration: RPCServerConfiguration, connections: ConnectionRegistry, partialFrames: PartialFrameBudget,
        logger: Logger
    ) throws {
        var connectionLogger = logger
        connectionLogger[metadataKey: "peer"] = "\(peer)"
        let isOperator = configuration.isOperator?(peer) ?? false
        if let refusal = connections.admit(uid: peer.uid, isOperator: isOperator) {
            connectionLogger.warning("refusing connection: \(refusal)")
            channel.close(promise: nil)
            return
        }
        let handler = ServerConnectionHandler(
            executor: executor, configuration: configuration, peer: peer, partialFrames: partialFrames,
            logger: connectionLogger)
        let id = connections.register(
            channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), uid: peer.uid)
        channel.closeFuture.whenComplete { _ in connections.remove(id) }
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(IdleStateHandler(readTimeout: configuration.partialFrameTimeout))
        try sync.addHandler(handler)
    }

    /// Stops accepting, lets in-flight calls finish within the grace period,
    /// closes every connection and removes the socket file. Idempotent.
    public func shutdownGracefully() async {
        let first = state.withLock { state in
            guard case .serving = state else { return false }
            state = .shuttingDown
            return true
        }
        guard first else {
            try? await closedPromise.futureResult.get()
            return
        }
        logger.info("shutting down", metadata: ["open_connections": "\(connections.count)"])
        try? await listener.close()
        connections.drainAll()
        let deadline = ContinuousClock.now.advanced(by: configuration.shutdownGracePeriod)
        while connections.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if connections.count > 0 {
            logger.warning("grace period over; closing \(connections.count) connections with calls in flight")
            await connections.closeAll()
        }
        if configuration.inheritedListener == nil { unlink(socketPath) }
        state.withLock { $0 = .closed }
        closedPromise.succeed()
        logger.info("stopped")
    }

    /// Returns when the server has shut down.
    public func waitUntilClosed() async {
        try? await closedPromise.futureResult.get()
    }

    /// Connections open right now.
    public var connectionCount: Int { connections.count }
}

extension PeerCredentials {
    /// Linux `struct ucred`, which Glibc's Swift overlay does not export.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Linux's SO_PEERCRED option number.
    private static let soPeerCred: Int32 = 17

    /// The peer of an accepted Unix socket connection (SO_PEERCRED). A peer whose
    /// credentials cannot be read gets uid and gid `UInt32.max`, which no
    /// operator rule matches.
    static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        let unknown = PeerCredentials(pid: 0, uid: UInt32.max, gid: UInt32.max)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(unknown)
        }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(soPeerCred))
        return future
            .map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
            .recover { _ in unknown }
    }
}
