extension UserDirectory {
    /// Creates an account (status active).
    ///
    /// - Throws: `invalidArgument` when `name` is empty or longer than 200 characters.
    public func createAccount(name: String, type: Account.Kind, actor: Actor) async throws -> Account {
        let name = try Validation.requiredText(name, field: "name", maxLength: Validation.maxEntityNameLength)
        let now = now()
        return try await write("create account") { w in
            let account = try Self.withFreshID(.account) { id in
                let account = Account(id: id, name: name, type: type, status: .active, createdAt: now)
                try w.insert(account)
                return account
            }
            try Self.audit(w, .accountCreated, accountID: account.id, target: account.id, actor: actor, at: now, details: "type=\(type.rawValue)")
            return account
        }
    }

    /// The account with `id`.
    ///
    /// - Throws: `invalidArgument` for a malformed id; `notFound` when there is none.
    public func account(id: String, access: AccessRequirement) async throws -> Account {
        try EntityKind.account.validate(id, field: "account_id")
        return try await read { r in
            try Self.authorize(r, access, account: id)
            return try Self.requireAccount(r, id)
        }
    }

    /// A page of accounts ordered by id.
    ///
    /// - Throws: `invalidArgument` for a page size outside 1...500 or a malformed page token.
    public func listAccounts(pageSize: Int = 0, pageToken: String = "") async throws -> Page<Account> {
        let limit = try Validation.pageSize(pageSize)
        let after = try pageTokens.decodeID(pageToken, tag: "accounts", kind: .account)
        let rows = try await readPage { r in try r.accounts(after: after, limit: limit + 1) }
        return Self.page(rows, limit: limit) { pageTokens.encode(tag: "accounts", [$0.id]) }
    }

    /// Cuts `rows` (fetched with `limit + 1`) to a page and its next token.
    static func page<T>(_ rows: [T], limit: Int, token: (T) -> String) -> Page<T> {
        guard rows.count > limit else { return Page(items: rows, nextPageToken: "") }
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextPageToken: token(items[items.count - 1]))
    }
}
