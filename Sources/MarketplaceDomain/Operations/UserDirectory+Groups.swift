extension UserDirectory {
    /// Creates a group in an account.
    ///
    /// - Throws: `invalidArgument` for a malformed account id, an empty or long
    ///   name (1 to 100 characters), a long description or bad permissions;
    ///   `notFound` when the account does not exist; `alreadyExists` when the
    ///   account already has a group of that name (ignoring case), when
    ///   `isAdministrators` and the account already has an administrators'
    ///   group, or `isDefault` and it already has a default group.
    public func createGroup(
        accountID: String, name: String, description: String = "", permissions: [String] = [],
        isAdministrators: Bool = false, isDefault: Bool = false, actor: Actor, access: AccessRequirement
    ) async throws -> Group {
        try EntityKind.account.validate(accountID, field: "account_id")
        let name = try Validation.requiredText(name, field: "name", maxLength: Validation.maxNameLength)
        let description = try Validation.optionalText(description, field: "description", maxLength: 1000, allowsLineBreaks: true)
        let permissions = try Validation.permissions(permissions)
        let now = now()
        return try await write("create group") { w in
            try Self.authorize(w, access, account: accountID)
            _ = try Self.requireAccount(w, accountID)
            if let taken = try w.group(accountID: accountID, named: name) {
                throw DomainError.alreadyExists(
                    "name: \"\(name)\" is taken: account \(accountID) already has the group \"\(taken.name)\" (\(taken.id)); group names are unique within an account, ignoring case")
            }
            if isAdministrators, let existing = try w.administratorsGroup(accountID: accountID) {
                throw DomainError.alreadyExists("account \(accountID): already has an administrators' group (\(existing.id))")
            }
            if isDefault, let existing = try w.defaultGroup(accountID: accountID) {
                throw DomainError.alreadyExists("account \(accountID): already has a default group (\(existing.id))")
            }
            let group = try Self.withFreshID(.group) { id in
                let group = Group(
                    id: id, accountID: accountID, name: name, description: description, permissions: permissions,
                    isAdministrators: isAdministrators, isDefault: isDefault, createdAt: now)
                try w.insert(group)
                return group
            }
            try Self.audit(w, .groupCreated, accountID: accountID, target: group.id, actor: actor, at: now)
            return group
        }
    }

    /// The group with `id`.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` when there is none.
    public func group(id: String, access: AccessRequirement) async throws -> Group {
        try EntityKind.group.validate(id, field: "group_id")
        return try await read { r in try Self.requireGroup(r, id, in: Self.authorize(r, access, target: id)) }
    }

    /// A page of an account's groups ordered by name (ignoring case), ties by id.
    ///
    /// - Throws: `invalidArgument` for a malformed id, page size or token;
    ///   `notFound` when the account does not exist.
    public func listGroups(accountID: String, pageSize: Int = 0, pageToken: String = "", access: AccessRequirement) async throws -> Page<Group> {
        try EntityKind.account.validate(accountID, field: "account_id")
        let limit = try Validation.pageSize(pageSize)
        let tag = "groups:\(accountID)"
        var after: (name: String, id: String)?
        if let fields = try pageTokens.decode(pageToken, tag: tag, fieldCount: 2) {
            guard EntityKind.group.isValid(fields[1]) else {
                throw DomainError.invalidArgument("page_token: is malformed; start again without a page token")
            }
            after = (fields[0], fields[1])
        }
        let cursor = after
        let rows = try await readPage { r in
            try Self.authorize(r, access, account: accountID)
            _ = try Self.requireAccount(r, accountID)
            return try r.groups(accountID: accountID, after: cursor, limit: limit + 1)
        }
        return Self.page(rows, limit: limit) { pageTokens.encode(tag: tag, [$0.name, $0.id]) }
    }
}
