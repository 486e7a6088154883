import Foundation
import Synchronization

/// Limits password guessing: after too many failed sign-ins for one email, or
/// from one peer, within a sliding window, further attempts for that key are
/// refused at once, without any hashing, until enough failures leave the window.
///
/// Keys are counted whether or not the email belongs to a user, so the refusal
/// reveals nothing about which emails exist. Attempts in progress count against
/// the limit too, so concurrent guesses cannot overshoot it. A success clears
/// its email's failures (not its peer's). State is in memory, per process: a
/// restart forgets it. At most ``Limits/maxTrackedKeys`` keys are tracked;
/// beyond that, the oldest idle keys are forgotten first.
public final class SignInThrottle: Sendable {
    /// The thresholds of a throttle.
    public struct Limits: Sendable, Equatable {
        /// Failures for one email within ``window`` before refusing (default 5).
        public var failuresPerEmail: Int
        /// Failures from one peer within ``window`` before refusing (default 20).
        public var failuresPerPeer: Int
        /// The sliding window (default 15 minutes).
        public var window: Duration
        /// How many emails and peers are tracked at most (bounds memory).
        public var maxTrackedKeys: Int

        public init(failuresPerEmail: Int = 5, failuresPerPeer: Int = 20, window: Duration = .seconds(15 * 60), maxTrackedKeys: Int = 100_000) {
            self.failuresPerEmail = max(1, failuresPerEmail)
            self.failuresPerPeer = max(1, failuresPerPeer)
            self.window = window
            self.maxTrackedKeys = max(16, maxTrackedKeys)
        }
    }

    /// How an attempt ended.
    enum Outcome {
        /// Wrong credentials: counted against the email and the peer.
        case failed
        /// Signed in: clears the email's failures.
        case succeeded
        /// Ended for another reason (storage or hashing unavailable): not counted.
        case abandoned
    }

    /// An attempt in progress; hand it back to ``finish(_:_:)`` exactly once.
    struct Attempt: Sendable {
        fileprivate let keys: [Key]
    }

    fileprivate struct Key: Hashable, Sendable {
        var value: String
        var isEmail: Bool
    }

    private struct Entry {
        /// The most recent failures, oldest first (at most the key's limit).
        var failures: [Date] = []
        var inFlight = 0
    }

    /// The keys tracked and their counters.
    private let entries = Mutex<[Key: Entry]>([:])
    private let clock: any WallClock
    /// The thresholds in force.
    public let limits: Limits

    /// Creates a throttle reading time from `clock` (tests inject a ``ManualWallClock``).
    public init(clock: any WallClock, limits: Limits = Limits()) {
        self.clock = clock
        self.limits = limits
    }

    /// The key for an email as typed: trimmed, lowercased and bounded, so that
    /// spellings of one address share a counter even when it is malformed.
    static func emailKey(_ email: String) -> String {
        String(email.trimmingWhitespace().lowercased().prefix(320))
    }

    private func limit(_ key: Key) -> Int { key.isEmail ? limits.failuresPerEmail : limits.failuresPerPeer }

    /// Starts an attempt for `email` from `peer` (an empty peer is not throttled per peer).
    ///
    /// - Throws: `resourceExhausted` ("too many failed sign-ins; try again in N
    ///   seconds") when the email or the peer reached its limit.
    func begin(email: String, peer: String) throws(DomainError) -> Attempt {
        var keys = [Key(value: Self.emailKey(email), isEmail: true)]
        if !peer.isEmpty { keys.append(Key(value: String(peer.prefix(256)), isEmail: false)) }
        let now = clock.now()
        let window = limits.window.timeInterval
        let cutoff = now.addingTimeInterval(-window)
        let wait: TimeInterval = entries.withLock { entries in
            var wait: TimeInterval = 0
            for key in keys {
                guard var entry = entries[key] else { continue }
                entry.failures.removeAll { $0 <= cutoff }
                entries[key] = entry.failures.isEmpty && entry.inFlight == 0 ? nil : entry
                let used = entry.failures.count + entry.inFlight
                let limit = limit(key)
                guard used >= limit else { continue }
                // Below the limit again once this many of the oldest failures left the window.
                let index = used - limit
                let until = index < entry.failures.count ? entry.failures[index].addingTimeInterval(window).timeIntervalSince(now) : 1
                wait = max(wait, until, 1)
            }
            guard wait == 0 else { return wait }
            for key in keys { entries[key, default: Entry()].inFlight += 1 }
            if entries.count > limits.maxTrackedKeys { prune(&entries, cutoff: cutoff) }
            return 0
        }
        guard wait == 0 else {
            throw .resourceExhausted("too many failed sign-ins; try again in \(Int(wait.rounded(.up))) seconds")
        }
        return Attempt(keys: keys)
    }

    /// Ends an attempt started by ``begin(email:peer:)``.
    func finish(_ attempt: Attempt, _ outcome: Outcome) {
        let now = clock.now()
        entries.withLock { entries in
            for key in attempt.keys {
                guard var entry = entries[key] else { continue }
                entry.inFlight = max(0, entry.inFlight - 1)
                switch outcome {
                case .failed:
                    entry.failures.append(now)
                    if entry.failures.count > limit(key) { entry.failures.removeFirst(entry.failures.count - limit(key)) }
                case .succeeded where key.isEmail:
                    entry.failures.removeAll()
                case .succeeded, .abandoned:
                    break
                }
                entries[key] = entry.failures.isEmpty && entry.inFlight == 0 ? nil : entry
            }
        }
    }

    /// Forgets keys with nothing in the window, then, if still too many, the
    /// idle keys whose last failure is oldest, down to 90% of the maximum.
    private func prune(_ entries: inout [Key: Entry], cutoff: Date) {
        entries = entries.filter { $0.value.inFlight > 0 || ($0.value.failures.last ?? .distantPast) > cutoff }
        let target = limits.maxTrackedKeys * 9 / 10
        guard entries.count > target else { return }
        let idle = entries.filter { $0.value.inFlight == 0 }
            .sorted { ($0.value.failures.last ?? .distantPast) < ($1.value.failures.last ?? .distantPast) }
        for (key, _) in idle.prefix(entries.count - target) { entries[key] = nil }
    }

    /// How many emails and peers are tracked (for tests and metrics).
    public var trackedKeys: Int { entries.withLock { $0.count } }
}
