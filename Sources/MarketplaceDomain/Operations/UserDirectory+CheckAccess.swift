import Foundation

extension UserDirectory {
    /// Most permissions one check may ask.
    public static let maxCheckedPermissions = 100
    /// Longest token a check accepts (issued tokens are far shorter).
    static let maxCheckedTokenLength = 512

    /// Whether the session of `token` may act in `accountID` (default: its
    /// current account) with every one of `permissions`, read in one
    /// transaction: whatever committed before the call is seen. Does not
    /// extend the session's idle timer unless `touch` (then at most once per
    /// ``DirectoryConfiguration/sessionTouchInterval``, like any signed-in call).
    ///
    /// - Returns: the answer; a refusal carries its ``AccessCheck/Denial``.
    /// - Throws: `invalidArgument` for an empty or over-long token, a malformed
    ///   account id, too many permissions or an empty or over-long one.
    public func checkAccess(token: String, accountID: String?, permissions: [String], touch: Bool) async throws -> AccessCheck {
        guard !token.isEmpty else { throw DomainError.invalidArgument("token: required") }
        guard token.utf8.count <= Self.maxCheckedTokenLength else {
            throw DomainError.invalidArgument("token: must be at most \(Self.maxCheckedTokenLength) bytes")
        }
        if let accountID { try EntityKind.account.validate(accountID, field: "account_id") }
        guard permissions.count <= Self.maxCheckedPermissions else {
            throw DomainError.invalidArgument("permissions: at most \(Self.maxCheckedPermissions) (got \(permissions.count))")
        }
        for (index, permission) in permissions.enumerated() where permission.isEmpty || permission.count > Validation.maxEntityNameLength {
            throw DomainError.invalidArgument("permissions[\(index)]: must be 1 to \(Validation.maxEntityNameLength) characters")
        }
        // A token that cannot be ours (wrong prefix or length) names no session.
        guard let hash = secrets.tokenHash(token, kind: .session) else { return AccessCheck(denial: .noSession) }
        let now = now()
        let idle = configuration.sessionIdleTimeout.timeInterval
        let (check, lastUsedAt) = try await read { r -> (AccessCheck, Date?) in
            guard let record = try r.session(tokenHash: hash), self.secrets.hashesMatch(hash, record.tokenHash) else {
                return (AccessCheck(denial: .noSession), nil)
            }
            let endsAt = min(record.expiresAt, record.lastUsedAt.addingTimeInterval(idle))
            guard self.isLive(record, at: now), let user = try r.user(id: record.userID), user.status == .active else {
                return (AccessCheck(denial: .sessionEnded, userID: record.userID, sessionExpiresAt: endsAt), nil)
            }
            let check = try Self.check(
                r, userID: record.userID, accountID: accountID ?? record.currentAccountID, permissions: permissions,
                now: now, sessionEndsAt: endsAt)
            return (check, record.lastUsedAt)
        }
        if touch, let lastUsedAt, now >= lastUsedAt.addingTimeInterval(configuration.sessionTouchInterval.timeInterval) {
            // Same bookkeeping as a call of the person (authenticate).
            if let session = try? await authenticate(token: token) {
                var touched = check
                touched.sessionExpiresAt = min(session.expiresAt, session.idleExpiresAt)
                return touched
            }
        }
        return check
    }

    /// The membership part of a check, for a live session's user.
    static func check(
        _ r: any StoreReader, userID: String, accountID: String?, permissions asked: [String], now: Date, sessionEndsAt: Date
    ) throws -> AccessCheck {
        var check = AccessCheck(denial: .notAMember, userID: userID, accountID: accountID, sessionExpiresAt: sessionEndsAt)
        guard let accountID, let access = try r.membershipAccess(accountID: accountID, userID: userID) else { return check }
        var status = access.status
        if status == .invited, let expiresAt = access.invitationExpiresAt, expiresAt <= now { status = .invitationExpired }
        check.accountUserID = access.accountUserID
        check.status = status
        check.groups = access.groups.map { GroupSummary(id: $0.id, name: $0.name) }
        var held = Set<String>()
        for group in access.groups { held.formUnion(group.permissions) }
        check.permissions = held.sorted()
        check.missingPermissions = asked.filter { !held.contains($0) }
        switch status {
        case .active: check.denial = nil
        case .blocked: check.denial = .membershipBlocked
        case .disabled: check.denial = .membershipDisabled
        case .invited, .invitationExpired: check.denial = .membershipInvited
        case .deleted: check.denial = .notAMember
        }
        if check.denial == nil, access.accountStatus != .active { check.denial = .accountDisabled }
        check.isAdministrator = check.denial == nil && access.groups.contains { $0.isAdministrators }
        if check.denial == nil, !check.missingPermissions.isEmpty { check.denial = .permissionMissing }
        return check
    }
}
