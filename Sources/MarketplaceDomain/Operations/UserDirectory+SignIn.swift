import Foundation

extension UserDirectory {
    static let badCredentials = DomainError.unauthenticated("email or password is incorrect")

    /// Checks an email and password (for sign-in). An unknown email, a deleted
    /// user, a user without a password and a wrong password give the same error
    /// after about the same time. Rehashes the password when the Argon2id
    /// parameters changed.
    ///
    /// Goes through the same throttle as ``signIn(email:password:peer:)``.
    ///
    /// - Throws: `invalidArgument` for an overlong password; `unauthenticated`
    ///   ("email or password is incorrect"); `resourceExhausted` when the email
    ///   is locked or too many hashes are queued.
    public func verifyPassword(email: String, password: String, peer: String = "") async throws -> User {
        let (user, hash) = try await withPasswordCheck(email: email, peer: peer, password: password, during: "verify_password") {
            do {
                return try await checkCredentials(email: email, password: password)
            } catch let error as DomainError where error == Self.badCredentials {
                throw WrongPassword(error: error)
            }
        }
        if secrets.passwordNeedsRehash(hash) {
            let rehashed = try await secrets.hashPassword(password)
            try await write("rehash password") { w in
                if try w.passwordHash(userID: user.id) == hash { try w.setPasswordHash(userID: user.id, hash: rehashed) }
            }
        }
        return user
    }

    /// The active user with this email and password, and the stored hash that
    /// matched. Every refusal is ``badCredentials`` after one Argon2id
    /// verification (a real one, or one against a dummy hash), so an unknown
    /// email and a wrong password look and last the same.
    ///
    /// - Throws: `unauthenticated`; `resourceExhausted` when too many hashes are queued.
    func checkCredentials(email: String, password: String) async throws -> (User, String) {
        guard let email = try? Validation.email(email), password.utf8.count <= PasswordPolicy.maximumBytes else {
            try await secrets.verifyAgainstDummy(password)
            throw Self.badCredentials
        }
        let found = try await read { r -> (User, String)? in
            guard let user = try r.user(email: email), user.status == .active, let hash = try r.passwordHash(userID: user.id) else { return nil }
            return (user, hash)
        }
        guard let (user, hash) = found else {
            try await secrets.verifyAgainstDummy(password)
            throw Self.badCredentials
        }
        guard try await secrets.verifyPassword(password, hash: hash) else { throw Self.badCredentials }
        return (user, hash)
    }

    /// Records a successful sign-in of a user (`lastSignInAt`).
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   user; `failedPrecondition` for a deleted one.
    @discardableResult
    public func recordSignIn(userID: String) async throws -> User {
        try EntityKind.user.validate(userID, field: "user_id")
        let now = now()
        return try await write("record sign-in") { w in try Self.markSignedIn(w, userID: userID, at: now) }
    }

    /// Records a successful sign-in inside a transaction.
    static func markSignedIn(_ w: any StoreWriter, userID: String, at now: Date) throws -> User {
        var user = try requireUser(w, userID)
        guard user.status == .active else { throw DomainError.failedPrecondition("user \(userID): is deleted") }
        user.lastSignInAt = now
        try w.update(user)
        return user
    }

    /// Records that a member used an account (`lastAccessAt`); only `active` members.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   membership; `failedPrecondition` unless the membership is `active`.
    @discardableResult
    public func recordAccountAccess(accountUserID: String) async throws -> AccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        let now = now()
        return try await write("record account access") { w in
            try Self.markAccountAccess(w, try Self.requireMembership(w, accountUserID, now: now), at: now)
        }
    }

    /// Records a member's use of their account inside a transaction.
    static func markAccountAccess(_ w: any StoreWriter, _ member: AccountUser, at now: Date) throws -> AccountUser {
        guard member.status == .active else {
            throw DomainError.failedPrecondition("account_user \(member.id): cannot access the account: the membership is \(member.status.apiName)")
        }
        var member = member
        member.lastAccessAt = now
        try w.update(member)
        return member
    }

    /// Whether a stored hash should be recomputed with the current parameters.
    public func passwordNeedsRehash(_ hash: String) -> Bool { secrets.passwordNeedsRehash(hash) }
}
