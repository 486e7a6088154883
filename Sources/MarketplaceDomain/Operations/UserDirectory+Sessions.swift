import Foundation

extension UserDirectory {
    static let sessionExpired = DomainError.unauthenticated("session expired or unknown; sign in again")

    /// How many expired sessions a sign-in deletes at most: each sign-in
    /// creates one session and clears up to this many, so the table stays
    /// bounded without a separate job.
    static let expiredSessionsPurgedPerSignIn = 100

    /// Signs a user in with email and password and starts a session whose
    /// current account is the `active` membership the user used most recently
    /// (`lastAccessAt`, then `joinedAt`) in an account that is not disabled, or none. Records `lastSignInAt`,
    /// rehashes the password when the Argon2id parameters changed, and clears a
    /// few expired sessions, all in one transaction after the hashing.
    ///
    /// An unknown email, a deleted user, a user without a password and a wrong
    /// password give the same error after about the same time. The check
    /// follows the rule of ``SignInThrottle`` (shared with every other password
    /// check): an email with too many recent failures is refused before any
    /// hashing; `peer` (a key for the caller's origin, e.g. its uid; empty
    /// means none) only gets a bounded share of the hashing threads, and its
    /// failures never refuse another person's correct password.
    ///
    /// - Returns: the bearer token (shown only now; stored only as its SHA-256
    ///   hash), the session and the user.
    /// - Throws: `invalidArgument` for a password over ``PasswordPolicy/maximumBytes``
    ///   bytes; `unauthenticated` ("email or password is incorrect");
    ///   `resourceExhausted` when the email is locked ("too many failed
    ///   sign-ins; try again in N seconds"), or when too many checks from this
    ///   peer or hashes in all are waiting ("retry shortly").
    public func signIn(email: String, password: String, peer: String) async throws -> SignedIn {
        let signedIn = try await withPasswordCheck(email: email, peer: peer, password: password, during: "sign_in") {
            do {
                return try await startSession(email: email, password: password)
            } catch let error as DomainError where error == Self.badCredentials {
                throw WrongPassword(error: error)
            }
        }
        logger.debug("session started", metadata: ["session": "\(signedIn.session.id)"])
        return signedIn
    }

    private func startSession(email: String, password: String) async throws -> SignedIn {
        let (user, hash) = try await checkCredentials(email: email, password: password)
        let rehashed: String? = secrets.passwordNeedsRehash(hash) ? try await secrets.hashPassword(password) : nil
        let issued = secrets.issueBearerToken()
        let now = now()
        let expiresAt = now.addingTimeInterval(configuration.sessionLifetime.timeInterval).truncatedToMilliseconds
        let idleSince = now.addingTimeInterval(-configuration.sessionIdleTimeout.timeInterval)
        let (signedInUser, record) = try await write("sign in") { w in
            // The login may have changed (password, deletion) since the check.
            guard let current = try w.user(id: user.id), current.status == .active, try w.passwordHash(userID: user.id) == hash else {
                throw Self.badCredentials
            }
            if let rehashed { try w.setPasswordHash(userID: user.id, hash: rehashed) }
            let signedInUser = try Self.markSignedIn(w, userID: user.id, at: now)
            try w.deleteExpiredSessions(now: now, idleSince: idleSince, limit: Self.expiredSessionsPurgedPerSignIn)
            let accountID = try Self.preferredAccountID(w, userID: user.id)
            let record = try Self.withFreshSessionID { id in
                let record = SessionRecord(
                    id: id, tokenHash: issued.hash, userID: user.id, currentAccountID: accountID, createdAt: now,
                    lastUsedAt: now, expiresAt: expiresAt)
                try w.insert(record)
                return record
            }
            return (signedInUser, record)
        }
        return SignedIn(token: issued.token, session: session(record), user: signedInUser)
    }

    /// The session a bearer token belongs to, if it is still valid: known,
    /// before its absolute and idle expiry, and its user not deleted. Records
    /// the use (`lastUsedAt`) at most once per ``DirectoryConfiguration/sessionTouchInterval``;
    /// otherwise only reads.
    ///
    /// - Throws: `unauthenticated` ("session expired or unknown; sign in again").
    public func authenticate(token: String) async throws -> Session {
        guard let hash = secrets.tokenHash(token, kind: .session) else { throw Self.sessionExpired }
        let now = now()
        let found = try await read { r in try self.liveSession(r, tokenHash: hash, at: now) }
        guard let found else { throw Self.sessionExpired }
        guard now >= found.lastUsedAt.addingTimeInterval(configuration.sessionTouchInterval.timeInterval) else {
            return session(found)
        }
        let touched = try await write("touch session") { w -> SessionRecord? in
            guard var record = try self.liveSession(w, tokenHash: hash, at: now) else { return nil }
            if record.lastUsedAt < now {
                record.lastUsedAt = now
                try w.update(record)
            }
            return record
        }
        guard let touched else { throw Self.sessionExpired }
        return session(touched)
    }

    /// Ends a session (sign-out). Ending a session that no longer exists succeeds.
    ///
    /// - Throws: `invalidArgument` for a malformed session id.
    public func signOut(sessionID: String) async throws {
        try Session.validateID(sessionID)
        let ended = try await write("sign out") { w in try w.deleteSession(id: sessionID) }
        if ended { logger.debug("session ended", metadata: ["session": "\(sessionID)"]) }
    }

    /// Makes `accountID` the session's current account, without signing in
    /// again, and records the member's access to it (`lastAccessAt`). Only an
    /// account where the user's membership is `active` may become current.
    ///
    /// - Returns: the updated session.
    /// - Throws: `invalidArgument` for a malformed id; `unauthenticated` when
    ///   the session expired or ended; `permissionDenied` when the user has no
    ///   membership of the account (or it does not exist), the membership is
    ///   blocked ("your access to ACC-... is blocked") or not active;
    ///   `failedPrecondition` when the account is disabled.
    public func switchAccount(sessionID: String, accountID: String) async throws -> Session {
        try Session.validateID(sessionID)
        try EntityKind.account.validate(accountID, field: "account_id")
        let now = now()
        let record = try await write("switch account") { w in
            guard var record = try w.session(id: sessionID), self.isLive(record, at: now),
                let user = try w.user(id: record.userID), user.status == .active
            else { throw Self.sessionExpired }
            guard let member = try w.accountUser(accountID: accountID, userID: record.userID)?.resolved(at: now) else {
                throw DomainError.permissionDenied("you are not a member of account \(accountID)")
            }
            switch member.status {
            case .active:
                break
            case .blocked:
                throw DomainError.permissionDenied("your access to \(accountID) is blocked")
            default:
                throw DomainError.permissionDenied("you are not an active member of account \(accountID) (status \(member.status.apiName))")
            }
            try Self.requireUsableAccount(try Self.requireAccount(w, accountID), "cannot switch to it")
            _ = try Self.markAccountAccess(w, member, at: now)
            record.currentAccountID = accountID
            record.lastUsedAt = max(record.lastUsedAt, now)
            try w.update(record)
            return record
        }
        logger.debug("session switched account", metadata: ["session": "\(sessionID)", "account": "\(accountID)"])
        return session(record)
    }

    // MARK: - Helpers

    /// The public form of a stored session.
    func session(_ record: SessionRecord) -> Session {
        Session(
            id: record.id, userID: record.userID, currentAccountID: record.currentAccountID, createdAt: record.createdAt,
            lastUsedAt: record.lastUsedAt, expiresAt: record.expiresAt,
            idleExpiresAt: record.lastUsedAt.addingTimeInterval(configuration.sessionIdleTimeout.timeInterval))
    }

    /// Whether a stored session is before its absolute and idle expiry at `now`.
    func isLive(_ record: SessionRecord, at now: Date) -> Bool {
        now < record.expiresAt && now < record.lastUsedAt.addingTimeInterval(configuration.sessionIdleTimeout.timeInterval)
    }

    /// The live session for a token hash (compared in constant time) whose user
    /// is not deleted, or `nil`.
    func liveSession(_ r: any StoreReader, tokenHash: [UInt8], at now: Date) throws -> SessionRecord? {
        guard let record = try r.session(tokenHash: tokenHash), secrets.hashesMatch(tokenHash, record.tokenHash),
            isLive(record, at: now), let user = try r.user(id: record.userID), user.status == .active
        else { return nil }
        return record
    }

    /// The account of the user's `active` membership used most recently
    /// (`lastAccessAt`, then `joinedAt`, then the smallest membership id) among
    /// accounts that are not disabled, or `nil`.
    static func preferredAccountID(_ r: any StoreReader, userID: String) throws -> String? {
        let active = try r.accountUsers(userID: userID).filter { member in
            try member.status == .active && r.account(id: member.accountID)?.status == .active
        }
        return active.min { a, b in
            let ka = (a.lastAccessAt ?? .distantPast, a.joinedAt ?? .distantPast)
            let kb = (b.lastAccessAt ?? .distantPast, b.joinedAt ?? .distantPast)
            return ka != kb ? ka > kb : a.id < b.id
        }?.accountID
    }

    /// Inserts with fresh random session ids until one is free.
    static func withFreshSessionID<T>(_ insert: (String) throws -> T) throws -> T {
        for _ in 0..<16 {
            do {
                return try insert(Session.generateID())
            } catch let conflict as StoreConflict where conflict.constraint == .primaryKey {
                continue
            }
        }
        throw DomainError(.internal, "could not allocate a unique session id")
    }
}
