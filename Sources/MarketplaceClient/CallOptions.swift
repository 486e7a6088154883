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
}
