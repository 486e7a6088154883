import Foundation

extension UserDirectory {
    static let unknownInvitation = DomainError.notFound("invitation: not found")
    static let malformedToken = DomainError.invalidArgument(
        "token: is malformed: an invitation token is \"inv_\" followed by 43 letters, digits, \"-\" or \"_\"")

    /// Finds the invitation for a presented token: lookup by hash, then a
    /// constant-time comparison of the hashes. A token that cannot be one of
    /// ours is `invalidArgument`; a well-formed unknown one `notFound`, and so
    /// is one whose sealed copy no key of the key file opens (its key was
    /// removed: that revokes the links sealed under it).
    func invitation(_ r: any StoreReader, token: String) throws -> InvitationRecord {
        guard let hash = secrets.tokenHash(token, kind: .invitation) else { throw Self.malformedToken }
        guard let invitation = try r.invitation(tokenHash: hash),
            secrets.hashesMatch(hash, invitation.tokenHash),
            secrets.canUnseal(invitation.sealedToken)
        else { throw Self.unknownInvitation }
        return invitation
    }

    /// What the holder of an invitation link sees: account, inviter, email,
    /// expiry, and whether the link is pending, expired, accepted, declined,
    /// revoked or replaced. Never whether the email already has a login
    /// (`hasLogin` is always false): the invitee knows, and the administrator
    /// who holds the link too must not learn it.
    ///
    /// - Throws: `invalidArgument` for a malformed token; `notFound` for an
    ///   unknown one (revealing nothing else).
    public func showInvitation(token: String) async throws -> InvitationView {
        let now = now()
        return try await read { r in
            let invitation = try self.invitation(r, token: token)
            let member = try Self.requireMembership(r, invitation.accountUserID, now: now)
            let account = try Self.requireAccount(r, member.accountID)
            // Whether the email already has a login is not said: whoever holds the
            // link (the inviting administrator too) would learn it.
            return InvitationView(
                accountID: account.id, accountName: account.name, inviterName: invitation.inviterName,
                email: member.user.email, expiresAt: invitation.expiresAt, state: invitation.state(at: now))
        }
    }

    /// Accepts an invitation. A person without a password chooses one (checked
    /// against the policy); a person who already has a login proves it with
    /// their password instead, and keeps their profile. Then the membership is
    /// `active` and `joinedAt` is recorded. Of concurrent accepts of one link,
    /// exactly one succeeds.
    ///
    /// The password is checked exactly as sign-in checks it (``SignInThrottle``
    /// and ``withPasswordCheck(email:peer:password:field:during:_:)``): at most
    /// ``PasswordPolicy/maximumBytes`` bytes, checked before any hashing; an
    /// existing login's failures count against its email's lockout (shared with
    /// sign-in), a locked email is refused before any hashing, and the hashing
    /// gets only `peer`'s share of the hashing threads. Each wrong password is
    /// logged and written to the inviting account's audit trail
    /// (`invitation.accept_failed`), never with the password.
    ///
    /// Names and phone are validated always and stored only for a new login.
    /// Password hashing runs first on the hashing threads; the single write
    /// transaction then re-checks that the invitation is still pending and the
    /// login unchanged.
    ///
    /// - Throws: `invalidArgument` when terms are not accepted, a name or phone
    ///   is malformed, the password is over the byte limit, or the new password
    ///   breaks the policy (naming what is missing); `notFound` for an unknown
    ///   token; `failedPrecondition` when the invitation is expired, already
    ///   accepted, declined, revoked or replaced, or its account is disabled; `unauthenticated` when an
    ///   existing login's password does not match; `permissionDenied` when
    ///   `signedInUserID` is another person than the invited login;
    ///   `resourceExhausted` when the email is locked ("too many failed
    ///   sign-ins; try again in N seconds") or too many checks are waiting.
    ///
    /// - Parameters:
    ///   - signedInUserID: the user of the caller's active session, if any.
    ///     When it is the invited email's existing login, that session is the
    ///     proof and no password is needed.
    ///   - peer: the caller's origin (e.g. `uid:1000`), as for sign-in.
    public func acceptInvitation(
        token: String, firstName: String, lastName: String, phone: String? = nil, password: String, acceptTerms: Bool,
        signedInUserID: String? = nil, peer: String = ""
    ) async throws -> AccountUser {
        guard acceptTerms else { throw DomainError.invalidArgument("accept_terms: the terms of use must be accepted") }
        let firstName = try Validation.requiredText(firstName, field: "first_name")
        let lastName = try Validation.requiredText(lastName, field: "last_name")
        let phone = try Validation.phone(phone)
        try PasswordPolicy.checkLength(password)
        let started = now()
        let (userID, email, accountID, memberID, storedHash) = try await read { r in
            let invitation = try self.invitation(r, token: token)
            let member = try Self.requireMembership(r, invitation.accountUserID, now: started)
            try Self.requireAcceptable(invitation, member, at: started, doing: "accept")
            try Self.requireUsableAccount(try Self.requireAccount(r, member.accountID), "cannot accept its invitation")
            return (member.user.id, member.user.email, member.accountID, member.id, try r.passwordHash(userID: member.user.id))
        }
        if let signedInUserID, signedInUserID != userID {
            throw DomainError.permissionDenied("invitation: it was sent to another person's email; sign out to accept it as them")
        }
        let newHash: String?
        if storedHash != nil, signedInUserID == userID {
            newHash = nil  // the invited login's own active session proves it
        } else if let storedHash {
            do {
                try await withPasswordCheck(email: email, peer: peer, password: password, during: "accept_invitation") {
                    guard try await secrets.verifyPassword(password, hash: storedHash) else {
                        throw WrongPassword(error: DomainError.unauthenticated("password: does not match the existing login of the invited email"))
                    }
                }
            } catch let error as DomainError where error.kind == .unauthenticated {
                let at = now()
                try? await write("audit failed acceptance") { w in
                    try Self.audit(w, .invitationAcceptFailed, accountID: accountID, target: memberID, actor: .anonymous, at: at, details: "user=\(userID) reason=wrong password")
                }
                throw error
            }
            newHash = nil
        } else {
            try PasswordPolicy.check(password)
            newHash = try await withPasswordCheck(email: nil, peer: peer, password: password, during: "accept_invitation") {
                try await secrets.hashPassword(password)
            }
        }
        let now = now()
        return try await write("accept invitation") { w in
            let invitation = try self.invitation(w, token: token)
            var member = try Self.requireMembership(w, invitation.accountUserID, now: now)
            try Self.requireAcceptable(invitation, member, at: now, doing: "accept")
            try Self.requireUsableAccount(try Self.requireAccount(w, member.accountID), "cannot accept its invitation")
            guard member.user.id == userID, try w.passwordHash(userID: userID) == storedHash else {
                throw DomainError.failedPrecondition("invitation: the login of the invited email changed while accepting; try again")
            }
            var user = try Self.requireUser(w, userID)
            if let newHash {
                user.firstName = firstName
                user.lastName = lastName
                user.phone = phone
                user.hasPassword = true
                user.updatedAt = now
                try w.update(user)
                try w.setPasswordHash(userID: userID, hash: newHash)
            }
            try Self.endInvitation(w, invitation, .accepted, at: now)
            guard let next = member.status.applying(.accept) else {
                throw DomainError.failedPrecondition("account_user \(member.id): cannot accept: the membership is \(member.status.apiName)")
            }
            member.status = next
            member.joinedAt = now
            member.invitationExpiresAt = nil
            member.user = user
            // Accepted: the account's administrators now see the person's own data.
            member.invitedAs = nil
            try w.update(member)
            try Self.audit(w, .invitationAccepted, accountID: member.accountID, target: member.id, actor: .user(userID), at: now)
            return member
        }
    }

    /// Declines an invitation: it ends, and the membership becomes `disabled`
    /// (never active; the person can be invited again). When the person never
    /// had a login and has no other membership, the user made by the
    /// invitation is forgotten instead (``forgetUnclaimedUser(_:userID:at:)``).
    ///
    /// - Throws: `notFound` for an unknown token; `failedPrecondition` when the
    ///   invitation is not pending (expired, accepted, declined, revoked, replaced).
    public func declineInvitation(token: String) async throws -> InvitationView {
        let now = now()
        return try await write("decline invitation") { w in
            let invitation = try self.invitation(w, token: token)
            var member = try Self.requireMembership(w, invitation.accountUserID, now: now)
            try Self.requireAcceptable(invitation, member, at: now, doing: "decline")
            guard let next = member.status.applying(.decline) else {
                throw DomainError.failedPrecondition("account_user \(member.id): cannot decline: the membership is \(member.status.apiName)")
            }
            try Self.endInvitation(w, invitation, .declined, at: now)
            member.status = next
            member.invitationExpiresAt = nil
            try w.update(member)
            try Self.forgetUnclaimedUser(w, userID: member.user.id, at: now)
            try Self.audit(w, .invitationDeclined, accountID: member.accountID, target: member.id, actor: .anonymous, at: now)
            let account = try Self.requireAccount(w, member.accountID)
            return InvitationView(
                accountID: account.id, accountName: account.name, inviterName: invitation.inviterName,
                email: member.user.email, expiresAt: invitation.expiresAt, state: .declined)
        }
    }

    static func requireAcceptable(_ invitation: InvitationRecord, _ member: AccountUser, at now: Date, doing action: String) throws {
        switch invitation.state(at: now) {
        case .pending:
            guard member.status == .invited else {
                throw DomainError.failedPrecondition("invitation: cannot \(action): the membership is \(member.status.apiName)")
            }
        case .expired:
            throw DomainError.failedPrecondition("invitation: cannot \(action): the invitation expired on \(invitation.expiresAt.rfc3339); ask the account administrator for a new invitation")
        case let state:
            throw DomainError.failedPrecondition("invitation: cannot \(action): \(state.explanation)")
        }
    }
}
