import Foundation

extension UserDirectory {
    /// The accounts a user has joined (`active` or `blocked` memberships),
    /// ordered by account name, with whether the user administers each.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` for an unknown user.
    public func myAccounts(userID: String) async throws -> [MyAccount] {
        try EntityKind.user.validate(userID, field: "user_id")
        let now = now()
        return try await read { r in
            _ = try Self.requireUser(r, userID)
            var result: [MyAccount] = []
            for member in try r.accountUsers(userID: userID).map({ $0.resolved(at: now) }) {
                guard member.status == .active || member.status == .blocked, let account = try r.account(id: member.accountID) else { continue }
                result.append(
                    MyAccount(account: account, accountUserID: member.id, status: member.status, isAdministrator: try Self.isAdministrator(r, member)))
            }
            return result.sorted { ($0.account.name.lowercased(), $0.account.id) < ($1.account.name.lowercased(), $1.account.id) }
        }
    }

    /// What a user may do in an account right now, read from storage at each
    /// call: blocking, removal or deletion take effect on the very next call.
    /// No membership (or no such account or user) gives ``AccountAccess/none``.
    ///
    /// - Throws: `invalidArgument` for a malformed id.
    public func access(userID: String, accountID: String) async throws -> AccountAccess {
        try EntityKind.user.validate(userID, field: "user_id")
        try EntityKind.account.validate(accountID, field: "account_id")
        let now = now()
        return try await read { r in
            guard let member = try r.accountUser(accountID: accountID, userID: userID)?.resolved(at: now) else { return .none }
            return AccountAccess(accountUserID: member.id, status: member.status, isAdministrator: try Self.isAdministrator(r, member))
        }
    }

    /// Whether `member` is `active`, its user not deleted, and it holds its
    /// account's administrators' group.
    static func isAdministrator(_ r: any StoreReader, _ member: AccountUser) throws -> Bool {
        guard member.status == .active, member.user.status == .active,
            let administrators = try r.administratorsGroup(accountID: member.accountID)
        else { return false }
        return member.groups.contains { $0.id == administrators.id }
    }
}
