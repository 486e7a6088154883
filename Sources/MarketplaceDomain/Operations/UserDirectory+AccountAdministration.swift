import Foundation

// Renaming, disabling and re-enabling accounts: platform operators only.
extension UserDirectory {
    /// Renames an account. Renaming to its current name changes nothing (no
    /// audit event).
    ///
    /// - Throws: `invalidArgument` for a malformed id or an empty or long name
    ///   (1 to 200 characters); `permissionDenied` unless `access` is an
    ///   operator's; `notFound` when there is no such account.
    public func renameAccount(id: String, name: String, actor: Actor, access: AccessRequirement) async throws -> Account {
        try EntityKind.account.validate(id, field: "account_id")
        let name = try Validation.requiredText(name, field: "name", maxLength: Validation.maxEntityNameLength)
        let now = now()
        return try await write("rename account") { w in
            try Self.requireOperator(access, "renaming an account")
            var account = try Self.requireAccount(w, id)
            guard account.name != name else { return account }
            let old = account.name
            account.name = name
            try w.update(account)
            try Self.audit(w, .accountRenamed, accountID: id, target: id, actor: actor, at: now, details: "from=\(old.debugDescription)")
            return account
        }
    }

    /// Sets an account's status: `disabled` stops its members from acting in
    /// it (see ``requireUsableAccount(_:_:)``), `active` lets them again.
    /// Setting the status it has changes nothing (no audit event).
    ///
    /// - Throws: `invalidArgument` for a malformed id; `permissionDenied`
    ///   unless `access` is an operator's; `notFound` when there is no such account.
    public func setAccountStatus(id: String, _ status: Account.Status, actor: Actor, access: AccessRequirement) async throws -> Account {
        try EntityKind.account.validate(id, field: "account_id")
        let now = now()
        return try await write(status == .disabled ? "disable account" : "enable account") { w in
            try Self.requireOperator(access, status == .disabled ? "disabling an account" : "enabling an account")
            var account = try Self.requireAccount(w, id)
            guard account.status != status else { return account }
            account.status = status
            try w.update(account)
            try Self.audit(w, status == .disabled ? .accountDisabled : .accountEnabled, accountID: id, target: id, actor: actor, at: now)
            return account
        }
    }

    /// Refuses anyone but a platform operator.
    static func requireOperator(_ access: AccessRequirement, _ what: String) throws {
        guard case .operator = access else { throw DomainError.permissionDenied("\(what) is for platform operators") }
    }

    /// Refuses acting in a disabled account.
    ///
    /// - Throws: `failedPrecondition` "account ACC-...: is disabled".
    static func requireUsableAccount(_ account: Account, _ doing: String) throws {
        guard account.status == .active else {
            throw DomainError.failedPrecondition("account \(account.id): \(doing): the account is disabled")
        }
    }
}
