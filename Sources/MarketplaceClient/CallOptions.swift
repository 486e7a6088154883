import MarketplaceRPC

/// Per-call settings: deadline, metadata, waiting for the server, retries.
///
/// A value left nil takes the client's `defaultOptions` value, then the
/// built-in default.
public struct CallOptions: Sendable {
    /// How long the whole call may take, every attempt and wait included; nil
    /// means the client's default (and no limit when that is nil too). Each
    /// attempt sends the time left to the server as the call's deadline, and the
    /// client enforces it locally too.
    public var timeout: Duration?
    /// Metadata sent with the call, e.g. `["authorization": "Bearer ..."]`.
    public var metadata: Metadata
    /// When true, a call made while the socket cannot be reached (server
    /// restarting, not started yet) waits for it to come back until the
    /// deadline, instead of failing at once with `UNAVAILABLE`. Without a
    /// deadline it waits until the calling task is cancelled. Default false.
    public var waitForReady: Bool?
    /// How `UNAVAILABLE` is retried on methods the contract marks idempotent
    /// (`idempotency_level`); never used for other methods. Default
    /// `RetryPolicy.standard`; `RetryPolicy.none` turns retries off.
    public var retryPolicy: RetryPolicy?

    public init(
        timeout: Duration? = nil, metadata: Metadata = [:], waitForReady: Bool? = nil,
        retryPolicy: RetryPolicy? = nil
    ) {
        self.timeout = timeout
        self.metadata = metadata
        self.waitForReady = waitForReady
        self.retryPolicy = retryPolicy
    }

    /// Options that act as the user of a session token from `Sessions/SignIn`
    /// (metadata `authorization: Bearer <token>`). Pass them per call, or as a
    /// client's `defaultOptions` to act as that user on every call.
    public static func bearer(_ token: String, timeout: Duration? = nil) -> CallOptions {
        CallOptions(timeout: timeout, metadata: ["authorization": "Bearer \(token)"])
    }

    /// `self` over `defaults`: metadata of both (defaults first), and each
    /// other value from `self` when set.
    func merged(over defaults: CallOptions) -> CallOptions {
        var metadata = defaults.metadata
        for (key, value) in self.metadata { metadata.add(key, value) }
        return CallOptions(
            timeout: timeout ?? defaults.timeout, metadata: metadata,
            waitForReady: waitForReady ?? defaults.waitForReady ?? false,
            retryPolicy: retryPolicy ?? defaults.retryPolicy ?? .standard)
    }
}
