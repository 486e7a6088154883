import Foundation

extension UserDirectory {
    /// How many changes the feed keeps (the `changes_retention` trigger of the
    /// SQLite schema deletes older ones).
    public static let changeRetention: Int64 = 100_000
    /// The longest a change-feed call waits for a change.
    public static let maxChangeWait: Duration = .seconds(30)
    static let startOver = "start over: drop what you cached and call again with from_head"

    /// The change feed: changes committed after `position`, oldest first, at
    /// most `limit` (0 means 100). When there is none and `wait` > 0, waits
    /// until a write commits or `wait` passes, holding no database connection
    /// and no thread meanwhile (waiters are woken by every commit).
    ///
    /// - Returns: the changes and the position to continue after.
    /// - Throws: `invalidArgument` for a negative position, a limit outside
    ///   0...1000 or a wait outside 0...30 s; `failedPrecondition` when
    ///   `position` is older than the oldest change kept or newer than the
    ///   newest (the caller must start over with `fromHead`).
    public func changes(after position: Int64, limit: Int, wait: Duration, fromHead: Bool) async throws -> (changes: [ChangeRecord], position: Int64) {
        guard position >= 0 else { throw DomainError.invalidArgument("after_position: must not be negative") }
        guard (0...1000).contains(limit) else { throw DomainError.invalidArgument("limit: must be 0..1000 (got \(limit))") }
        guard wait >= .zero, wait <= Self.maxChangeWait else { throw DomainError.invalidArgument("wait_seconds: must be 0..30") }
        let limit = limit == 0 ? 100 : limit
        let deadline = ContinuousClock.now + wait
        while true {
            // Read the generation before the transaction, so a commit between
            // the read and the wait is not missed.
            let generation = changeSignal.generation
            // Every change committed before this point is in what is read.
            try await store.publishCommittedChanges()
            let found = try await readPage { r -> (changes: [ChangeRecord], position: Int64) in
                let bounds = try r.changeBounds()
                if fromHead { return ([], bounds.newest) }
                guard position <= bounds.newest else {
                    throw DomainError.failedPrecondition(
                        "after_position \(position) is beyond the newest change (\(bounds.newest)); \(Self.startOver)")
                }
                if position < bounds.newest, bounds.oldest.map({ position < $0 - 1 }) ?? true {
                    throw DomainError.failedPrecondition(
                        "after_position \(position) is older than the oldest change kept (\(bounds.oldest ?? bounds.newest)); \(Self.startOver)")
                }
                let changes = try r.changes(after: position, limit: limit)
                return (changes, changes.last?.position ?? position)
            }
            let now = ContinuousClock.now
            if !found.changes.isEmpty || fromHead || now >= deadline || Task.isCancelled { return found }
            await changeSignal.wait(after: generation, timeout: deadline - now)
        }
    }
}
