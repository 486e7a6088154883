import MarketplaceRPC

/// Per-call settings: deadline and metadata.
public struct CallOptions: Sendable {
    /// How long the caller waits; nil means the client's default. Sent to the
    /// server as the call's deadline and enforced locally too.
    public var timeout: Duration?
    /// Metadata sent with the call, e.g. `["authorization": "Bearer ..."]`.
    public var metadata: Metadata

    public init(timeout: Duration? = nil, metadata: Metadata = [:]) {
        self.timeout = timeout
        self.metadata = metadata
    }

    /// Options that act as the user of a session token from `Sessions/SignIn`
    /// (metadata `authorization: Bearer <token>`). Pass them per call, or as a
    /// client's `defaultOptions` to act as that user on every call.
    public static func bearer(_ token: String, timeout: Duration? = nil) -> CallOptions {
        CallOptions(timeout: timeout, metadata: ["authorization": "Bearer \(token)"])
    }
}
