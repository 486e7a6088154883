import Foundation

extension UserDirectory {
    /// Adds groups to a membership's, and removes others, in one transaction on
    /// the current groups: two administrators editing one member's groups at
    /// once both take effect (a read-then-`setGroups` could lose one).
    ///
    /// Groups added that the member holds, or removed that they do not, change
    /// nothing.
    ///
    /// - Throws: `invalidArgument` for a malformed id or no group to add or
    ///   remove; `notFound` for an unknown membership (or one outside the
    ///   caller's account) or an added group not of its account; `failedPrecondition` when the membership is
    ///   `disabled` or `deleted`, or when no group would remain.
    public func editGroups(
        accountUserID: String, adding: [String] = [], removing: [String] = [], actor: Actor,
        access: AccessRequirement
    ) async throws -> AccountUser {
        try EntityKind.accountUser.validate(accountUserID, field: "account_user_id")
        guard !adding.isEmpty || !removing.isEmpty else {
            throw DomainError.invalidArgument("group_ids: at least one group is required")
        }
        let adding = adding.isEmpty ? [] : try Validation.groupIDs(adding)
        let removing = removing.isEmpty ? [] : try Validation.groupIDs(removing)
        let now = now()
        return try await write("edit groups") { w in
            var member = try Self.requireMembership(w, accountUserID, now: now, in: Self.authorize(w, access, target: accountUserID))
            guard member.status.allowsGroupChanges else {
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot change groups: the membership is \(member.status.apiName)")
            }
            _ = try Self.requireGroups(w, adding, accountID: member.accountID)
            let current = member.groups.map(\.id)
            var next = current.filter { !removing.contains($0) }
            for id in adding where !next.contains(id) { next.append(id) }
            guard !next.isEmpty else {
                throw DomainError.failedPrecondition("account_user \(accountUserID): cannot remove every group: a member holds at least one group")
            }
            guard Set(next) != Set(current) else { return member }
            let groups = try Self.requireGroups(w, next, accountID: member.accountID)
            try w.setGroups(accountUserID: accountUserID, groupIDs: next)
            member.groups = Self.summaries(groups)
            var details: [String] = []
            if !adding.isEmpty { details.append("added=\(adding.joined(separator: ","))") }
            if !removing.isEmpty { details.append("removed=\(removing.joined(separator: ","))") }
            try Self.audit(w, .groupsChanged, accountID: member.accountID, target: accountUserID, actor: actor, at: now, details: details.joined(separator: " "))
            return member
        }
    }
}
