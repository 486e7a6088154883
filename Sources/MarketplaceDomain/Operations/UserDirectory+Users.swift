import Foundation

extension UserDirectory {
    /// A user by id (operators).
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` when there is none.
    public func user(id: String) async throws -> User {
        try EntityKind.user.validate(id, field: "user_id")
        return try await read { r in try Self.requireUser(r, id) }
    }

    /// A user by email, compared case-insensitively (operators).
    ///
    /// - Throws: `invalidArgument` for a malformed email; `notFound` when there is none.
    public func user(email: String) async throws -> User {
        let email = try Validation.email(email)
        return try await read { r in
            guard let user = try r.user(email: email) else { throw DomainError.notFound("user with email \(email): not found") }
            return user
        }
    }

    /// A page of users ordered by id (operators).
    ///
    /// - Throws: `invalidArgument` for a page size outside 1...500 or a malformed page token.
    public func listUsers(pageSize: Int = 0, pageToken: String = "") async throws -> Page<User> {
        let limit = try Validation.pageSize(pageSize)
        let after = try pageTokens.decodeID(pageToken, tag: "users", kind: .user)
        let rows = try await readPage { r in try r.users(after: after, limit: limit + 1) }
        return Self.page(rows, limit: limit) { pageTokens.encode(tag: "users", [$0.id]) }
    }

    /// Every membership of a user, in any status (e.g. for "my accounts").
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown user.
    public func memberships(userID: String) async throws -> [AccountUser] {
        try EntityKind.user.validate(userID, field: "user_id")
        let now = now()
        return try await read { r in
            _ = try Self.requireUser(r, userID)
            return try r.accountUsers(userID: userID).map { $0.resolved(at: now) }
        }
    }

    /// Deletes a user (operators): status `deleted`, personal data erased
    /// (names, phone, icon, password), the email replaced by a tombstone so the
    /// address can be invited again, every membership `deleted`, every
    /// pending invitation revoked, every unsent email about their memberships
    /// withdrawn from the outbox, and every session ended.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   user; `failedPrecondition` when the user is already deleted.
    public func deleteUser(id: String, actor: Actor) async throws -> User {
        try EntityKind.user.validate(id, field: "user_id")
        let now = now()
        return try await write("delete user") { w in
            var user = try Self.requireUser(w, id)
            guard user.status != .deleted else { throw DomainError.failedPrecondition("user \(id): is already deleted") }
            for var member in try w.accountUsers(userID: id) {
                if let pending = try w.pendingInvitation(accountUserID: member.id) {
                    try Self.endInvitation(w, pending, .revoked, at: now)
                }
                // Every unsent email about the erased person goes with their data.
                try w.withdrawPendingMessages(accountUserID: member.id, sealedToken: nil)
                guard let next = member.status.applying(.deleteUser) else { continue }
                member.status = next
                member.invitationExpiresAt = nil
                // The typed names and phone are personal data too.
                member.invitedAs = nil
                try w.update(member)
                try Self.audit(w, .userDeleted, accountID: member.accountID, target: member.id, actor: actor, at: now, details: "user=\(id)")
            }
            try Self.erase(&user, w, at: now)
            try w.deleteSessions(userID: id, except: nil)
            try Self.audit(w, .userDeleted, accountID: nil, target: id, actor: actor, at: now)
            return user
        }
    }

    /// Erases a user's personal data and marks the user `deleted`: names,
    /// phone and icon emptied, the email replaced (so it is free to be invited
    /// again), the password hash removed. Shared by ``deleteUser(id:actor:)``
    /// and the forgetting of a user no invitation was accepted for.
    static func erase(_ user: inout User, _ w: any StoreWriter, at now: Date) throws {
        user.firstName = ""
        user.lastName = ""
        user.phone = nil
        user.icon = ""
        user.email = "deleted+\(user.id.lowercased())@invalid"
        user.status = .deleted
        user.hasPassword = false
        user.updatedAt = now
        try w.update(user)
        try w.setPasswordHash(userID: user.id, hash: nil)
    }
}
