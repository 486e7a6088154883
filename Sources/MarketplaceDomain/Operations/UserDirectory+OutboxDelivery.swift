import Foundation

/// Claiming outbox messages under a lease and reporting failed deliveries:
/// how several mail senders share the outbox without sending a message twice
/// in normal operation (docs/mail.md).
extension UserDirectory {
    /// The longest lease a sender may ask for, and the one it gets by default.
    public static let maxOutboxLease: Duration = .seconds(3600)
    public static let defaultOutboxLease: Duration = .seconds(300)
    /// The longest retry delay after a temporary failure.
    public static let maxRetryDelay: Duration = .seconds(86_400)
    /// The longest failure reason kept, in characters.
    public static let maxFailureReasonLength = 1000

    /// Claims up to `limit` deliverable messages, oldest first, for one
    /// sender: pending, not held under another claim whose lease still runs,
    /// and past their retry time. Each gets a new claim id, a lease of
    /// `lease` and one more attempt, in one transaction, so two concurrent
    /// claims never return the same message while its lease runs.
    ///
    /// - Returns: the claim id and the claimed messages, links filled in.
    /// - Throws: `invalidArgument` when `limit` is outside 1...500 (0 means 50)
    ///   or `lease` outside 1 ms...1 hour (zero means 5 minutes).
    public func claimOutboxMessages(limit: Int = 0, lease: Duration = .zero) async throws -> (claimID: String, messages: [OutboxMessage]) {
        let limit = try Validation.pageSize(limit, field: "limit")
        let lease = lease == .zero ? Self.defaultOutboxLease : lease
        guard lease > .zero, lease <= Self.maxOutboxLease else {
            throw DomainError.invalidArgument("lease_seconds: must be between 1 and \(Self.maxOutboxLease.components.seconds) (0 means \(Self.defaultOutboxLease.components.seconds))")
        }
        let now = now()
        let leaseUntil = now.addingTimeInterval(lease.timeInterval).truncatedToMilliseconds
        let claimID = "CLM-" + UUID().uuidString.lowercased()
        let entries = try await write("claim outbox messages") { w in
            try w.claimOutbox(limit: limit, claimID: claimID, leaseUntil: leaseUntil, at: now)
        }
        return (claimID, try entries.map(withLink))
    }

    /// Records that delivering a claimed message failed. A permanent failure
    /// (`retryAfter` nil) moves it to `failed` with the reason: it is never
    /// handed out again. A temporary one releases the claim; the message is
    /// handed out again after `retryAfter`.
    ///
    /// - Returns: the message as it now stands.
    /// - Throws: `invalidArgument` for an empty claim id, an empty or too long
    ///   reason, or a retry delay over a day; `notFound` for an unknown
    ///   message; `failedPrecondition` when the message is not pending or is no
    ///   longer held under `claimID` (another sender claimed it after the lease
    ///   expired).
    public func reportOutboxFailure(id: Int64, claimID: String, reason: String, retryAfter: Duration?) async throws -> OutboxMessage {
        guard !claimID.isEmpty else { throw DomainError.invalidArgument("claim_id: is required (the claim the message was collected under)") }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw DomainError.invalidArgument("reason: is required") }
        guard reason.count <= Self.maxFailureReasonLength else {
            throw DomainError.invalidArgument("reason: must be at most \(Self.maxFailureReasonLength) characters (got \(reason.count))")
        }
        if let retryAfter, retryAfter < .zero || retryAfter > Self.maxRetryDelay {
            throw DomainError.invalidArgument("retry_after_seconds: must be between 0 and \(Self.maxRetryDelay.components.seconds)")
        }
        let now = now()
        let retryAt = retryAfter.map { now.addingTimeInterval($0.timeInterval).truncatedToMilliseconds }
        let entry = try await write("report delivery failure") { w in
            guard let entry = try w.outboxEntry(id: id) else { throw DomainError.notFound("message \(id): no such outbox message") }
            guard entry.message.state == .pending else {
                throw DomainError.failedPrecondition("message \(id): cannot report a failure: the message is \(entry.message.state.rawValue)")
            }
            guard entry.message.claimID == claimID else {
                throw DomainError.failedPrecondition("message \(id): is not held under claim \(claimID) (its lease expired and it was claimed again, or it was never claimed)")
            }
            try w.recordOutboxFailure(id: id, reason: reason, retryAt: retryAt, at: now)
            return try w.outboxEntry(id: id) ?? entry
        }
        return try withLink(entry)
    }
}
