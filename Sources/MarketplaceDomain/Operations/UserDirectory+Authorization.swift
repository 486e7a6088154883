import Foundation

/// The accounts an operation may see once its ``AccessRequirement`` is verified.
enum AccountScope: Sendable, Equatable {
    /// An operator: every account.
    case all
    /// An administrator: their current account only.
    case account(String)

    func contains(_ accountID: String) -> Bool {
        switch self {
        case .all: true
        case .account(let id): id == accountID
        }
    }
}

// The check every account administrator's operation runs first, inside its own
// transaction (so the rights it reads are the ones the work sees), and the
// scoped look-ups that make another account's ids answer like unknown ids.
extension UserDirectory {
    /// Verifies `access` for an operation on `target`: an operator passes; a
    /// user must be an active administrator of their current account, and
    /// `target` must be the id the server read from the request.
    ///
    /// - Returns: the accounts the operation may see.
    /// - Throws: `permissionDenied`, naming the caller's own account, when they
    ///   are not an active administrator of it; `failedPrecondition` when that
    ///   account is disabled (operators still act on it); `internal` when `target` is not
    ///   the id the requirement was made for (a wiring bug: refused).
    static func authorize(_ r: any StoreReader, _ access: AccessRequirement, target: String) throws -> AccountScope {
        switch access {
        case .operator, .service:
            return .all
        case .administrator(let userID, let accountID, let verified):
            guard verified == target else {
                throw DomainError.internalError("authorization was checked for \(verified), not for \(target); refused")
            }
            guard let member = try r.accountUser(accountID: accountID, userID: userID) else {
                throw DomainError.permissionDenied("account \(accountID): you are not an active member of it")
            }
            guard try isAdministrator(r, member) else {
                if member.status == .blocked {
                    throw DomainError.permissionDenied("account \(accountID): your access to it is blocked")
                }
                if member.status == .active, member.user.status == .active {
                    throw DomainError.permissionDenied("account \(accountID): this needs its administrators' group")
                }
                throw DomainError.permissionDenied("account \(accountID): you are not an active member of it")
            }
            if let account = try r.account(id: accountID) {
                try requireUsableAccount(account, "its administrators cannot act in it")
            }
            return .account(accountID)
        }
    }

    /// ``authorize(_:_:target:)`` for an operation on the account `accountID`
    /// itself: an administrator may act only on their current account; any
    /// other id, known or not, gets the same answer, before anything is read.
    static func authorize(_ r: any StoreReader, _ access: AccessRequirement, account accountID: String) throws {
        if case .administrator(_, let current, let verified) = access, verified == accountID, current != accountID {
            throw DomainError.permissionDenied("account \(accountID): is not your current account (\(current)); switch account first")
        }
        _ = try authorize(r, access, target: accountID)
    }

    /// The membership `id` if `scope` may see it, with expiry resolved; one of
    /// another account answers exactly like an unknown id.
    static func requireMembership(_ r: any StoreReader, _ id: String, now: Date, in scope: AccountScope) throws -> AccountUser {
        guard let member = try r.accountUser(id: id), scope.contains(member.accountID) else {
            throw DomainError.notFound("account_user \(id): not found")
        }
        return member.resolved(at: now)
    }

    /// The group `id` if `scope` may see it; one of another account answers
    /// exactly like an unknown id.
    static func requireGroup(_ r: any StoreReader, _ id: String, in scope: AccountScope) throws -> Group {
        guard let group = try r.group(id: id), scope.contains(group.accountID) else {
            throw DomainError.notFound("group \(id): not found")
        }
        return group
    }
}
