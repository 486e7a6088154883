import Logging

/// What a handler knows about the call it serves, besides its request message.
public struct RPCContext: Sendable {
    /// `package.Service`, e.g. `marketplace.health.v1.Health`.
    public var service: String
    /// The method name, e.g. `Check`.
    public var method: String
    /// The stream id the client chose for this call.
    public var streamID: UInt32
    /// The call's metadata (keys lowercase).
    public var metadata: Metadata
    /// When the caller stops waiting, if it set a timeout.
    public var deadline: ContinuousClock.Instant?
    /// The connection's peer, from SO_PEERCRED.
    public var peer: PeerCredentials
    /// A logger tagged with the method and stream id.
    public var logger: Logger
    /// Who the call acts as; set by the router's interceptor, `.anonymous` until then.
    public var caller: Caller = .anonymous

    public init(
        service: String, method: String, streamID: UInt32, metadata: Metadata,
        deadline: ContinuousClock.Instant?, peer: PeerCredentials, logger: Logger
    ) {
        self.service = service
        self.method = method
        self.streamID = streamID
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.logger = logger
    }
}
