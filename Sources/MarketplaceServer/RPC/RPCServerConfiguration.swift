import MarketplaceRPC
import NIOCore

/// How the RPC server listens and what it bounds.
public struct RPCServerConfiguration: Sendable {
    /// Path of the Unix socket to listen on.
    public var socketPath: String
    /// Mode of the socket file (default 0660: owner and group may connect).
    public var socketMode: UInt32 = 0o660
    /// Connections served at once; past it, new connections are closed at once.
    /// At start the server raises RLIMIT_NOFILE to this plus 64, or refuses
    /// to start when the hard limit is lower.
    public var maxConnections = 1024
    /// Connections one uid that is not an operator may hold at once; past it,
    /// its new connections are closed at once. Operators have no such share.
    public var maxConnectionsPerUID = 256
    /// Places of `maxConnections` that only operators may take, so that an
    /// operator always gets in. Applies when `isOperator` is set.
    public var connectionsReservedForOperators = 32
    /// Which peers are operators (by SO_PEERCRED), decided at accept time for
    /// the reserved places; nil: nobody, and no places are reserved.
    public var isOperator: (@Sendable (PeerCredentials) -> Bool)?
    /// Calls in flight on one connection; past it, the server stops reading the
    /// connection until a call finishes (backpressure: later calls wait, none
    /// is refused).
    public var maxConcurrentCallsPerConnection = 256
    /// Largest frame body accepted, and written: an answer past it is refused
    /// RESOURCE_EXHAUSTED (ttrpc's 4 MiB).
    public var maxFrameBodySize = FrameHeader.maxBodySize
    /// Once the first byte of a frame has arrived, the whole frame must arrive
    /// within this time, or the connection is closed (time the server itself
    /// does not read, under backpressure, does not count).
    public var partialFrameTimeout: TimeAmount = .seconds(10)
    /// Bytes all connections together may hold in partly received frames; a
    /// connection whose partial frame would pass it is closed. At least one
    /// largest frame.
    public var maxPartialFrameBytes = 32 << 20
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
