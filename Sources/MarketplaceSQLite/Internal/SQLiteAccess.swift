import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// The reader and writer over one GRDB transaction. All SQL of the service is
/// here and in ``Schema``. Used synchronously inside one `read`/`write` body.
struct SQLiteAccess: StoreWriter {
    let db: Database
    /// Large accounts' text queries from memory (reads only; nil: scan).
    let search: MemberSearch?

    init(_ db: Database, search: MemberSearch? = nil) {
        self.db = db
        self.search = search
    }

    /// A prepared statement from the connection's cache, so hot paths skip
    /// SQLite's parsing and planning. SQL with long `IN` lists (over 64
    /// placeholders: many groups or outbox ids at once) is prepared afresh
    /// instead, which keeps the cache small. (Pages pass their ids as one
    /// JSON array to `json_each`, one statement whatever their size.)
    private func statement(_ sql: String) throws -> Statement {
        var placeholders = 0
        for byte in sql.utf8 where byte == UInt8(ascii: "?") {
            placeholders += 1
            if placeholders > 64 { return try db.makeStatement(sql: sql) }
        }
        return try db.cachedStatement(sql: sql)
    }

    // MARK: Row decoding

    private static func date(_ ms: Int64?) -> Date? { ms.map(Date.init(millisecondsSince1970:)) }

    private static func group(_ row: Row) -> Group {
        let permissionsJSON: String = row["permissions"]
        let permissions = (try? JSONDecoder().decode([String].self, from: Data(permissionsJSON.utf8))) ?? []
        return Group(
            id: row["id"], accountID: row["account_id"], name: row["name"], description: row["description"],
            permissions: permissions, isAdministrators: row["is_administrators"], isDefault: row["is_default"],
            createdAt: Date(millisecondsSince1970: row["created_at"]))
    }

    /// Decoded by position in ``MemberColumns/member(_:groups:)``: keep the
    /// two in step.
    static let memberSelect = "SELECT \(memberColumns) \(memberTables)"
    private static let memberColumns = """
        au.id, au.account_id, au.user_id, au.status, au.invited_at, au.joined_at, au.last_access_at,
               au.blocked_at, au.invitation_expires_at, au.invited_by,
               u.first_name, u.last_name, u.email, u.status AS user_status, u.last_sign_in_at,
               u.phone, u.language, u.locale, u.icon, u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.blocked_at,
               au.invited_first_name, au.invited_last_name, au.invited_phone
        """
    private static let memberTables = "FROM account_users au JOIN users u ON u.id = au.user_id"

    /// The rows `sql` selects, each decoded from the raw statement through
    /// the C API (``RecordColumns``), in order.
    private func rows<T>(_ sql: String, _ arguments: StatementArguments, _ decode: (OpaquePointer) throws -> T) throws -> [T] {
        let select = try statement(sql)
        try select.setArguments(arguments)
        var found: [T] = []
        try MemberColumns.forEachRow(of: select) { found.append(try decode($0)) }
        return found
    }

    /// The memberships `sql` (a `memberSelect`) selects, in its order, each
    /// with its groups (``addGroups(to:)``); decoded through the C API
    /// (``MemberColumns``).
    private func members(_ sql: String, _ arguments: StatementArguments) throws -> [AccountUser] {
        let select = try statement(sql)
        try select.setArguments(arguments)
        var members: [AccountUser] = []
        try MemberColumns.forEachRow(of: select) { row in members.append(try MemberColumns.member(row, groups: [])) }
        try addGroups(to: &members)
        return members
    }

    /// Fills in each membership's groups (ordered by name, then id, as
    /// bytes): every membership's group links in one select, in the order of
    /// `members` (no sort), then each group's name once.
    private func addGroups(to members: inout [AccountUser]) throws {
        guard !members.isEmpty else { return }
        let links = try statement("""
            SELECT c.key, aug.group_id FROM json_each(?) c
            CROSS JOIN account_user_groups aug ON aug.account_user_id = c.value
            """)
        try links.setArguments([try Self.jsonArray(members.map(\.id))])
        var names: [String: String] = [:]
        try MemberColumns.forEachRow(of: links) { row in
            let position = Int(sqlite3_column_int64(row, 0))
            guard members.indices.contains(position) else { throw Self.outOfOrder("a group link's membership", position) }
            let id = try MemberColumns.text(row, 1)
            // As the join it replaces: a link to no group (foreign keys forbid it) is not listed.
            guard let name = try names[id] ?? groupName(id: id) else { return }
            names[id] = name
            members[position].groups.append(GroupSummary(id: id, name: name))
        }
        for index in members.indices where members[index].groups.count > 1 {
            members[index].groups.sort { a, b in
                a.name == b.name ? a.id.utf8.lexicographicallyPrecedes(b.id.utf8) : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
            }
        }
    }

    private func groupName(id: String) throws -> String? {
        let select = try statement("SELECT name FROM groups WHERE id = ?").sqliteStatement
        defer { sqlite3_reset(select) }
        try MemberColumns.bind(id, at: 1, to: select)
        return try MemberColumns.step(select) ? try MemberColumns.text(select, 0) : nil
    }

    /// `json_each` gave a position it cannot have (past the array, or out of
    /// the array's order under a `CROSS JOIN`, which SQLite documents never
    /// to happen): fail the read rather than answer in another order.
    private static func outOfOrder(_ what: String, _ position: Int) -> DatabaseError {
        DatabaseError(resultCode: .SQLITE_INTERNAL, message: "\(what) came at position \(position), out of json_each's order")
    }

    /// `values` as a JSON array of strings (for `json_each`). Ids need no
    /// escaping and are joined as they are; anything else goes through
    /// JSONEncoder, as the groups' permissions do.
    private static func jsonArray(_ values: [String]) throws -> String {
        guard values.allSatisfy({ !$0.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }) }) else {
            return String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        }
        return values.isEmpty ? "[]" : "[\"" + values.joined(separator: "\",\"") + "\"]"
    }

    private static func invitation(_ row: Row) -> InvitationRecord {
        let hash: Data = row["token_hash"]
        let sealed: Data = row["sealed_token"]
        return InvitationRecord(
            tokenHash: [UInt8](hash), sealedToken: [UInt8](sealed), accountUserID: row["account_user_id"],
            createdAt: Date(millisecondsSince1970: row["created_at"]), expiresAt: Date(millisecondsSince1970: row["expires_at"]),
            state: InvitationRecord.StoredState(rawValue: row["state"]) ?? .revoked, endedAt: date(row["ended_at"]),
            inviterName: row["inviter_name"])
    }

    // MARK: StoreReader

    func account(id: String) throws -> Account? {
        try rows("SELECT \(RecordColumns.accountColumns) FROM accounts WHERE id = ?", [id], RecordColumns.account).first
    }

    func accounts(after afterID: String?, limit: Int) throws -> [Account] {
        try rows(
            "SELECT \(RecordColumns.accountColumns) FROM accounts WHERE id > ? ORDER BY id LIMIT ?", [afterID ?? "", limit],
            RecordColumns.account)
    }

    func group(id: String) throws -> Group? {
        try Row.fetchOne(try statement("SELECT * FROM groups WHERE id = ?"), arguments: [id]).map(Self.group)
    }

    func groups(ids: [String]) throws -> [Group] {
        guard !ids.isEmpty else { return [] }
        return try Row.fetchAll(try statement("SELECT * FROM groups WHERE id IN (\(databaseQuestionMarks(count: ids.count)))"),
            arguments: StatementArguments(ids)
        ).map(Self.group)
    }

    func groups(accountID: String, after: (name: String, id: String)?, limit: Int) throws -> [Group] {
        guard let after else {
            return try Row.fetchAll(try statement("SELECT * FROM groups WHERE account_id = ? ORDER BY name COLLATE NOCASE, id LIMIT ?"),
                arguments: [accountID, limit]
            ).map(Self.group)
        }
        return try Row.fetchAll(try statement("""
                SELECT * FROM groups WHERE account_id = ?
                    AND (name COLLATE NOCASE > ? OR (name COLLATE NOCASE = ? AND id > ?))
                ORDER BY name COLLATE NOCASE, id LIMIT ?
                """),
            arguments: [accountID, after.name, after.name, after.id, limit]
        ).map(Self.group)
    }

    func group(accountID: String, named name: String) throws -> Group? {
        let wanted = name.lowercased()
        return try Row.fetchAll(try statement("SELECT * FROM groups WHERE account_id = ?"), arguments: [accountID])
            .map(Self.group).first { $0.name.lowercased() == wanted }
    }

    func administratorsGroup(accountID: String) throws -> Group? {
        try Row.fetchOne(try statement("SELECT * FROM groups WHERE account_id = ? AND is_administrators = 1"), arguments: [accountID])
            .map(Self.group)
    }

    func defaultGroup(accountID: String) throws -> Group? {
        try Row.fetchOne(try statement("SELECT * FROM groups WHERE account_id = ? AND is_default = 1"), arguments: [accountID])
            .map(Self.group)
    }

    func soleGroupMemberCount(groupID: String) throws -> Int {
        try Int.fetchOne(try statement("""
                SELECT COUNT(*) FROM account_user_groups held
                JOIN account_users au ON au.id = held.account_user_id
                WHERE held.group_id = ? AND au.status <> 'deleted'
                  AND NOT EXISTS (SELECT 1 FROM account_user_groups other
                                  WHERE other.account_user_id = held.account_user_id AND other.group_id <> held.group_id)
                """),
            arguments: [groupID]) ?? 0
    }

    func user(id: String) throws -> User? {
        try rows("SELECT \(RecordColumns.userColumns) FROM users WHERE id = ?", [id], RecordColumns.user).first
    }

    func user(email: String) throws -> User? {
        try rows("SELECT \(RecordColumns.userColumns) FROM users WHERE email = ?", [email], RecordColumns.user).first
    }

    func users(after afterID: String?, limit: Int) throws -> [User] {
        try rows(
            "SELECT \(RecordColumns.userColumns) FROM users WHERE id > ? ORDER BY id LIMIT ?", [afterID ?? "", limit], RecordColumns.user)
    }

    func passwordHash(userID: String) throws -> String? {
        try String.fetchOne(try statement("SELECT password_hash FROM users WHERE id = ?"), arguments: [userID])
    }

    func accountUser(id: String) throws -> AccountUser? {
        try members("\(Self.memberSelect) WHERE au.id = ?", [id]).first
    }

    func accountUser(accountID: String, userID: String) throws -> AccountUser? {
        try members("\(Self.memberSelect) WHERE au.account_id = ? AND au.user_id = ?", [accountID, userID]).first
    }

    func accountUsers(userID: String) throws -> [AccountUser] {
        try members("\(Self.memberSelect) WHERE au.user_id = ? ORDER BY au.id", [userID])
    }

    func accountUsers(_ query: AccountUserQuery) throws -> [AccountUser] {
        let column: String
        switch query.sort {
        case .name: column = "au.sort_name"
        case .email: column = "au.sort_email"
        case .joined: column = "au.sort_joined"
        case .lastSignIn: column = "au.sort_last_sign_in"
        }
        var conditions = ["au.account_id = ?"]
        var arguments: [any DatabaseValueConvertible] = [query.accountID]
        let now = query.now.millisecondsSince1970
        if !query.statuses.isEmpty {
            var alternatives: [String] = []
            for status in query.statuses.sorted(by: { $0.rawValue < $1.rawValue }) {
                switch status {
                case .invited:
                    alternatives.append("(au.status = 'invited' AND au.invitation_expires_at > ?)")
                    arguments.append(now)
                case .invitationExpired:
                    alternatives.append("(au.status = 'invited' AND au.invitation_expires_at <= ?)")
                    arguments.append(now)
                default:
                    alternatives.append("au.status = ?")
                    arguments.append(status.rawValue)
                }
            }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if let groupID = query.groupID {
            conditions.append("EXISTS (SELECT 1 FROM account_user_groups aug WHERE aug.account_user_id = au.id AND aug.group_id = ?)")
            arguments.append(groupID)
        }
        if let text = query.text, !text.isEmpty {
            // As `LIKE '%text%'` on each (TextSearchFunction), in one call per row.
            conditions.append("\(TextSearchFunction.name)(?, au.id, au.user_id, au.sort_name, au.sort_email)")
            arguments.append(text)
        }
        if let text = query.text, !text.isEmpty, let search, query.sort == .name || query.sort == .email,
           query.after.map({ if case .text = $0.key { true } else { false } }) ?? true,
           let index = search.index(of: query.accountID, db) {
            return try accountUsers(query, text: text, index: index, conditions: conditions, arguments: arguments, column: column)
        }
        let direction = query.descending ? "DESC" : "ASC"
        if let after = query.after {
            conditions.append("(\(column), au.id) \(query.descending ? "<" : ">") (?, ?)")
            switch after.key {
            case .text(let text): arguments.append(text)
            case .time(let ms): arguments.append(ms)
            }
            arguments.append(after.id)
        }
        arguments.append(query.limit)
        let order = "ORDER BY \(column) \(direction), au.id \(direction)"
        let sql: String
        if query.text?.isEmpty == false {
            // Pick the page's ids first from the index (covering for name and
            // email sorts), then join the users for those rows only.
            sql = """
                \(Self.memberSelect)
                WHERE au.id IN (SELECT au.id FROM account_users au WHERE \(conditions.joined(separator: " AND ")) \(order) LIMIT ?)
                \(order)
                """
        } else {
            sql = """
                \(Self.memberSelect)
                WHERE \(conditions.joined(separator: " AND "))
                \(order)
                LIMIT ?
                """
        }
        return try members(sql, StatementArguments(arguments))
    }

    /// A page of `query` from `index`'s candidates (``MemberSearch``), in
    /// their order: each batch of candidates is read in this snapshot, and a
    /// row is kept only when the membership still has the key it was found
    /// at (an index may hold old keys, and one id at several keys) and meets
    /// the query's `conditions` (`arguments` theirs; the first is the
    /// account's). Rows come in the candidates' order (`json_each` as the
    /// outer loop of a `CROSS JOIN`, no sort), so reading stops at the page's
    /// last row: a candidate after it is never read.
    private func accountUsers(
        _ query: AccountUserQuery, text: String, index: AccountMemberIndex,
        conditions: [String], arguments: [any DatabaseValueConvertible], column: String
    ) throws -> [AccountUser] {
        let sort: AccountMemberIndex.Sort = query.sort == .name ? .name : .email
        var afterKey: String?
        var afterID = query.after?.id
        if case .text(let key)? = query.after?.key { afterKey = key }
        // `+`: the account condition is checked on each row found by its key,
        // never used to scan the account's index instead.
        assert(conditions.first == "au.account_id = ?")
        let select = try statement("""
            SELECT \(Self.memberColumns), \(column), c.key FROM json_each(?) c
            CROSS JOIN account_users au ON au.id = c.value CROSS JOIN users u ON u.id = au.user_id
            WHERE +\(conditions.joined(separator: " AND "))
            """)
        var page: [AccountUser] = []
        var kept = Set<String>()
        var batch = query.limit + query.limit / 4 + 8
        while page.count < query.limit {
            let candidates = index.candidates(
                sort: sort, descending: query.descending, afterKey: afterKey, afterID: afterID, text: text, limit: batch)
            guard let last = candidates.last else { break }
            try select.setArguments([try Self.jsonArray(candidates.map(\.id))] + StatementArguments(arguments))
            let row = select.sqliteStatement
            defer { sqlite3_reset(row) }
            var previous = -1
            while page.count < query.limit, try MemberColumns.step(row) {
                let position = Int(sqlite3_column_int64(row, 27))
                guard position > previous, position < candidates.count else { throw Self.outOfOrder("a candidate", position) }
                previous = position
                let candidate = candidates[position]
                // Bytes, as SQLite compares keys (String's == is Unicode's).
                guard MemberColumns.bytes(row, 26).elementsEqual(candidate.key.utf8), kept.insert(candidate.id).inserted else { continue }
                page.append(try MemberColumns.member(row, groups: []))
            }
            if candidates.count < batch { break }
            afterKey = last.key
            afterID = last.id
            batch = min(batch * 2, 4_096)
        }
        try addGroups(to: &page)
        return page
    }

    func invitation(tokenHash: [UInt8]) throws -> InvitationRecord? {
        try Row.fetchOne(try statement("SELECT * FROM invitations WHERE token_hash = ?"), arguments: [Data(tokenHash)])
            .map(Self.invitation)
    }

    func pendingInvitation(accountUserID: String) throws -> InvitationRecord? {
        try Row.fetchOne(try statement("SELECT * FROM invitations WHERE account_user_id = ? AND state = 'pending'"), arguments: [accountUserID]
        ).map(Self.invitation)
    }

    func auditEvents(accountID: String, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent] {
        try Row.fetchAll(try statement("SELECT * FROM audit_events WHERE account_id = ? AND sequence < ? ORDER BY sequence DESC LIMIT ?"),
            arguments: [accountID, beforeSequence ?? Int64.max, limit]
        ).map { row in
            AuditEvent(
                sequence: row["sequence"], accountID: row["account_id"], at: Date(millisecondsSince1970: row["at"]),
                actor: row["actor"], action: AuditEvent.Action(rawValue: row["action"]) ?? .accountCreated,
                targetID: row["target_id"], details: row["details"])
        }
    }

    func auditEvents(accountID: String, filter: AuditFilter, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent] {
        var conditions = ["account_id = ?", "sequence < ?"]
        var arguments: [any DatabaseValueConvertible] = [accountID, beforeSequence ?? Int64.max]
        if let action = filter.action {
            conditions.append("action = ?")
            arguments.append(action.rawValue)
        }
        if let actor = filter.actor {
            conditions.append("actor = ?")
            arguments.append(actor)
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments.append(since.millisecondsSince1970)
        }
        if let until = filter.until {
            conditions.append("at < ?")
            arguments.append(until.millisecondsSince1970)
        }
        arguments.append(limit)
        return try Row.fetchAll(
            try statement("SELECT * FROM audit_events WHERE \(conditions.joined(separator: " AND ")) ORDER BY sequence DESC LIMIT ?"),
            arguments: StatementArguments(arguments)
        ).map { row in
            AuditEvent(
                sequence: row["sequence"], accountID: row["account_id"], at: Date(millisecondsSince1970: row["at"]),
                actor: row["actor"], action: AuditEvent.Action(rawValue: row["action"]) ?? .accountCreated,
                targetID: row["target_id"], details: row["details"])
        }
    }

    /// Outbox rows with what templates need: the account's current name, the
    /// recipient's names and language, and the inviter and expiry of the
    /// invitation whose sealed token the message carries.
    private static let outboxSelect = """
        SELECT o.*, a.name AS d_account_name, u.first_name AS d_first_name, u.last_name AS d_last_name,
               u.language AS d_language, u.locale AS d_locale,
               i.inviter_name AS d_inviter_name, i.expires_at AS d_expires_at
        FROM outbox o
        LEFT JOIN account_users au ON au.id = o.account_user_id
        LEFT JOIN accounts a ON a.id = au.account_id
        LEFT JOIN users u ON u.id = au.user_id
        LEFT JOIN invitations i ON i.account_user_id = o.account_user_id AND i.sealed_token = o.sealed_token
        """

    private static func outboxEntry(_ row: Row) -> OutboxEntry {
        let sealed: Data? = row["sealed_token"]
        var message = OutboxMessage(
            id: row["id"], kind: OutboxMessage.Kind(rawValue: row["kind"]) ?? .invitation, recipient: row["recipient"],
            subject: row["subject"], body: row["body"], accountUserID: row["account_user_id"],
            createdAt: Date(millisecondsSince1970: row["created_at"]), sentAt: date(row["sent_at"]))
        message.failedAt = date(row["failed_at"])
        message.state = message.sentAt != nil ? .sent
            : message.failedAt != nil ? .failed
            : row["cancelled_at"] as Int64? != nil ? .cancelled
            : .pending
        message.attempts = row["attempts"]
        message.failureReason = row["last_error"]
        if message.state == .pending {
            message.claimID = row["claim_id"]
            message.leaseExpiresAt = date(row["lease_expires_at"])
            message.nextAttemptAt = date(row["next_attempt_at"])
        }
        if let accountName: String = row["d_account_name"] {
            message.details = OutboxMessage.Details(
                accountName: accountName, recipientFirstName: row["d_first_name"] ?? "", recipientLastName: row["d_last_name"] ?? "",
                recipientLanguage: row["d_language"] ?? "en", recipientLocale: row["d_locale"] ?? "en-US",
                inviterName: row["d_inviter_name"], invitationLink: nil, invitationExpiresAt: date(row["d_expires_at"]))
        }
        return OutboxEntry(message: message, sealedToken: sealed.map { [UInt8]($0) })
    }

    func outboxEntries(includeFailed: Bool, afterID: Int64, limit: Int) throws -> [OutboxEntry] {
        let condition = includeFailed
            ? "(o.sent_at IS NULL AND o.cancelled_at IS NULL)"
            : "(o.sent_at IS NULL AND o.failed_at IS NULL AND o.cancelled_at IS NULL)"
        return try Row.fetchAll(
            try statement("\(Self.outboxSelect) WHERE \(condition) AND o.id > ? ORDER BY o.id LIMIT ?"), arguments: [afterID, limit])
            .map(Self.outboxEntry)
    }

    func outboxEntry(id: Int64) throws -> OutboxEntry? {
        try Row.fetchOne(try statement("\(Self.outboxSelect) WHERE o.id = ?"), arguments: [id]).map(Self.outboxEntry)
    }

    func session(tokenHash: [UInt8]) throws -> SessionRecord? {
        try rows("SELECT \(RecordColumns.sessionColumns) FROM sessions WHERE token_hash = ?", [Data(tokenHash)], RecordColumns.session).first
    }

    func session(id: String) throws -> SessionRecord? {
        try rows("SELECT \(RecordColumns.sessionColumns) FROM sessions WHERE id = ?", [id], RecordColumns.session).first
    }

    func membershipAccess(accountID: String, userID: String) throws -> MembershipAccess? {
        guard var access = try rows("""
                SELECT \(RecordColumns.membershipAccessColumns)
                FROM account_users au JOIN accounts a ON a.id = au.account_id
                WHERE au.account_id = ? AND au.user_id = ?
                """, [accountID, userID], RecordColumns.membershipAccess).first
        else { return nil }
        // One row per (group, permission): json_each spares decoding JSON here.
        let groups = try statement("""
                SELECT \(RecordColumns.grantColumns)
                FROM account_user_groups aug JOIN groups g ON g.id = aug.group_id
                LEFT JOIN json_each(g.permissions) p
                WHERE aug.account_user_id = ? ORDER BY g.name, g.id
                """)
        try groups.setArguments([access.accountUserID])
        try MemberColumns.forEachRow(of: groups) { try RecordColumns.addGrant($0, to: &access) }
        return access
    }

    func changes(after position: Int64, limit: Int) throws -> [ChangeRecord] {
        try Row.fetchAll(try statement("""
                SELECT position, kind, committed_at, user_id, account_id, account_user_id, group_id, session_id
                FROM changes WHERE position > ? ORDER BY position LIMIT ?
                """), arguments: [position, limit]).compactMap { row in
            guard let kind = ChangeRecord.Kind(rawValue: row[1]) else { return nil }
            return ChangeRecord(
                position: row[0], kind: kind, committedAt: Date(millisecondsSince1970: row[2]), userID: row[3],
                accountID: row[4], accountUserID: row[5], groupID: row[6], sessionID: row[7])
        }
    }

    func changeBounds() throws -> ChangeBounds {
        let oldest = try Int64.fetchOne(try statement("SELECT MIN(position) FROM changes"))
        let newest = try Int64.fetchOne(try statement("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")) ?? 0
        return ChangeBounds(oldest: oldest, newest: newest)
    }

    func signInFailures(emailKey: String, since: Date, limit: Int) throws -> [Date] {
        try Int64.fetchAll(
            try statement(
                "SELECT failed_at FROM sign_in_failures WHERE email_key = ? AND failed_at > ? ORDER BY failed_at LIMIT ?"),
            arguments: [emailKey, since.millisecondsSince1970, limit]
        ).map(Date.init(millisecondsSince1970:))
    }

    // MARK: StoreWriter

    private func execute(_ sql: String, _ arguments: StatementArguments) throws {
        try StorageErrors.conflictMapped { try statement(sql).execute(arguments: arguments) }
    }

    func insert(_ account: Account) throws {
        try execute(
            "INSERT INTO accounts (id, name, type, status, created_at) VALUES (?, ?, ?, ?, ?)",
            [account.id, account.name, account.type.rawValue, account.status.rawValue, account.createdAt.millisecondsSince1970])
    }

    func insert(_ group: Group) throws {
        let permissions = String(decoding: try JSONEncoder().encode(group.permissions), as: UTF8.self)
        try execute(
            """
            INSERT INTO groups (id, account_id, name, description, permissions, is_administrators, is_default, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [group.id, group.accountID, group.name, group.description, permissions, group.isAdministrators, group.isDefault,
             group.createdAt.millisecondsSince1970])
    }

    func update(_ account: Account) throws {
        try execute("UPDATE accounts SET name = ?, status = ? WHERE id = ?", [account.name, account.status.rawValue, account.id])
    }

    func update(_ group: Group) throws {
        let permissions = String(decoding: try JSONEncoder().encode(group.permissions), as: UTF8.self)
        try execute(
            "UPDATE groups SET name = ?, description = ?, permissions = ? WHERE id = ?",
            [group.name, group.description, permissions, group.id])
    }

    func deleteGroup(id: String) throws -> Bool {
        try execute("DELETE FROM account_user_groups WHERE group_id = ?", [id])
        try execute("DELETE FROM groups WHERE id = ?", [id])
        return db.changesCount > 0
    }

    func insert(_ user: User, passwordHash: String?) throws {
        try execute(
            """
            INSERT INTO users (id, first_name, last_name, email, phone, language, locale, icon, status, password_hash,
                               created_at, updated_at, last_sign_in_at, blocked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [user.id, user.firstName, user.lastName, user.email, user.phone, user.language, user.locale, user.icon,
             user.status.rawValue, passwordHash, user.createdAt.millisecondsSince1970, user.updatedAt.millisecondsSince1970,
             user.lastSignInAt?.millisecondsSince1970, user.blockedAt?.millisecondsSince1970])
    }

    func update(_ user: User) throws {
        try execute(
            """
            UPDATE users SET first_name = ?, last_name = ?, email = ?, phone = ?, language = ?, locale = ?, icon = ?,
                status = ?, updated_at = ?, last_sign_in_at = ?, blocked_at = ?
            WHERE id = ?
            """,
            [user.firstName, user.lastName, user.email, user.phone, user.language, user.locale, user.icon, user.status.rawValue,
             user.updatedAt.millisecondsSince1970, user.lastSignInAt?.millisecondsSince1970, user.blockedAt?.millisecondsSince1970,
             user.id])
        // Memberships not yet accepted sort by the typed names and as never
        // signed in (AccountUserQuery.key(of:for:)): only the email follows.
        try execute(
            "UPDATE account_users SET sort_name = ?, sort_email = ?, sort_last_sign_in = ? WHERE user_id = ? AND invited_first_name IS NULL",
            [AccountUserQuery.nameKey(firstName: user.firstName, lastName: user.lastName), user.email,
             AccountUserQuery.timeKey(user.lastSignInAt), user.id])
        try execute(
            "UPDATE account_users SET sort_email = ? WHERE user_id = ? AND invited_first_name IS NOT NULL", [user.email, user.id])
    }

    func setPasswordHash(userID: String, hash: String?) throws {
        try execute("UPDATE users SET password_hash = ? WHERE id = ?", [hash, userID])
    }

    func insert(_ member: AccountUser) throws {
        let head: [(any DatabaseValueConvertible)?] = [
            member.id, member.accountID, member.user.id, member.status.storedName, member.invitedAt.millisecondsSince1970,
            member.joinedAt?.millisecondsSince1970, member.lastAccessAt?.millisecondsSince1970,
            member.blockedAt?.millisecondsSince1970, member.invitationExpiresAt?.millisecondsSince1970, member.invitedBy,
        ]
        try execute(
            """
            INSERT INTO account_users (id, account_id, user_id, status, invited_at, joined_at, last_access_at, blocked_at,
                invitation_expires_at, invited_by, sort_name, sort_email, sort_joined, sort_last_sign_in,
                invited_first_name, invited_last_name, invited_phone)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            StatementArguments(head + Self.sortKeysAndInvitedPerson(member)))
        try setGroups(accountUserID: member.id, groupIDs: member.groups.map(\.id))
    }

    func update(_ member: AccountUser) throws {
        let head: [(any DatabaseValueConvertible)?] = [
            member.status.storedName, member.invitedAt.millisecondsSince1970, member.joinedAt?.millisecondsSince1970,
            member.lastAccessAt?.millisecondsSince1970, member.blockedAt?.millisecondsSince1970,
            member.invitationExpiresAt?.millisecondsSince1970, member.invitedBy,
        ]
        try execute(
            """
            UPDATE account_users SET status = ?, invited_at = ?, joined_at = ?, last_access_at = ?, blocked_at = ?,
                invitation_expires_at = ?, invited_by = ?, sort_name = ?, sort_email = ?, sort_joined = ?, sort_last_sign_in = ?,
                invited_first_name = ?, invited_last_name = ?, invited_phone = ?
            WHERE id = ?
            """,
            StatementArguments(head + Self.sortKeysAndInvitedPerson(member) + [member.id]))
    }

    /// sort_name, sort_email, sort_joined, sort_last_sign_in (of the person as
    /// the membership shows them), then invited_first_name, invited_last_name,
    /// invited_phone (NULL once the person accepted).
    private static func sortKeysAndInvitedPerson(_ member: AccountUser) -> [(any DatabaseValueConvertible)?] {
        func key(_ field: AccountUserQuery.SortField) -> any DatabaseValueConvertible {
            switch AccountUserQuery.key(of: member, for: field) {
            case .text(let text): text
            case .time(let ms): ms
            }
        }
        return [key(.name), key(.email), key(.joined), key(.lastSignIn),
                member.invitedAs?.firstName, member.invitedAs?.lastName, member.invitedAs?.phone]
    }

    func setGroups(accountUserID: String, groupIDs: [String]) throws {
        try execute("DELETE FROM account_user_groups WHERE account_user_id = ?", [accountUserID])
        for groupID in groupIDs {
            try execute("INSERT INTO account_user_groups (account_user_id, group_id) VALUES (?, ?)", [accountUserID, groupID])
        }
    }

    func insert(_ invitation: InvitationRecord) throws {
        try execute(
            """
            INSERT INTO invitations (token_hash, sealed_token, account_user_id, created_at, expires_at, state, ended_at, inviter_name)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [Data(invitation.tokenHash), Data(invitation.sealedToken), invitation.accountUserID,
             invitation.createdAt.millisecondsSince1970, invitation.expiresAt.millisecondsSince1970, invitation.state.rawValue,
             invitation.endedAt?.millisecondsSince1970, invitation.inviterName])
    }

    func endInvitation(tokenHash: [UInt8], state: InvitationRecord.StoredState, at date: Date) throws {
        try execute(
            "UPDATE invitations SET state = ?, ended_at = ? WHERE token_hash = ? AND state = 'pending'",
            [state.rawValue, date.millisecondsSince1970, Data(tokenHash)])
    }

    func append(_ event: AuditEvent) throws -> Int64 {
        try execute(
            "INSERT INTO audit_events (account_id, at, actor, action, target_id, details) VALUES (?, ?, ?, ?, ?, ?)",
            [event.accountID, event.at.millisecondsSince1970, event.actor, event.action.rawValue, event.targetID, event.details])
        return db.lastInsertedRowID
    }

    func append(_ entry: OutboxEntry) throws -> Int64 {
        let message = entry.message
        try execute(
            """
            INSERT INTO outbox (kind, recipient, subject, body, sealed_token, account_user_id, created_at, sent_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [message.kind.rawValue, message.recipient, message.subject, message.body, entry.sealedToken.map { Data($0) },
             message.accountUserID, message.createdAt.millisecondsSince1970, message.sentAt?.millisecondsSince1970])
        return db.lastInsertedRowID
    }

    func withdrawPendingMessages(accountUserID: String, sealedToken: [UInt8]?) throws -> Int {
        if let sealedToken {
            try execute(
                "DELETE FROM outbox WHERE account_user_id = ? AND sent_at IS NULL AND sealed_token = ?",
                [accountUserID, Data(sealedToken)])
        } else {
            try execute("DELETE FROM outbox WHERE account_user_id = ? AND sent_at IS NULL", [accountUserID])
        }
        return db.changesCount
    }

    func markOutboxSent(ids: [Int64], at date: Date) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        try execute(
            """
            UPDATE outbox SET sent_at = ?, claim_id = NULL, lease_expires_at = NULL, next_attempt_at = NULL
            WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL AND id IN (\(databaseQuestionMarks(count: ids.count)))
            """,
            StatementArguments([date.millisecondsSince1970] + ids))
        return db.changesCount
    }

    func claimOutbox(limit: Int, claimID: String, leaseUntil: Date, at date: Date) throws -> [OutboxEntry] {
        let now = date.millisecondsSince1970
        try execute(
            """
            UPDATE outbox SET claim_id = ?, lease_expires_at = ?, attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL
                  AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                ORDER BY id LIMIT ?)
            """,
            [claimID, leaseUntil.millisecondsSince1970, now, now, limit])
        return try Row.fetchAll(try statement("\(Self.outboxSelect) WHERE o.claim_id = ? AND o.sent_at IS NULL ORDER BY o.id"), arguments: [claimID])
            .map(Self.outboxEntry)
    }

    func recordOutboxFailure(id: Int64, reason: String, retryAt: Date?, at date: Date) throws {
        if let retryAt {
            try execute(
                "UPDATE outbox SET claim_id = NULL, lease_expires_at = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?",
                [retryAt.millisecondsSince1970, reason, id])
        } else {
            try execute(
                "UPDATE outbox SET claim_id = NULL, lease_expires_at = NULL, next_attempt_at = NULL, last_error = ?, failed_at = ? WHERE id = ?",
                [reason, date.millisecondsSince1970, id])
        }
    }

    func insert(_ session: SessionRecord) throws {
        try execute(
            """
            INSERT INTO sessions (id, token_hash, user_id, current_account_id, created_at, last_used_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [session.id, Data(session.tokenHash), session.userID, session.currentAccountID,
             session.createdAt.millisecondsSince1970, session.lastUsedAt.millisecondsSince1970,
             session.expiresAt.millisecondsSince1970])
    }

    func update(_ session: SessionRecord) throws {
        try execute(
            "UPDATE sessions SET current_account_id = ?, last_used_at = ? WHERE id = ?",
            [session.currentAccountID, session.lastUsedAt.millisecondsSince1970, session.id])
    }

    func deleteSession(id: String) throws -> Bool {
        try execute("DELETE FROM sessions WHERE id = ?", [id])
        return db.changesCount > 0
    }

    func deleteSessions(userID: String, except keptID: String?) throws -> Int {
        try execute("DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?", [userID, keptID])
        return db.changesCount
    }

    func recordSignInFailure(emailKey: String, at date: Date) throws {
        try execute(
            "INSERT INTO sign_in_failures (email_key, failed_at) VALUES (?, ?)", [emailKey, date.millisecondsSince1970])
    }

    func clearSignInFailures(emailKey: String) throws {
        try execute("DELETE FROM sign_in_failures WHERE email_key = ?", [emailKey])
    }

    func deleteSignInFailures(before date: Date, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        try execute(
            "DELETE FROM sign_in_failures WHERE rowid IN (SELECT rowid FROM sign_in_failures WHERE failed_at <= ? LIMIT ?)",
            [date.millisecondsSince1970, limit])
        return db.changesCount
    }

    func deleteExpiredSessions(now: Date, idleSince: Date, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        // Each branch of the union uses its own index.
        try execute(
            """
            DELETE FROM sessions WHERE id IN (
                SELECT id FROM sessions WHERE expires_at <= ?
                UNION SELECT id FROM sessions WHERE last_used_at <= ?
                LIMIT ?)
            """,
            [now.millisecondsSince1970, idleSince.millisecondsSince1970, limit])
        return db.changesCount
    }
}

extension MembershipStatus {
    /// The stored status: `invitationExpired` is computed, so it is stored as `invited`.
    var storedName: String { self == .invitationExpired ? MembershipStatus.invited.rawValue : rawValue }
}
