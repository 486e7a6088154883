import Foundation
import Synchronization

/// An opt-in cache of `Access/CheckAccess` answers that follows the change
/// feed (`Changes/ListChanges`) to drop the answers a committed change may
/// alter, for internal services that check on every request.
///
/// ```swift
/// let cache = AccessCache(client: client)
/// cache.start()
/// let answer = try await cache.check(.init(token: token, permissions: ["orders.read"]))
/// ```
///
/// Staleness bound: an answer is served from the cache only while the
/// follower's long-poll is connected and caught up (answered less than
/// `maxAge` ago or waiting); a commit reaches the cache when the server wakes
/// the waiting poll, typically within milliseconds (BENCHMARKS.md, "access
/// cache staleness", measures p99 from commit to the cache seeing it). If the
/// feed fails (connection lost, position too old) the cache is emptied and
/// every check goes to the server until the follower has caught up again. In
/// the worst case, a server that stops answering without closing the
/// connection, a cached answer is at most `maxAge` old (default 10 s): each
/// entry also expires after `maxAge`, and at the session's end. Checks with
/// `touch` and refusals for an unknown token are never cached.
public final class AccessCache: Sendable {
    private struct Key: Hashable {
        let token: String
        let accountID: String
        let permissions: [String]
    }

    private struct Entry {
        let answer: CheckAccessResponse
        let storedAt: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Bumped by every applied change batch: an answer fetched before a
        /// bump is not stored (it may predate the change).
        var epoch: UInt64 = 0
        /// Whether the follower is caught up with the feed.
        var following = false
        var position: Int64 = 0
        var follower: Task<Void, Never>?
        var hits = 0
        var misses = 0
    }

    private let client: MarketplaceClient
    private let maxEntries: Int
    private let maxAge: Duration
    private let state = Mutex(State())
    private let applied = Mutex<[(Int64, CheckedContinuation<Void, Never>)]>([])

    /// - Parameters:
    ///   - maxEntries: answers kept at most (the cache is emptied when full).
    ///   - maxAge: the longest an answer is served, whatever the feed says.
    public init(client: MarketplaceClient, maxEntries: Int = 100_000, maxAge: Duration = .seconds(10)) {
        self.client = client
        self.maxEntries = maxEntries
        self.maxAge = maxAge
    }

    deinit { stop() }

    /// Starts following the change feed (from its newest position).
    public func start() {
        state.withLock { state in
            guard state.follower == nil else { return }
            state.follower = Task { [weak self] in await self?.follow() }
        }
    }

    /// Stops following and empties the cache.
    public func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            defer {
                state.follower = nil
                state.entries = [:]
                state.following = false
            }
            return state.follower
        }
        task?.cancel()
    }

    /// The feed position the cache has applied.
    public var position: Int64 { state.withLock { $0.position } }

    /// Answers served from the cache and fetched from the server.
    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// The answer for `request`, from the cache when it holds a fresh one,
    /// otherwise from the server (then cached).
    public func check(_ request: CheckAccessRequest, options: CallOptions = .init()) async throws(RPCError) -> CheckAccessResponse {
        if request.touch { return try await client.access.checkAccess(request, options: options) }
        let key = Key(token: request.token, accountID: request.accountId, permissions: request.permissions)
        let now = ContinuousClock.now
        let (cached, epoch) = state.withLock { state -> (CheckAccessResponse?, UInt64?) in
            guard state.following else { return (nil, nil) }
            if let entry = state.entries[key], now - entry.storedAt < maxAge,
                entry.answer.sessionExpiresAt.map({ $0 > Date() }) ?? true {
                state.hits += 1
                return (entry.answer, nil)
            }
            state.misses += 1
            return (nil, state.epoch)
        }
        if let cached { return cached }
        let answer = try await client.access.checkAccess(request, options: options)
        if let epoch, !answer.userId.isEmpty {
            state.withLock { state in
                guard state.following, state.epoch == epoch else { return }
                if state.entries.count >= maxEntries { state.entries = [:] }
                state.entries[key] = Entry(answer: answer, storedAt: now)
            }
        }
        return answer
    }

    /// Returns once the cache has applied the change at `position` (or later).
    public func waitUntilApplied(_ position: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = applied.withLock { waiters -> Bool in
                if self.position >= position { return true }
                waiters.append((position, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func follow() async {
        var position: Int64?
        while !Task.isCancelled {
            do {
                if position == nil {
                    let head = try await client.changes.listChanges(.init(fromHead: true))
                    position = head.position
                    setFollowing(at: head.position)
                }
                let page = try await client.changes.listChanges(
                    .init(afterPosition: position!, limit: 1000, waitSeconds: 5), options: CallOptions(timeout: .seconds(15)))
                apply(page)
                position = page.position
            } catch {
                // Lost track: serve nothing from the cache until caught up again.
                reset()
                position = nil
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private func setFollowing(at position: Int64) {
        state.withLock { state in
            state.entries = [:]
            state.epoch &+= 1
            state.position = position
            state.following = true
        }
        wake(upTo: position)
    }

    private func reset() {
        state.withLock { state in
            state.entries = [:]
            state.epoch &+= 1
            state.following = false
        }
    }

    private func apply(_ page: ListChangesResponse) {
        state.withLock { state in
            if !page.changes.isEmpty {
                state.epoch &+= 1
                let changes = page.changes
                state.entries = state.entries.filter { entry in !changes.contains { Self.affects($0, entry.value.answer) } }
            }
            state.position = page.position
        }
        wake(upTo: page.position)
    }

    private func wake(upTo position: Int64) {
        let ready = applied.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            let ready = waiters.filter { $0.0 <= position }.map(\.1)
            waiters.removeAll { $0.0 <= position }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Whether `change` may alter `answer`.
    static func affects(_ change: Change, _ answer: CheckAccessResponse) -> Bool {
        switch change.kind {
        case .membership, .user, .sessionEnded:
            return change.userId.isEmpty || change.userId == answer.userId
        case .groupPermissions:
            return change.groupId.isEmpty || change.accountId == answer.accountId || answer.groups.contains { $0.id == change.groupId }
        case .accountStatus:
            return change.accountId.isEmpty || change.accountId == answer.accountId
        default:
            return true
        }
    }
}
