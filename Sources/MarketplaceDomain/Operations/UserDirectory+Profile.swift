import Foundation

extension UserDirectory {
    /// A user's own profile.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown
    ///   user; `failedPrecondition` for a deleted one.
    public func profile(userID: String) async throws -> User {
        try EntityKind.user.validate(userID, field: "user_id")
        return try await read { r in try Self.requireLiveUser(r, userID) }
    }

    /// Changes a user's own profile: names, phone, language, locale, icon
    /// (`nil` leaves a field unchanged; phone `""` clears it). `updatedAt` is
    /// set when anything changes. Email and password are changed elsewhere.
    ///
    /// - Throws: `invalidArgument` for a malformed id, an empty or long name, a
    ///   malformed phone, language or locale, or a bad icon; `notFound` for an
    ///   unknown user; `failedPrecondition` for a deleted one.
    public func updateProfile(userID: String, _ changes: ProfileChanges) async throws -> User {
        try EntityKind.user.validate(userID, field: "user_id")
        let firstName = try changes.firstName.map { name throws(DomainError) in try Validation.requiredText(name, field: "first_name") }
        let lastName = try changes.lastName.map { name throws(DomainError) in try Validation.requiredText(name, field: "last_name") }
        let phone = try changes.phone.map { phone throws(DomainError) in try Validation.phone(phone) }
        let language = try changes.language.map { tag throws(DomainError) in try Validation.languageTag(tag, field: "language") }
        let locale = try changes.locale.map { tag throws(DomainError) in try Validation.languageTag(tag, field: "locale") }
        let icon = try changes.icon.map { icon throws(DomainError) in try Validation.icon(icon) }
        let now = now()
        return try await write("update profile") { w in
            let original = try Self.requireLiveUser(w, userID)
            var user = original
            if let firstName { user.firstName = firstName }
            if let lastName { user.lastName = lastName }
            if let phone { user.phone = phone }
            if let language { user.language = language }
            if let locale { user.locale = locale }
            if let icon { user.icon = icon }
            guard user != original else { return original }
            user.updatedAt = now
            try w.update(user)
            return user
        }
    }

    /// Changes a user's password: the current one must be given, checked the
    /// way sign-in checks it (``SignInThrottle``: failures count against the
    /// email's lockout, hashing gets the peer's share; each failure is logged
    /// and written to the audit trail as `user.password_check_failed`), the new
    /// one must meet ``PasswordPolicy`` and differ from it. Both are at most
    /// ``PasswordPolicy/maximumBytes`` bytes, checked before any hashing.
    /// Then one transaction stores the new hash and ends every other session
    /// of the user, keeping `sessionID`.
    ///
    /// - Throws: `invalidArgument` for a malformed id, a password over the byte
    ///   limit, a new password that breaks the policy (naming what is missing)
    ///   or equals the current one; `unauthenticated` when the current password
    ///   is wrong, or the session expired or is not the user's; `notFound` for
    ///   an unknown user; `failedPrecondition` for a deleted user, a user
    ///   without a password, or a password changed meanwhile;
    ///   `resourceExhausted` when throttled or too many hashes are queued.
    public func changePassword(
        userID: String, sessionID: String, currentPassword: String, newPassword: String, peer: String = ""
    ) async throws {
        try EntityKind.user.validate(userID, field: "user_id")
        try Session.validateID(sessionID)
        try PasswordPolicy.checkLength(currentPassword, field: "current_password")
        try PasswordPolicy.check(newPassword, field: "new_password")
        guard newPassword != currentPassword else {
            throw DomainError.invalidArgument("new_password: must differ from the current password")
        }
        let started = now()
        let (email, hash) = try await read { r in
            guard let session = try r.session(id: sessionID), session.userID == userID, self.isLive(session, at: started) else {
                throw Self.sessionExpired
            }
            let user = try Self.requireLiveUser(r, userID)
            guard let hash = try r.passwordHash(userID: userID) else {
                throw DomainError.failedPrecondition("user \(userID): has no password yet")
            }
            return (user.email, hash)
        }
        let newHash: String
        do {
            newHash = try await withPasswordCheck(
                email: email, peer: peer, password: currentPassword, field: "current_password", during: "change_password"
            ) {
                guard try await secrets.verifyPassword(currentPassword, hash: hash) else {
                    throw WrongPassword(error: DomainError.unauthenticated("current_password: is incorrect"))
                }
                return try await secrets.hashPassword(newPassword)
            }
        } catch let error as DomainError where error.kind == .unauthenticated {
            let at = now()
            try? await write("audit failed password check") { w in
                try Self.audit(w, .passwordCheckFailed, accountID: nil, target: userID, actor: .user(userID), at: at, details: "during=change_password")
            }
            throw error
        }
        let now = now()
        let ended = try await write("change password") { w in
            guard let session = try w.session(id: sessionID), session.userID == userID, self.isLive(session, at: now) else {
                throw Self.sessionExpired
            }
            var user = try Self.requireLiveUser(w, userID)
            guard try w.passwordHash(userID: userID) == hash else {
                throw DomainError.failedPrecondition("user \(userID): the password was changed meanwhile; try again")
            }
            try w.setPasswordHash(userID: userID, hash: newHash)
            user.updatedAt = now
            try w.update(user)
            return try w.deleteSessions(userID: userID, except: sessionID)
        }
        logger.debug("password changed", metadata: ["session": "\(sessionID)", "other_sessions_ended": "\(ended)"])
    }

    /// The user, refusing a deleted one.
    static func requireLiveUser(_ r: any StoreReader, _ id: String) throws -> User {
        let user = try requireUser(r, id)
        guard user.status == .active else { throw DomainError.failedPrecondition("user \(id): is deleted") }
        return user
    }
}
