import Foundation
import Synchronization

/// Limits password guessing and bounds the hashing work one caller can cause.
/// Every password check goes through it: sign-in, accepting an invitation as
/// an existing login, changing a password (and any future re-authentication).
///
/// The rule:
/// - **Per email (lockout):** after ``Limits/failuresPerEmail`` wrong
///   passwords for one email within ``Limits/window``, every check for that
///   email is refused at once, before any hashing and whoever asks, until
///   enough failures leave the window. Emails are counted whether or not they
///   belong to a user, so a refusal reveals nothing. Checks in progress count
///   too, so concurrent guesses cannot overshoot. A correct password clears
///   its email's failures.
/// - **Per peer (a share of the hashing, never a lockout):** a peer (e.g. a
///   uid) runs at most ``Limits/checksPerPeer`` password checks at once, and
///   one at a time once it has ``Limits/failuresPerPeer`` failures in the
///   window; further checks wait in line (at most ``Limits/waitingPerPeer``;
///   beyond that the call is refused with "retry shortly", like a full queue).
///   A peer's failures therefore slow that peer's hashing down but never
///   refuse a correct password of another person whose email is not locked,
///   and a flood from one peer cannot fill the hashing threads for the others.
///
/// The per-email failures are also kept in the store by ``UserDirectory``
/// (``StoreWriter/recordSignInFailure(emailKey:at:)``), so every daemon of
/// one database counts the failures made through any of them, and a restart
/// forgets none; checks in progress on other daemons are not seen (a fleet
/// of N daemons may overshoot by the guesses running at that moment). The
/// rest of the state (checks in progress, per-peer shares) is in memory, per
/// process. At most
/// ``Limits/maxTrackedKeys`` keys are tracked; beyond that, the oldest idle
/// keys are forgotten first.
public final class SignInThrottle: Sendable {
    /// The thresholds of a throttle.
    public struct Limits: Sendable, Equatable {
        /// Failures for one email within ``window`` before refusing (default 5).
        public var failuresPerEmail: Int
        /// Failures from one peer within ``window`` after which its checks run
        /// one at a time (default 20). Never refuses by itself.
        public var failuresPerPeer: Int
        /// Password checks one peer may run at once (default 2).
        public var checksPerPeer: Int
        /// Password checks one peer may have waiting for its turn (default 32).
        public var waitingPerPeer: Int
        /// The sliding window (default 15 minutes).
        public var window: Duration
        /// How many emails and peers are tracked at most (bounds memory).
        public var maxTrackedKeys: Int

        public init(
            failuresPerEmail: Int = 5, failuresPerPeer: Int = 20, checksPerPeer: Int = 2, waitingPerPeer: Int = 32,
            window: Duration = .seconds(15 * 60), maxTrackedKeys: Int = 100_000
        ) {
            self.failuresPerEmail = max(1, failuresPerEmail)
            self.failuresPerPeer = max(1, failuresPerPeer)
            self.checksPerPeer = max(1, checksPerPeer)
            self.waitingPerPeer = max(0, waitingPerPeer)
            self.window = window
            self.maxTrackedKeys = max(16, maxTrackedKeys)
        }
    }

    /// How an attempt ended.
    enum Outcome {
        /// Wrong password: counted against the email and the peer.
        case failed
        /// Right password: clears the email's failures.
        case succeeded
        /// Ended for another reason (storage or hashing unavailable): not counted.
        case abandoned
    }

    /// An attempt in progress; hand it back to ``finish(_:_:)`` exactly once.
    final class Attempt: Sendable {
        fileprivate let email: Key?
        fileprivate let peer: Key?
        /// Whether the attempt holds one of its peer's running slots.
        fileprivate let holdsSlot = Atomic<Bool>(false)

        fileprivate init(email: Key?, peer: Key?) {
            self.email = email
            self.peer = peer
        }
    }

    fileprivate struct Key: Hashable, Sendable {
        var value: String
        var isEmail: Bool
    }

    private struct Entry {
        /// The most recent failures, oldest first (bounded).
        var failures: [Date] = []
        /// Email: checks in progress. Peer: checks running (holding a slot).
        var inFlight = 0
        /// Peer: checks waiting for a slot, first come first served.
        var waiting: [CheckedContinuation<Bool, Never>] = []

        var isIdle: Bool { failures.isEmpty && inFlight == 0 && waiting.isEmpty }
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

    private var keptFailures: Int { max(limits.failuresPerEmail, limits.failuresPerPeer) }

    /// Starts an attempt for `email` (`nil`: a check that is not a guess, such
    /// as hashing a new password) from `peer` (empty: no per-peer share).
    /// Call ``acquireSlot(_:)`` before hashing, and ``finish(_:_:)`` at the end.
    ///
    /// - Throws: `resourceExhausted` ("too many failed sign-ins; try again in N
    ///   seconds") when the email reached its limit. Never because of the peer.
    ///
    /// `storedFailures` are the email's failures recorded in the store (by
    /// every daemon of the store, this one included), oldest first: the
    /// email's count is the larger of those and the ones this process saw.
    func begin(email: String?, peer: String, storedFailures: [Date] = []) throws(DomainError) -> Attempt {
        let emailKey = email.map { Key(value: Self.emailKey($0), isEmail: true) }
        let peerKey = peer.isEmpty ? nil : Key(value: String(peer.prefix(256)), isEmail: false)
        let now = clock.now()
        let window = limits.window.timeInterval
        let cutoff = now.addingTimeInterval(-window)
        let shared = storedFailures.filter { $0 > cutoff }
        let wait: TimeInterval = entries.withLock { entries in
            if let emailKey {
                var entry = entries[emailKey] ?? Entry()
                entry.failures.removeAll { $0 <= cutoff }
                entries[emailKey] = entry.isIdle ? nil : entry
                let failures = shared.count > entry.failures.count ? shared : entry.failures
                let used = failures.count + entry.inFlight
                let limit = limits.failuresPerEmail
                if used >= limit {
                    // Below the limit again once this many of the oldest failures left the window.
                    let index = used - limit
                    let until = index < failures.count ? failures[index].addingTimeInterval(window).timeIntervalSince(now) : 1
                    return max(until, 1)
                }
            }
            if let emailKey { entries[emailKey, default: Entry()].inFlight += 1 }
            if entries.count > limits.maxTrackedKeys { prune(&entries, cutoff: cutoff) }
            return 0
        }
        guard wait == 0 else {
            throw .resourceExhausted("too many failed sign-ins; try again in \(Int(wait.rounded(.up))) seconds")
        }
        return Attempt(email: emailKey, peer: peerKey)
    }

    /// Waits for one of the attempt's peer's running slots (at once when it has
    /// one free). Call before any hashing.
    ///
    /// - Throws: `resourceExhausted` ("too many password checks in progress
    ///   from this caller; retry shortly") when the peer already has
    ///   ``Limits/waitingPerPeer`` checks waiting.
    func acquireSlot(_ attempt: Attempt) async throws(DomainError) {
        guard let peer = attempt.peer, !attempt.holdsSlot.load(ordering: .acquiring) else { return }
        let cutoff = clock.now().addingTimeInterval(-limits.window.timeInterval)
        // Resumed with true once the attempt holds a slot, false when the line is full.
        let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let decision: Bool? = entries.withLock { entries in
                var entry = entries[peer, default: Entry()]
                entry.failures.removeAll { $0 <= cutoff }
                let decision: Bool?
                if entry.waiting.isEmpty && entry.inFlight < allowedChecks(entry) {
                    entry.inFlight += 1
                    decision = true
                } else if entry.waiting.count < limits.waitingPerPeer {
                    entry.waiting.append(continuation)
                    decision = nil
                } else {
                    decision = false
                }
                entries[peer] = entry.isIdle ? nil : entry
                return decision
            }
            if let decision { continuation.resume(returning: decision) }
        }
        guard granted else {
            throw .resourceExhausted("too many password checks in progress from this caller; retry shortly")
        }
        attempt.holdsSlot.store(true, ordering: .releasing)
    }

    /// How many checks a peer may run at once: fewer once it failed too often.
    private func allowedChecks(_ entry: Entry) -> Int {
        entry.failures.count >= limits.failuresPerPeer ? 1 : limits.checksPerPeer
    }

    /// Ends an attempt started by ``begin(email:peer:)``.
    func finish(_ attempt: Attempt, _ outcome: Outcome) {
        let now = clock.now()
        let cutoff = now.addingTimeInterval(-limits.window.timeInterval)
        let released = attempt.holdsSlot.exchange(false, ordering: .acquiringAndReleasing)
        let wake: [CheckedContinuation<Bool, Never>] = entries.withLock { entries in
            var wake: [CheckedContinuation<Bool, Never>] = []
            if let key = attempt.email, var entry = entries[key] {
                entry.inFlight = max(0, entry.inFlight - 1)
                switch outcome {
                case .failed: record(failureAt: now, in: &entry)
                case .succeeded: entry.failures.removeAll()
                case .abandoned: break
                }
                entries[key] = entry.isIdle ? nil : entry
            }
            if let key = attempt.peer {
                var entry = entries[key, default: Entry()]
                if released { entry.inFlight = max(0, entry.inFlight - 1) }
                if outcome == .failed && attempt.email != nil { record(failureAt: now, in: &entry) }
                entry.failures.removeAll { $0 <= cutoff }
                while !entry.waiting.isEmpty && entry.inFlight < allowedChecks(entry) {
                    entry.inFlight += 1
                    wake.append(entry.waiting.removeFirst())
                }
                entries[key] = entry.isIdle ? nil : entry
            }
            return wake
        }
        for continuation in wake { continuation.resume(returning: true) }
    }

    private func record(failureAt now: Date, in entry: inout Entry) {
        entry.failures.append(now)
        if entry.failures.count > keptFailures { entry.failures.removeFirst(entry.failures.count - keptFailures) }
    }

    /// Forgets keys with nothing in the window, then, if still too many, the
    /// idle keys whose last failure is oldest, down to 90% of the maximum.
    private func prune(_ entries: inout [Key: Entry], cutoff: Date) {
        entries = entries.filter { $0.value.inFlight > 0 || !$0.value.waiting.isEmpty || ($0.value.failures.last ?? .distantPast) > cutoff }
        let target = limits.maxTrackedKeys * 9 / 10
        guard entries.count > target else { return }
        let idle = entries.filter { $0.value.inFlight == 0 && $0.value.waiting.isEmpty }
            .sorted { ($0.value.failures.last ?? .distantPast) < ($1.value.failures.last ?? .distantPast) }
        for (key, _) in idle.prefix(entries.count - target) { entries[key] = nil }
    }

    /// How many checks of `peer` wait for a slot (for tests and metrics).
    public func waitingChecks(peer: String) -> Int {
        entries.withLock { $0[Key(value: String(peer.prefix(256)), isEmail: false)]?.waiting.count ?? 0 }
    }

    /// How many emails and peers are tracked (for tests and metrics).
    public var trackedKeys: Int { entries.withLock { $0.count } }
}
