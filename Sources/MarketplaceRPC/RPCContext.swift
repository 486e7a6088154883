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
    public var logger: Logger {
        get { taggedLogger ?? Self.tagged(baseLogger, service: service, method: method, streamID: streamID) }
        set { taggedLogger = newValue }
    }
    /// The level of `logger`, read without tagging it: check it before
    /// building a log line that most calls never write.
    public var logLevel: Logger.Level { (taggedLogger ?? baseLogger).logLevel }
    /// The connection's logger, tagged on first use of `logger`: setting
    /// metadata re-renders it (StreamLogHandler), which cost more than the
    /// rest of a Health/Check call, and most calls never log.
    private var baseLogger: Logger
    private var taggedLogger: Logger?
    /// Who the call acts as; set by the router's interceptor, `.anonymous` until then.
    public var caller: Caller = .anonymous
    /// For a method whose rule is "administrator of the targeted account": the
    /// id the request's target field names (read by the interceptor through
    /// the contract's generated accessor), which the handler passes on for the
    /// operation to check. `nil` for every other method, and until the
    /// interceptor ran.
    public var accessTarget: String?

    /// A context whose `logger` is `logger`, as it is.
    public init(
        service: String, method: String, streamID: UInt32, metadata: Metadata,
        deadline: ContinuousClock.Instant?, peer: PeerCredentials, logger: Logger
    ) {
        self.init(
            service: service, method: method, streamID: streamID, metadata: metadata, deadline: deadline,
            peer: peer, connectionLogger: logger)
        self.taggedLogger = logger
    }

    /// A context whose `logger` is `connectionLogger` tagged with the method
    /// and stream id, the tagging done only if the logger is used.
    public init(
        service: String, method: String, streamID: UInt32, metadata: Metadata,
        deadline: ContinuousClock.Instant?, peer: PeerCredentials, connectionLogger: Logger
    ) {
        self.service = service
        self.method = method
        self.streamID = streamID
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.baseLogger = connectionLogger
        self.taggedLogger = nil
    }

    private static func tagged(_ logger: Logger, service: String, method: String, streamID: UInt32) -> Logger {
        var logger = logger
        logger[metadataKey: "rpc.method"] = "\(service)/\(method)"
        logger[metadataKey: "rpc.stream"] = "\(streamID)"
        return logger
    }
}
