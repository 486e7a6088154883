import Foundation

extension UserDirectory {
    /// A page of an account's audit trail, newest first, of the events that
    /// match `filter`.
    ///
    /// - Throws: `invalidArgument` for a malformed id, page size or token (or a
    ///   token issued for another filter), or `since` not before `until`;
    ///   `notFound` when the account does not exist.
    public func auditTrail(
        accountID: String, pageSize: Int = 0, pageToken: String = "", filter: AuditFilter = AuditFilter(),
        access: AccessRequirement
    ) async throws -> Page<AuditEvent> {
        try EntityKind.account.validate(accountID, field: "account_id")
        let limit = try Validation.pageSize(pageSize)
        if let since = filter.since, let until = filter.until, since >= until {
            throw DomainError.invalidArgument("since: must be before until (\(since.rfc3339) is not before \(until.rfc3339))")
        }
        let tag = filter.isEmpty ? "audit:\(accountID)" : "audit:\(accountID):\(filter.tag)"
        var before: Int64?
        if let fields = try pageTokens.decode(pageToken, tag: tag, fieldCount: 1) {
            guard let sequence = Int64(fields[0]), sequence > 0 else {
                throw DomainError.invalidArgument("page_token: is malformed; start again without a page token")
            }
            before = sequence
        }
        let olderThan = before
        let rows = try await readPage { r in
            try Self.authorize(r, access, account: accountID)
            _ = try Self.requireAccount(r, accountID)
            return try r.auditEvents(accountID: accountID, filter: filter, before: olderThan, limit: limit + 1)
        }
        return Self.page(rows, limit: limit) { pageTokens.encode(tag: tag, [String($0.sequence)]) }
    }

    /// Unsent outbox messages, oldest first, for the mail sender; with
    /// `includeFailed`, also those whose delivery failed permanently (with
    /// the reason), so operators see them.
    ///
    /// - Throws: `invalidArgument` when `limit` is outside 1...500 (0 means 50).
    public func pendingOutboxMessages(limit: Int = 0, includeFailed: Bool = false) async throws -> [OutboxMessage] {
        let limit = try Validation.pageSize(limit, field: "limit")
        let entries = try await readPage { r in try r.outboxEntries(includeFailed: includeFailed, afterID: 0, limit: limit) }
        return try entries.map(withLink)
    }

    /// The message of `entry` with its invitation link filled in (body and details).
    func withLink(_ entry: OutboxEntry) throws -> OutboxMessage {
        var message = entry.message
        if let sealed = entry.sealedToken {
            let link = link(for: try secrets.unseal(sealed))
            message.body = message.body.replacingOccurrences(of: OutboxEntry.linkPlaceholder, with: link)
            message.details?.invitationLink = link
        }
        return message
    }

    /// A page of unsent outbox messages (with `includeFailed`, also the
    /// permanently failed ones), oldest first, after the last message of the
    /// previous page.
    ///
    /// - Throws: `invalidArgument` when `limit` is outside 0...500 (0 means
    ///   50) or the token was not issued by this listing (with the same
    ///   `includeFailed`).
    public func pendingOutboxPage(limit: Int = 0, pageToken: String = "", includeFailed: Bool = false) async throws -> Page<OutboxMessage> {
        let limit = try Validation.pageSize(limit, field: "limit")
        let tag = includeFailed ? "outbox:failed" : "outbox"
        var after: Int64 = 0
        if let fields = try pageTokens.decode(pageToken, tag: tag, fieldCount: 1) {
            guard let id = Int64(fields[0]), id > 0 else {
                throw DomainError.invalidArgument("page_token: is malformed; start again without a page token")
            }
            after = id
        }
        let start = after
        let entries = try await readPage { r in try r.outboxEntries(includeFailed: includeFailed, afterID: start, limit: limit + 1) }
        return Self.page(try entries.map(withLink), limit: limit) { pageTokens.encode(tag: tag, [String($0.id)]) }
    }

    /// Marks messages as sent; ids already sent or unknown are ignored.
    ///
    /// - Returns: how many messages were marked.
    /// - Throws: `invalidArgument` when more than 500 ids are given.
    public func markOutboxMessagesSent(ids: [Int64]) async throws -> Int {
        guard ids.count <= Validation.maxPageSize else {
            throw DomainError.invalidArgument("message_ids: at most \(Validation.maxPageSize) per call (got \(ids.count))")
        }
        if ids.isEmpty { return 0 }
        let now = now()
        return try await write("mark outbox sent") { w in try w.markOutboxSent(ids: ids, at: now) }
    }
}
