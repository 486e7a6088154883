/// Whether a method may safely run more than once, from the contract's
/// `option idempotency_level` (protobuf's standard method option). Generated
/// client stubs pass it; the client retries only `noSideEffects` and
/// `idempotent` methods.
public enum Idempotency: Sendable, Hashable {
    /// Not marked: never retried (a retry could, say, invite twice).
    case unknown
    /// `NO_SIDE_EFFECTS`: a read.
    case noSideEffects
    /// `IDEMPOTENT`: a write that has the same effect however often it runs.
    case idempotent

    /// Whether an `UNAVAILABLE` call of such a method may be sent again.
    public var allowsRetry: Bool { self != .unknown }
}

/// How a call of an idempotent method is retried after `UNAVAILABLE` (server
/// restarting, connection dropped): up to `maxAttempts` attempts in all, with
/// exponential backoff and jitter between them, never past the call's deadline.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; 1 means no retry.
    public var maxAttempts: Int
    /// The backoff before the first retry; each later one is `multiplier`
    /// times longer, up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var multiplier: Double

    public init(maxAttempts: Int, initialBackoff: Duration, maxBackoff: Duration, multiplier: Double = 2) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = max(1, multiplier)
    }

    /// 6 attempts, backoff 100 ms doubling to 1 s: rides out a server restart
    /// of about two seconds.
    public static let standard = RetryPolicy(maxAttempts: 6, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1))
    /// No retry.
    public static let none = RetryPolicy(maxAttempts: 1, initialBackoff: .zero, maxBackoff: .zero)

    /// The backoff before retry number `retry` (1 for the first), before jitter.
    public func backoff(beforeRetry retry: Int) -> Duration {
        var backoff = initialBackoff
        for _ in 1..<max(retry, 1) {
            backoff = backoff * multiplier
            if backoff >= maxBackoff { return maxBackoff }
        }
        return min(backoff, maxBackoff)
    }

    /// The delay actually slept: half the backoff plus a random part of the
    /// other half ("equal jitter"), so that clients a restart disconnected at
    /// once do not come back in lockstep.
    public func delay(beforeRetry retry: Int) -> Duration {
        let backoff = backoff(beforeRetry: retry)
        return backoff / 2 + backoff / 2 * Double.random(in: 0...1)
    }
}
