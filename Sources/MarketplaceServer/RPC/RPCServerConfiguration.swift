import MarketplaceRPC
import NIOCore

/// How the RPC server listens and what it bounds.
public struct RPCServerConfiguration: Sendable {
    /// Path of the Unix socket to listen on.
    public var socketPath: String
    /// Mode of the socket file (default 0660: owner and group may connect).
    public var socketMode: UInt32 = 0o660
    /// Connections served at once; past it, new connections are closed at once.
    public var maxConnections = 1024
    /// Calls in flight on one connection; past it, a call answers RESOURCE_EXHAUSTED.
    public var maxConcurrentCallsPerConnection = 256
    /// Largest frame body accepted (ttrpc's 4 MiB).
    public var maxFrameBodySize = FrameHeader.maxBodySize
    /// A connection that stops mid-frame for this long is closed.
    public var partialFrameTimeout: TimeAmount = .seconds(10)
    /// A connection with no call in flight and no bytes for this long is closed.
    public var idleConnectionTimeout: TimeAmount = .minutes(15)
    /// Bytes of responses queued for a peer that does not read before the
    /// connection stops reading further requests from it.
    public var maxPendingResponseBytes = 4 << 20
    /// On shutdown, how long in-flight calls may take to finish.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Logs one line per routed call and records the call metrics.
    public var callObserver = CallObserver()
    /// Socket activation: a listening socket inherited from the service manager,
    /// served instead of binding `socketPath`; the server then neither checks
    /// nor chmods nor unlinks the path (the socket unit owns it).
    public var inheritedListener: Int32?

    public init(socketPath: String) {
        self.socketPath = socketPath
    }
}
