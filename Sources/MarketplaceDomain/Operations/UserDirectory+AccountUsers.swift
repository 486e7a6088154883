import Foundation

extension UserDirectory {
    /// Invites a person to an account: creates the user (without password) if
    /// the email is unknown, creates the membership (or re-invites a `disabled`
    /// one) in status `invited`, stores a new invitation, and queues the
    /// invitation email, all in one transaction.
    ///
    /// - Returns: the membership and its invitation link. The membership's user
    ///   is shown with the names given here and no last sign-in, whether or not
    ///   the email already had a login, so the answer reveals neither that nor
    ///   the login's own data. A user created here (no password) is forgotten
    ///   again if the invitation ends unaccepted (``forgetUnclaimedUser(_:userID:at:)``).
    /// - Throws: `invalidArgument` for a malformed id, email, name or phone, or
    ///   no group; `notFound` when the account or a group of it does not
    ///   group does not exist; `failedPrecondition` when the account is disabled;
    ///   `alreadyExists` when the email already has a membership of the account
    ///   in any status but `disabled`.
    public func invite(
        accountID: String, email: String, firstName: String, lastName: String, phone: String? = nil,
        groupIDs: [String], actor: Actor, access: AccessRequirement
    ) async throws -> InvitedAccountUser {
        try EntityKind.account.validate(accountID, field: "account_id")
        let email = try Validation.email(email)
        let firstName = try Validation.requiredText(firstName, field: "first_name")
        let lastName = try Validation.requiredText(lastName, field: "last_name")
        let phone = try Validation.phone(phone)
        let groupIDs = try Validation.groupIDs(groupIDs)
        let issued = secrets.issueToken()
        let link = link(for: issued.token)
        let now = now()
        let expiresAt = now.addingTimeInterval(configuration.invitationTTL.timeInterval).truncatedToMilliseconds
        let configuration = configuration
        return try await write("invite") { w in
            try Self.authorize(w, access, account: accountID)
            let account = try Self.requireAccount(w, accountID)
            guard account.status == .active else {
                throw DomainError.failedPrecondition("account \(accountID): cannot invite: the account is disabled")
            }
            let groups = try Self.requireGroups(w, groupIDs, accountID: accountID)
            let inviter = try Self.displayName(of: actor, w, configuration: configuration)
            let user: User
            let existingUser = try w.user(email: email)
            if let existingUser {
                user = existingUser
            } else {
                user = try Self.withFreshID(.user) { id in
                    let user = User(id: id, firstName: firstName, lastName: lastName, email: email, phone: phone, createdAt: now, updatedAt: now)
                    try w.insert(user, passwordHash: nil)
                    return user
                }
            }
            let summaries = Self.summaries(groups)
            // Shown to the account's administrators until the person accepts.
            let typed = InvitedPerson(firstName: firstName, lastName: lastName, phone: phone)
            let member: AccountUser
            let action: AuditEvent.Action
            // A user created just now has no membership yet: nothing to look up.
            if existingUser != nil, let existing = try w.accountUser(accountID: accountID, userID: user.id)?.resolved(at: now) {
                guard let next = existing.status.applying(.reinvite) else {
                    throw DomainError.alreadyExists(
                        "account \(accountID): \(email) already has a membership (\(existing.id), status \(existing.status.apiName)); only a disabled membership can be invited again")
                }
                if let stale = try w.pendingInvitation(accountUserID: existing.id) {
                    try Self.endInvitation(w, stale, .replaced, at: now)
                }
                var updated = existing
                updated.status = next
                updated.invitedAt = now
                updated.joinedAt = nil
                updated.blockedAt = nil
                updated.invitationExpiresAt = expiresAt
                updated.invitedBy = actor.inviterReference
                updated.invitedAs = typed
                updated.groups = summaries
                try w.update(updated)
                try w.setGroups(accountUserID: updated.id, groupIDs: groupIDs)
                member = updated
                action = .userReinvited
            } else {
                member = try Self.withFreshID(.accountUser) { id in
                    let member = AccountUser(
                        id: id, accountID: accountID,
                        user: user,
                        groups: summaries, status: .invited, invitedAt: now, joinedAt: nil, lastAccessAt: nil, blockedAt: nil,
                        invitationExpiresAt: expiresAt, invitedBy: actor.inviterReference, invitedAs: typed)
                    try w.insert(member)
                    return member
                }
                action = .userInvited
            }
            try w.insert(
                InvitationRecord(
                    tokenHash: issued.hash, sealedToken: issued.sealed, accountUserID: member.id, createdAt: now,
                    expiresAt: expiresAt, state: .pending, endedAt: nil, inviterName: inviter))
            let mail = Emails.invitation(kind: .invitation, accountName: account.name, inviterName: inviter, expiresAt: expiresAt)
            try w.append(OutboxEntry(
                message: OutboxMessage(id: 0, kind: .invitation, recipient: user.email, subject: mail.subject, body: mail.body, accountUserID: member.id, createdAt: now, sentAt: nil),
                sealedToken: issued.sealed))
            try Self.audit(w, action, accountID: accountID, target: member.id, actor: actor, at: now, details: "user=\(user.id) groups=\(groupIDs.joined(separator: ","))")
            // The answer shows the person as the administrator typed them, whether
            // or not the email already had a login: never that login's own names,
            // phone or last sign-in, nor whether it exists.
            var shown = member.resolved(at: now)
            // Exactly what a user created by this invitation looks like: what
            // was typed, default language, no password, created now.
            shown.user = User(
                id: user.id, firstName: firstName, lastName: lastName, email: email, phone: phone, createdAt: now, updatedAt: now)
            return InvitedAccountUser(accountUser: shown, link: link)
        }
    }

    /// A page of an account's memberships, filtered and sorted, with stable
    /// keyset pages. The page token is sealed (``PageToken``) and bound to the
    /// account, statuses, group, query and sort it was issued for; it holds the
    /// last row's id (and, for time sorts, its time), never a name or email:
    /// the position of a text sort is that row's key when the next page is read.
    ///
    /// - Throws: `invalidArgument` for a malformed account or group id, a page
    ///   size outside 1...500, a query over 200 characters or 800 bytes, or a
    ///   page token that is malformed, not this service's, or "was not issued
    ///   for this query"; `notFound` when the account does not exist.
    public func listAccountUsers(accountID: String, _ request: AccountUserListRequest = AccountUserListRequest(), access: AccessRequirement) async throws -> Page<AccountUser> {
        try EntityKind.account.validate(accountID, field: "account_id")
        if let groupID = request.groupID { try EntityKind.group.validate(groupID, field: "group_id") }
        let limit = try Validation.pageSize(request.pageSize)
        let text = try Validation.optionalText(request.query, field: "query", maxLength: 200).lowercased()
        let sort = request.sort
        let statuses = request.statuses.map(\.apiName).sorted().joined(separator: ",")
        let tag = [
            "members", accountID, sort.rawValue, request.descending ? "desc" : "asc", statuses, request.groupID ?? "", text,
        ].joined(separator: "\u{1F}")
        let malformed = DomainError.invalidArgument("page_token: is malformed; start again without a page token")
        var position: (time: Int64?, id: String)?
        if let fields = try pageTokens.decode(request.pageToken, tag: tag, fieldCount: 2) {
            guard EntityKind.accountUser.isValid(fields[1]) else { throw malformed }
            switch sort {
            case .name, .email:
                guard fields[0].isEmpty else { throw malformed }
                position = (nil, fields[1])
            case .joined, .lastSignIn:
                guard let ms = Int64(fields[0]), ms >= 0 else { throw malformed }
                position = (ms, fields[1])
            }
        }
        let now = now()
        let start = position
        let rows = try await readPage { r in
            try Self.authorize(r, access, account: accountID)
            _ = try Self.requireAccount(r, accountID)
            var after: AccountUserQuery.Cursor?
            if let position = start {
                if let ms = position.time {
                    after = .init(key: .time(ms), id: position.id)
                } else {
                    guard let last = try r.accountUser(id: position.id), last.accountID == accountID else {
                        throw DomainError.invalidArgument("page_token: the row it continues from no longer exists; start again without a page token")
                    }
                    after = .init(key: AccountUserQuery.key(of: last, for: sort), id: position.id)
                }
            }
            let query = AccountUserQuery(
                accountID: accountID, statuses: request.statuses, groupID: request.groupID, text: text.isEmpty ? nil : text,
                sort: sort, descending: request.descending, after: after, limit: limit + 1, now: now)
            return try r.accountUsers(query).map { $0.resolved(at: now) }
        }
        return Self.page(rows, limit: limit) { last in
            switch AccountUserQuery.key(of: last, for: sort) {
            case .text: return pageTokens.encode(tag: tag, ["", last.id])
            case .time(let ms): return pageTokens.encode(tag: tag, [String(ms), last.id])
            }
        }
    }

    /// One membership.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` when there is none.
    public func accountUser(id: String, access: AccessRequirement) async throws -> AccountUser {
        try EntityKind.accountUser.validate(id, field: "account_user_id")
        let now = now()
        switch access {
        case .operator, .service:
            // Every account is in scope (authorize reads nothing for them):
            // one read of the membership, which the store may answer with a
            // single statement.
            guard let member = try await store.readAccountUser(id: id) else {
                throw DomainError.notFound("account_user \(id): not found")
            }
            return member.resolved(at: now)
        case .administrator:
            return try await read { r in try Self.requireMembership(r, id, now: now, in: Self.authorize(r, access, target: id)) }
        }
    }

    /// Replaces a membership's groups (at least one, all of its account).
    ///
    /// - Throws: `invalidArgument` for a malformed id or no group; `notFound`
    ///   for an unknown membership or a group not of its account;
    ///   `failedPrecondition` when the membership is `disabled` or `deleted`.
    public func setGroups(accountUserID: String, groupIDs: [String], actor: Actor, access: AccessRequirement) async throws -> AccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let groupIDs = try Validation.groupIDs(groupIDs)
        let now = now()
        return try await write("set groups") { w in
            var member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            guard member.status.allowsGroupChanges else {
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot change groups: the membership is \(member.status.apiName)")
            }
            let groups = try Self.requireGroups(w, groupIDs, accountID: member.accountID)
            try w.setGroups(accountUserID: accountUserID, groupIDs: groupIDs)
            member.groups = Self.summaries(groups)
            try Self.audit(w, .groupsChanged, accountID: member.accountID, target: accountUserID, actor: actor, at: now, details: "groups=\(groupIDs.joined(separator: ","))")
            return member
        }
    }

    /// Removes a user from an account: the membership becomes `disabled`, a
    /// pending invitation stops working, the user is told by email; the user and
    /// their other memberships are untouched, and they can be invited again.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` when it is already `disabled` or `deleted`.
    public func remove(accountUserID: String, actor: Actor, access: AccessRequirement) async throws -> AccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let now = now()
        return try await write("remove") { w in
            var member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            guard let next = member.status.applying(.remove) else {
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot remove: the membership is already \(member.status.apiName)")
            }
            if let pending = try w.pendingInvitation(accountUserID: accountUserID) {
                try Self.endInvitation(w, pending, .revoked, at: now)
            }
            member.status = next
            member.invitationExpiresAt = nil
            try w.update(member)
            let account = try Self.requireAccount(w, member.accountID)
            let mail = Emails.removal(accountName: account.name)
            try w.append(OutboxEntry(
                message: OutboxMessage(id: 0, kind: .removal, recipient: member.user.email, subject: mail.subject, body: mail.body, accountUserID: accountUserID, createdAt: now, sentAt: nil),
                sealedToken: nil))
            try Self.audit(w, .userRemoved, accountID: member.accountID, target: accountUserID, actor: actor, at: now)
            return member
        }
    }

    /// Group summaries in the order the store lists them (name, then id).
    static func summaries(_ groups: [Group]) -> [GroupSummary] {
        groups.map { GroupSummary(id: $0.id, name: $0.name) }
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// The pending invitation of `member`, or the refusal naming why there is none.
    static func requirePendingInvitation(_ r: any StoreReader, _ member: AccountUser, doing action: String, now: Date) throws -> InvitationRecord {
        switch member.status {
        case .invited:
            guard let invitation = try r.pendingInvitation(accountUserID: member.id), invitation.expiresAt > now else {
                throw DomainError.internalError("account_user \(member.id): is invited but has no pending invitation")
            }
            return invitation
        case .invitationExpired:
            let when = member.invitationExpiresAt.map { " on \($0.rfc3339)" } ?? ""
            throw DomainError.failedPrecondition("account_user \(member.id): cannot \(action): the invitation expired\(when); send a new invitation")
        default:
            throw DomainError.failedPrecondition("account_user \(member.id): cannot \(action): there is no pending invitation (status \(member.status.apiName))")
        }
    }

    /// The link of a pending invitation ("copy invitation link").
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` when the invitation expired (send a new
    ///   one) or there is none pending; `internal` when the stored token cannot
    ///   be unsealed with this service's key file.
    public func invitationLink(accountUserID: String, access: AccessRequirement) async throws -> InvitedAccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let now = now()
        let (member, sealed) = try await read { r in
            let member = try Self.requireMembership(r, accountUserID, now: now, in: Self.authorize(r, access, target: accountUserID))
            let invitation = try Self.requirePendingInvitation(r, member, doing: "copy the invitation link", now: now)
            return (member, invitation.sealedToken)
        }
        return InvitedAccountUser(accountUser: member, link: link(for: try secrets.unseal(sealed)))
    }

    /// Emails the same, still valid, invitation link again.
    ///
    /// - Throws: like ``invitationLink(accountUserID:access:)``.
    public func resendInvitation(accountUserID: String, actor: Actor, access: AccessRequirement) async throws -> InvitedAccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let now = now()
        let secrets = secrets
        let base = configuration.linkBaseURL
        return try await write("resend invitation") { w in
            let member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            let invitation = try Self.requirePendingInvitation(w, member, doing: "resend", now: now)
            let link = base + (try secrets.unseal(invitation.sealedToken))
            let account = try Self.requireAccount(w, member.accountID)
            let mail = Emails.invitation(kind: .resend, accountName: account.name, inviterName: invitation.inviterName, expiresAt: invitation.expiresAt)
            try w.append(OutboxEntry(
                message: OutboxMessage(id: 0, kind: .resend, recipient: member.user.email, subject: mail.subject, body: mail.body, accountUserID: accountUserID, createdAt: now, sentAt: nil),
                sealedToken: invitation.sealedToken))
            try Self.audit(w, .invitationResent, accountID: member.accountID, target: accountUserID, actor: actor, at: now)
            return InvitedAccountUser(accountUser: member, link: link)
        }
    }

    /// Sends a new invitation for an `invitationExpired` membership: the old link
    /// stops working, the new one is valid for the invitation lifetime from now.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` unless the invitation has expired
    ///   (a pending one should be resent or copied instead).
    public func renewInvitation(accountUserID: String, actor: Actor, access: AccessRequirement) async throws -> InvitedAccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let issued = secrets.issueToken()
        let link = link(for: issued.token)
        let now = now()
        let expiresAt = now.addingTimeInterval(configuration.invitationTTL.timeInterval).truncatedToMilliseconds
        let configuration = configuration
        return try await write("renew invitation") { w in
            var member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            guard let next = member.status.applying(.renew) else {
                if member.status == .invited {
                    let until = member.invitationExpiresAt.map { " until \($0.rfc3339)" } ?? ""
                    throw DomainError.failedPrecondition("account_user \(accountUserID): cannot send a new invitation: the current one is still valid\(until); resend it or copy its link instead")
                }
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot send a new invitation: only an expired invitation can be renewed (status \(member.status.apiName))")
            }
            if let old = try w.pendingInvitation(accountUserID: accountUserID) {
                try Self.endInvitation(w, old, .replaced, at: now)
            }
            let inviter = try Self.displayName(of: actor, w, configuration: configuration)
            try w.insert(
                InvitationRecord(
                    tokenHash: issued.hash, sealedToken: issued.sealed, accountUserID: accountUserID, createdAt: now,
                    expiresAt: expiresAt, state: .pending, endedAt: nil, inviterName: inviter))
            member.status = next
            member.invitedAt = now
            member.invitationExpiresAt = expiresAt
            member.invitedBy = actor.inviterReference
            try w.update(member)
            let account = try Self.requireAccount(w, member.accountID)
            let mail = Emails.invitation(kind: .newInvitation, accountName: account.name, inviterName: inviter, expiresAt: expiresAt)
            try w.append(OutboxEntry(
                message: OutboxMessage(id: 0, kind: .newInvitation, recipient: member.user.email, subject: mail.subject, body: mail.body, accountUserID: accountUserID, createdAt: now, sentAt: nil),
                sealedToken: issued.sealed))
            try Self.audit(w, .invitationRenewed, accountID: member.accountID, target: accountUserID, actor: actor, at: now)
            return InvitedAccountUser(accountUser: member, link: link)
        }
    }

    /// Revokes a pending or expired invitation: the membership becomes
    /// `disabled` (re-invitable) and the link says it was revoked. When the
    /// person never had a login and has no other membership, the user made by
    /// the invitation is forgotten instead (``forgetUnclaimedUser(_:userID:at:)``:
    /// the membership becomes `deleted`; inviting the email again starts afresh).
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` when there is no pending or expired invitation.
    public func revokeInvitation(accountUserID: String, actor: Actor, access: AccessRequirement) async throws -> AccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let now = now()
        return try await write("revoke invitation") { w in
            var member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            guard let next = member.status.applying(.revoke) else {
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot revoke: there is no pending or expired invitation (status \(member.status.apiName))")
            }
            if let pending = try w.pendingInvitation(accountUserID: accountUserID) {
                try Self.endInvitation(w, pending, .revoked, at: now)
            }
            member.status = next
            member.invitationExpiresAt = nil
            try w.update(member)
            try Self.forgetUnclaimedUser(w, userID: member.user.id, at: now)
            try Self.audit(w, .invitationRevoked, accountID: member.accountID, target: accountUserID, actor: actor, at: now)
            return try Self.requireMembership(w, accountUserID, now: now)
        }
    }

    /// Blocks an `active` member's access to the account. A member already
    /// `blocked` is returned as they are, with no audit event: blocking twice
    /// is a no-op success.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` unless the membership is `active` or `blocked`.
    public func block(accountUserID: String, reason: String = "", actor: Actor, access: AccessRequirement) async throws -> AccountUser {
        let reason = try Validation.optionalText(reason, field: "reason", maxLength: 500)
        return try await transition(
            accountUserID, .block, verb: "block", action: .userBlocked, actor: actor, access: access,
            details: reason.isEmpty ? "" : "reason: \(reason)", alreadyIn: .blocked
        ) { member, now in
            member.blockedAt = now
        }
    }

    /// Restores a `blocked` member's access.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` unless the membership is `blocked`.
    public func unblock(accountUserID: String, actor: Actor, access: AccessRequirement) async throws -> AccountUser {
        try await transition(accountUserID, .unblock, verb: "unblock", action: .userUnblocked, actor: actor, access: access) { member, _ in
            member.blockedAt = nil
        }
    }

    private func transition(
        _ id: String, _ event: MembershipStatus.Event, verb: String, action: AuditEvent.Action, actor: Actor,
        access: AccessRequirement, details: String = "", alreadyIn noOpStatus: MembershipStatus? = nil,
        _ apply: @escaping @Sendable (inout AccountUser, Date) -> Void
    ) async throws -> AccountUser {
        try EntityKind.accountUser.validate(id, field: "account_user_id")
        let now = now()
        return try await write(verb) { w in
            var member = try Self.requireMembership(w, id, now: now, in: Self.authorize(w, access, target: id))
            if let noOpStatus, member.status == noOpStatus { return member }
            guard let next = member.status.applying(event) else {
                throw DomainError.failedPrecondition("account_user \(id): cannot \(verb): the membership is \(member.status.apiName)")
            }
            member.status = next
            apply(&member, now)
            try w.update(member)
            try Self.audit(w, action, accountID: member.accountID, target: id, actor: actor, at: now, details: details)
            return member
        }
    }
}
