import Foundation
import MarketplaceDomain
import PostgresNIO

/// The reader and writer over one PostgreSQL transaction: the same queries
/// as the SQLite backend's `SQLiteAccess`, statement for statement, so both
/// give the same rows in the same order. Used synchronously inside one
/// `read`/`write` body, on a thread of the store's pool.
struct PostgresAccess: StoreWriter {
    let db: BlockingConnection

    init(_ db: BlockingConnection) {
        self.db = db
    }

    // MARK: Row decoding

    private static func account(_ row: SQLRow) throws -> Account {
        Account(
            id: try row.text("id"), name: try row.text("name"), type: Account.Kind(rawValue: try row.text("type")) ?? .client,
            status: Account.Status(rawValue: try row.text("status")) ?? .disabled, createdAt: try row.date("created_at"))
    }

    private static func permissions(_ json: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    private static func group(_ row: SQLRow) throws -> Group {
        Group(
            id: try row.text("id"), accountID: try row.text("account_id"), name: try row.text("name"),
            description: try row.text("description"), permissions: permissions(try row.text("permissions")),
            isAdministrators: try row.bool("is_administrators"), isDefault: try row.bool("is_default"),
            createdAt: try row.date("created_at"))
    }

    private static func user(_ row: SQLRow) throws -> User {
        User(
            id: try row.text("id"), firstName: try row.text("first_name"), lastName: try row.text("last_name"),
            email: try row.text("email"), phone: try row.optionalText("phone"), language: try row.text("language"),
            locale: try row.text("locale"), icon: try row.text("icon"),
            status: User.Status(rawValue: try row.text("status")) ?? .deleted,
            hasPassword: try row.optionalText("password_hash") != nil, createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), lastSignInAt: try row.optionalDate("last_sign_in_at"),
            blockedAt: try row.optionalDate("blocked_at"))
    }

    private static let userColumns = "id, first_name, last_name, email, phone, language, locale, icon, status, password_hash, created_at, updated_at, last_sign_in_at, blocked_at"

    /// The groups of membership `au`, ordered as `SQLiteAccess` orders them
    /// (name, then id): one array of ids and one of names, in step.
    private static func memberGroups(_ column: String) -> String {
        """
        ARRAY(SELECT g.\(column) FROM account_user_groups aug JOIN groups g ON g.id = aug.group_id
              WHERE aug.account_user_id = au.id ORDER BY g.name, g.id)
        """
    }

    /// Decoded by position in `member(_:)`: keep the two in step. Each row
    /// carries its membership's groups (columns 26 and 27), so that reading
    /// members is one statement, one round trip to the database.
    static let memberSelect = """
        SELECT au.id, au.account_id, au.user_id, au.status, au.invited_at, au.joined_at, au.last_access_at,
               au.blocked_at, au.invitation_expires_at, au.invited_by,
               u.first_name, u.last_name, u.email, u.status AS user_status, u.last_sign_in_at,
               u.phone, u.language, u.locale, u.icon, u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.blocked_at,
               au.invited_first_name, au.invited_last_name, au.invited_phone,
               \(memberGroups("id")), \(memberGroups("name"))
        FROM account_users au JOIN users u ON u.id = au.user_id
        """

    static func member(_ row: SQLRow) throws -> AccountUser {
        let groupIDs = try row.texts(26)
        let groupNames = try row.texts(27)
        guard groupIDs.count == groupNames.count else {
            throw DomainError(.internal, "account_user \(try row.text(0)): its group ids and names disagree")
        }
        let groups = zip(groupIDs, groupNames).map { GroupSummary(id: $0, name: $1) }
        let invitedFirstName = try row.optionalText(23)
        return AccountUser(
            id: try row.text(0), accountID: try row.text(1),
            user: User(
                id: try row.text(2), firstName: try row.text(10), lastName: try row.text(11), email: try row.text(12),
                phone: try row.optionalText(15), language: try row.text(16), locale: try row.text(17), icon: try row.text(18),
                status: User.Status(rawValue: try row.text(13)) ?? .deleted, hasPassword: try row.bool(19),
                createdAt: try row.date(20), updatedAt: try row.date(21),
                lastSignInAt: try row.optionalDate(14), blockedAt: try row.optionalDate(22)),
            groups: groups, status: MembershipStatus(rawValue: try row.text(3)) ?? .disabled,
            invitedAt: try row.date(4), joinedAt: try row.optionalDate(5),
            lastAccessAt: try row.optionalDate(6), blockedAt: try row.optionalDate(7),
            invitationExpiresAt: try row.optionalDate(8), invitedBy: try row.text(9),
            invitedAs: try invitedFirstName.map {
                InvitedPerson(firstName: $0, lastName: try row.optionalText(24) ?? "", phone: try row.optionalText(25))
            })
    }

    /// Memberships for `rows` of ``memberSelect``.
    private func members(_ rows: [SQLRow]) throws -> [AccountUser] {
        try rows.map(Self.member)
    }

    private static func invitation(_ row: SQLRow) throws -> InvitationRecord {
        InvitationRecord(
            tokenHash: try row.bytes("token_hash"), sealedToken: try row.bytes("sealed_token"),
            accountUserID: try row.text("account_user_id"), createdAt: try row.date("created_at"),
            expiresAt: try row.date("expires_at"),
            state: InvitationRecord.StoredState(rawValue: try row.text("state")) ?? .revoked,
            endedAt: try row.optionalDate("ended_at"), inviterName: try row.text("inviter_name"))
    }

    private static func session(_ row: SQLRow) throws -> SessionRecord {
        SessionRecord(
            id: try row.text("id"), tokenHash: try row.bytes("token_hash"), userID: try row.text("user_id"),
            currentAccountID: try row.optionalText("current_account_id"), createdAt: try row.date("created_at"),
            lastUsedAt: try row.date("last_used_at"), expiresAt: try row.date("expires_at"))
    }

    private static func auditEvent(_ row: SQLRow) throws -> AuditEvent {
        AuditEvent(
            sequence: try row.int("sequence"), accountID: try row.optionalText("account_id"), at: try row.date("at"),
            actor: try row.text("actor"), action: AuditEvent.Action(rawValue: try row.text("action")) ?? .accountCreated,
            targetID: try row.text("target_id"), details: try row.text("details"))
    }

    // MARK: StoreReader

    func account(id: String) throws -> Account? {
        try db.row("SELECT * FROM accounts WHERE id = ?", [.text(id)]).map(Self.account)
    }

    func accounts(after afterID: String?, limit: Int) throws -> [Account] {
        try db.rows("SELECT * FROM accounts WHERE id > ? ORDER BY id LIMIT ?", [.text(afterID ?? ""), .int(Int64(limit))])
            .map(Self.account)
    }

    func group(id: String) throws -> Group? {
        try db.row("SELECT * FROM groups WHERE id = ?", [.text(id)]).map(Self.group)
    }

    func groups(ids: [String]) throws -> [Group] {
        guard !ids.isEmpty else { return [] }
        return try db.rows("SELECT * FROM groups WHERE id = ANY(?)", [.texts(ids)]).map(Self.group)
    }

    func groups(accountID: String, after: (name: String, id: String)?, limit: Int) throws -> [Group] {
        guard let after else {
            return try db.rows(
                "SELECT * FROM groups WHERE account_id = ? ORDER BY nocase(name), id LIMIT ?",
                [.text(accountID), .int(Int64(limit))]
            ).map(Self.group)
        }
        return try db.rows("""
            SELECT * FROM groups WHERE account_id = ?
                AND (nocase(name) > nocase(?) OR (nocase(name) = nocase(?) AND id > ?))
            ORDER BY nocase(name), id LIMIT ?
            """, [.text(accountID), .text(after.name), .text(after.name), .text(after.id), .int(Int64(limit))]
        ).map(Self.group)
    }

    func group(accountID: String, named name: String) throws -> Group? {
        let wanted = name.lowercased()
        return try db.rows("SELECT * FROM groups WHERE account_id = ?", [.text(accountID)])
            .map(Self.group).first { $0.name.lowercased() == wanted }
    }

    func administratorsGroup(accountID: String) throws -> Group? {
        try db.row("SELECT * FROM groups WHERE account_id = ? AND is_administrators", [.text(accountID)]).map(Self.group)
    }

    func defaultGroup(accountID: String) throws -> Group? {
        try db.row("SELECT * FROM groups WHERE account_id = ? AND is_default", [.text(accountID)]).map(Self.group)
    }

    func user(id: String) throws -> User? {
        try db.row("SELECT \(Self.userColumns) FROM users WHERE id = ?", [.text(id)]).map(Self.user)
    }

    func user(email: String) throws -> User? {
        try db.row("SELECT \(Self.userColumns) FROM users WHERE email = ?", [.text(email)]).map(Self.user)
    }

    func users(after afterID: String?, limit: Int) throws -> [User] {
        try db.rows(
            "SELECT \(Self.userColumns) FROM users WHERE id > ? ORDER BY id LIMIT ?", [.text(afterID ?? ""), .int(Int64(limit))]
        ).map(Self.user)
    }

    func passwordHash(userID: String) throws -> String? {
        try db.row("SELECT password_hash FROM users WHERE id = ?", [.text(userID)])?.optionalText(0)
    }

    func accountUser(id: String) throws -> AccountUser? {
        try members(db.rows(prepared: MemberByID(id: id))).first
    }

    func accountUser(accountID: String, userID: String) throws -> AccountUser? {
        try members(db.rows(prepared: MemberByAccountAndUser(accountID: accountID, userID: userID))).first
    }

    func accountUsers(userID: String) throws -> [AccountUser] {
        try members(db.rows("\(Self.memberSelect) WHERE au.user_id = ? ORDER BY au.id", [.text(userID)]))
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
        var arguments: [SQLValue] = [.text(query.accountID)]
        let now = query.now.millisecondsSince1970
        if !query.statuses.isEmpty {
            var alternatives: [String] = []
            for status in query.statuses.sorted(by: { $0.rawValue < $1.rawValue }) {
                switch status {
                case .invited:
                    alternatives.append("(au.status = 'invited' AND au.invitation_expires_at > ?)")
                    arguments.append(.int(now))
                case .invitationExpired:
                    alternatives.append("(au.status = 'invited' AND au.invitation_expires_at <= ?)")
                    arguments.append(.int(now))
                default:
                    alternatives.append("au.status = ?")
                    arguments.append(.text(status.rawValue))
                }
            }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if let groupID = query.groupID {
            conditions.append("EXISTS (SELECT 1 FROM account_user_groups aug WHERE aug.account_user_id = au.id AND aug.group_id = ?)")
            arguments.append(.text(groupID))
        }
        if let text = query.text, !text.isEmpty {
            // As SQLite's marketplace_contains (and LIKE): ASCII letters fold, nothing else; nocase() on both sides.
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let pattern = SQLValue.text("%\(escaped)%")
            conditions.append("""
                (nocase(au.id) LIKE nocase(?) ESCAPE '\\' OR nocase(au.user_id) LIKE nocase(?) ESCAPE '\\' \
                OR nocase(au.sort_name) LIKE nocase(?) ESCAPE '\\' OR nocase(au.sort_email) LIKE nocase(?) ESCAPE '\\')
                """)
            arguments += [pattern, pattern, pattern, pattern]
        }
        let direction = query.descending ? "DESC" : "ASC"
        if let after = query.after {
            conditions.append("(\(column), au.id) \(query.descending ? "<" : ">") (?, ?)")
            switch after.key {
            case .text(let text): arguments.append(.text(text))
            case .time(let ms): arguments.append(.int(ms))
            }
            arguments.append(.text(after.id))
        }
        arguments.append(.int(Int64(query.limit)))
        let order = "ORDER BY \(column) \(direction), au.id \(direction)"
        let sql = """
            \(Self.memberSelect)
            WHERE \(conditions.joined(separator: " AND "))
            \(order)
            LIMIT ?
            """
        return try members(db.rows(sql, arguments))
    }

    func invitation(tokenHash: [UInt8]) throws -> InvitationRecord? {
        try db.row("SELECT * FROM invitations WHERE token_hash = ?", [.bytes(tokenHash)]).map(Self.invitation)
    }

    func pendingInvitation(accountUserID: String) throws -> InvitationRecord? {
        try db.row("SELECT * FROM invitations WHERE account_user_id = ? AND state = 'pending'", [.text(accountUserID)])
            .map(Self.invitation)
    }

    func auditEvents(accountID: String, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent] {
        try db.rows(
            "SELECT * FROM audit_events WHERE account_id = ? AND sequence < ? ORDER BY sequence DESC LIMIT ?",
            [.text(accountID), .int(beforeSequence ?? Int64.max), .int(Int64(limit))]
        ).map(Self.auditEvent)
    }

    func auditEvents(accountID: String, filter: AuditFilter, before beforeSequence: Int64?, limit: Int) throws -> [AuditEvent] {
        var conditions = ["account_id = ?", "sequence < ?"]
        var arguments: [SQLValue] = [.text(accountID), .int(beforeSequence ?? Int64.max)]
        if let action = filter.action {
            conditions.append("action = ?")
            arguments.append(.text(action.rawValue))
        }
        if let actor = filter.actor {
            conditions.append("actor = ?")
            arguments.append(.text(actor))
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments.append(.int(since.millisecondsSince1970))
        }
        if let until = filter.until {
            conditions.append("at < ?")
            arguments.append(.int(until.millisecondsSince1970))
        }
        arguments.append(.int(Int64(limit)))
        return try db.rows(
            "SELECT * FROM audit_events WHERE \(conditions.joined(separator: " AND ")) ORDER BY sequence DESC LIMIT ?", arguments
        ).map(Self.auditEvent)
    }

    /// Outbox rows with what templates need (as `SQLiteAccess.outboxSelect`).
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

    private static func outboxEntry(_ row: SQLRow) throws -> OutboxEntry {
        var message = OutboxMessage(
            id: try row.int("id"), kind: OutboxMessage.Kind(rawValue: try row.text("kind")) ?? .invitation,
            recipient: try row.text("recipient"), subject: try row.text("subject"), body: try row.text("body"),
            accountUserID: try row.text("account_user_id"), createdAt: try row.date("created_at"),
            sentAt: try row.optionalDate("sent_at"))
        message.failedAt = try row.optionalDate("failed_at")
        let cancelledAt = try row.optionalInt("cancelled_at")
        let state: OutboxMessage.DeliveryState = message.sentAt != nil ? .sent
            : message.failedAt != nil ? .failed
            : cancelledAt != nil ? .cancelled
            : .pending
        message.state = state
        message.attempts = Int(try row.int("attempts"))
        message.failureReason = try row.optionalText("last_error")
        if message.state == .pending {
            message.claimID = try row.optionalText("claim_id")
            message.leaseExpiresAt = try row.optionalDate("lease_expires_at")
            message.nextAttemptAt = try row.optionalDate("next_attempt_at")
        }
        if let accountName = try row.optionalText("d_account_name") {
            message.details = OutboxMessage.Details(
                accountName: accountName, recipientFirstName: try row.optionalText("d_first_name") ?? "",
                recipientLastName: try row.optionalText("d_last_name") ?? "",
                recipientLanguage: try row.optionalText("d_language") ?? "en",
                recipientLocale: try row.optionalText("d_locale") ?? "en-US",
                inviterName: try row.optionalText("d_inviter_name"), invitationLink: nil,
                invitationExpiresAt: try row.optionalDate("d_expires_at"))
        }
        return OutboxEntry(message: message, sealedToken: try row.optionalBytes("sealed_token"))
    }

    func outboxEntries(includeFailed: Bool, afterID: Int64, limit: Int) throws -> [OutboxEntry] {
        let condition = includeFailed
            ? "(o.sent_at IS NULL AND o.cancelled_at IS NULL)"
            : "(o.sent_at IS NULL AND o.failed_at IS NULL AND o.cancelled_at IS NULL)"
        return try db.rows(
            "\(Self.outboxSelect) WHERE \(condition) AND o.id > ? ORDER BY o.id LIMIT ?", [.int(afterID), .int(Int64(limit))]
        ).map(Self.outboxEntry)
    }

    func outboxEntry(id: Int64) throws -> OutboxEntry? {
        try db.row("\(Self.outboxSelect) WHERE o.id = ?", [.int(id)]).map(Self.outboxEntry)
    }

    func session(tokenHash: [UInt8]) throws -> SessionRecord? {
        try db.row("SELECT * FROM sessions WHERE token_hash = ?", [.bytes(tokenHash)]).map(Self.session)
    }

    func session(id: String) throws -> SessionRecord? {
        try db.row("SELECT * FROM sessions WHERE id = ?", [.text(id)]).map(Self.session)
    }

    func membershipAccess(accountID: String, userID: String) throws -> MembershipAccess? {
        guard let row = try db.row("""
            SELECT au.id, au.status, au.invitation_expires_at, a.status
            FROM account_users au JOIN accounts a ON a.id = au.account_id
            WHERE au.account_id = ? AND au.user_id = ?
            """, [.text(accountID), .text(userID)])
        else { return nil }
        let accountUserID = try row.text(0)
        let groups = try db.rows("""
            SELECT g.id, g.name, g.is_administrators, g.permissions
            FROM account_user_groups aug JOIN groups g ON g.id = aug.group_id
            WHERE aug.account_user_id = ? ORDER BY g.name, g.id
            """, [.text(accountUserID)]
        ).map { group in
            MembershipAccess.GrantedGroup(
                id: try group.text(0), name: try group.text(1), isAdministrators: try group.bool(2),
                permissions: Self.permissions(try group.text(3)))
        }
        return MembershipAccess(
            accountUserID: accountUserID, status: MembershipStatus(rawValue: try row.text(1)) ?? .disabled,
            invitationExpiresAt: try row.optionalDate(2), accountStatus: Account.Status(rawValue: try row.text(3)) ?? .disabled,
            groups: groups)
    }

    func changes(after position: Int64, limit: Int) throws -> [ChangeRecord] {
        try db.rows("""
            SELECT position, kind, committed_at, user_id, account_id, account_user_id, group_id, session_id
            FROM changes WHERE position > ? ORDER BY position LIMIT ?
            """, [.int(position), .int(Int64(limit))]
        ).compactMap { row -> ChangeRecord? in
            guard let kind = ChangeRecord.Kind(rawValue: try row.text(1)) else { return nil }
            return ChangeRecord(
                position: try row.int(0), kind: kind, committedAt: try row.date(2), userID: try row.optionalText(3),
                accountID: try row.optionalText(4), accountUserID: try row.optionalText(5), groupID: try row.optionalText(6),
                sessionID: try row.optionalText(7))
        }
    }

    /// `newest` is the highest committed position: positions are assigned in
    /// commit order (``PostgresSchema``) and pruning keeps the newest row, so
    /// it never goes back.
    func signInFailures(emailKey: String, since: Date, limit: Int) throws -> [Date] {
        try db.rows(
            "SELECT failed_at FROM sign_in_failures WHERE email_key = ? AND failed_at > ? ORDER BY failed_at LIMIT ?",
            [.text(emailKey), .int(since.millisecondsSince1970), .int(Int64(limit))]
        ).map { try $0.date(0) }
    }

    func soleGroupMemberCount(groupID: String) throws -> Int {
        let row = try db.row(
            """
            SELECT COUNT(*) FROM account_user_groups held
            JOIN account_users au ON au.id = held.account_user_id
            WHERE held.group_id = ? AND au.status <> 'deleted'
              AND NOT EXISTS (SELECT 1 FROM account_user_groups other
                              WHERE other.account_user_id = held.account_user_id AND other.group_id <> held.group_id)
            """, [.text(groupID)])
        return Int(try row?.int(0) ?? 0)
    }

    func changeBounds() throws -> ChangeBounds {
        let row = try db.row("SELECT MIN(position), MAX(position) FROM changes")
        return ChangeBounds(oldest: try row?.optionalInt(0), newest: try row?.optionalInt(1) ?? 0)
    }

    // MARK: StoreWriter

    /// An update that may hit a unique constraint: in a savepoint, so a
    /// ``StoreConflict`` leaves the transaction usable.
    @discardableResult
    private func guarded(_ sql: String, _ values: [SQLValue]) throws -> Int {
        try db.executeInSavepoint(sql, values).metadata.rows ?? 0
    }

    /// An insert of `rows` rows that may hit a unique constraint, whose
    /// ``StoreConflict`` leaves the transaction usable. It runs with `ON
    /// CONFLICT DO NOTHING`, without a savepoint (a subtransaction costs
    /// PostgreSQL a subtransaction id and more WAL, and two more statements);
    /// only when a row was not inserted is it run again in a savepoint, where
    /// the unique violation names the constraint. (Under serializable
    /// isolation, a conflict with a row this transaction cannot see fails
    /// with a serialization failure either way, and the write runs again.)
    private func guardedInsert(_ sql: String, _ values: [SQLValue], rows: Int = 1) throws {
        let inserted = try db.execute(sql + " ON CONFLICT DO NOTHING", values)
        if inserted < rows { try guarded(sql, values) }
    }

    func insert(_ account: Account) throws {
        try guardedInsert(
            "INSERT INTO accounts (id, name, type, status, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(account.id), .text(account.name), .text(account.type.rawValue), .text(account.status.rawValue),
             .int(account.createdAt.millisecondsSince1970)])
    }

    func insert(_ group: Group) throws {
        let permissions = String(decoding: try JSONEncoder().encode(group.permissions), as: UTF8.self)
        try guardedInsert(
            """
            INSERT INTO groups (id, account_id, name, description, permissions, is_administrators, is_default, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(group.id), .text(group.accountID), .text(group.name), .text(group.description), .text(permissions),
             .bool(group.isAdministrators), .bool(group.isDefault), .int(group.createdAt.millisecondsSince1970)])
    }

    func insert(_ user: User, passwordHash: String?) throws {
        try guardedInsert(
            """
            INSERT INTO users (id, first_name, last_name, email, phone, language, locale, icon, status, password_hash,
                               created_at, updated_at, last_sign_in_at, blocked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(user.id), .text(user.firstName), .text(user.lastName), .text(user.email), .text(user.phone),
             .text(user.language), .text(user.locale), .text(user.icon), .text(user.status.rawValue), .text(passwordHash),
             .int(user.createdAt.millisecondsSince1970), .int(user.updatedAt.millisecondsSince1970),
             .int(user.lastSignInAt?.millisecondsSince1970), .int(user.blockedAt?.millisecondsSince1970)])
    }

    func update(_ user: User) throws {
        try guarded(
            """
            UPDATE users SET first_name = ?, last_name = ?, email = ?, phone = ?, language = ?, locale = ?, icon = ?,
                status = ?, updated_at = ?, last_sign_in_at = ?, blocked_at = ?
            WHERE id = ?
            """,
            [.text(user.firstName), .text(user.lastName), .text(user.email), .text(user.phone), .text(user.language),
             .text(user.locale), .text(user.icon), .text(user.status.rawValue), .int(user.updatedAt.millisecondsSince1970),
             .int(user.lastSignInAt?.millisecondsSince1970), .int(user.blockedAt?.millisecondsSince1970), .text(user.id)])
        // Memberships not yet accepted sort by the typed names and as never
        // signed in (AccountUserQuery.key(of:for:)): only the email follows.
        try db.execute(
            "UPDATE account_users SET sort_name = ?, sort_email = ?, sort_last_sign_in = ? WHERE user_id = ? AND invited_first_name IS NULL",
            [.text(AccountUserQuery.nameKey(firstName: user.firstName, lastName: user.lastName)), .text(user.email),
             .int(AccountUserQuery.timeKey(user.lastSignInAt)), .text(user.id)])
        try db.execute(
            "UPDATE account_users SET sort_email = ? WHERE user_id = ? AND invited_first_name IS NOT NULL",
            [.text(user.email), .text(user.id)])
    }

    func setPasswordHash(userID: String, hash: String?) throws {
        try db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [.text(hash), .text(userID)])
    }

    func insert(_ member: AccountUser) throws {
        try guardedInsert(
            """
            INSERT INTO account_users (id, account_id, user_id, status, invited_at, joined_at, last_access_at, blocked_at,
                invitation_expires_at, invited_by, sort_name, sort_email, sort_joined, sort_last_sign_in,
                invited_first_name, invited_last_name, invited_phone)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(member.id), .text(member.accountID), .text(member.user.id), .text(member.status.storedName),
             .int(member.invitedAt.millisecondsSince1970), .int(member.joinedAt?.millisecondsSince1970),
             .int(member.lastAccessAt?.millisecondsSince1970), .int(member.blockedAt?.millisecondsSince1970),
             .int(member.invitationExpiresAt?.millisecondsSince1970), .text(member.invitedBy)]
                + Self.sortKeysAndInvitedPerson(member))
        try insertGroups(accountUserID: member.id, groupIDs: member.groups.map(\.id))
    }

    func update(_ member: AccountUser) throws {
        try db.execute(
            """
            UPDATE account_users SET status = ?, invited_at = ?, joined_at = ?, last_access_at = ?, blocked_at = ?,
                invitation_expires_at = ?, invited_by = ?, sort_name = ?, sort_email = ?, sort_joined = ?, sort_last_sign_in = ?,
                invited_first_name = ?, invited_last_name = ?, invited_phone = ?
            WHERE id = ?
            """,
            [.text(member.status.storedName), .int(member.invitedAt.millisecondsSince1970),
             .int(member.joinedAt?.millisecondsSince1970), .int(member.lastAccessAt?.millisecondsSince1970),
             .int(member.blockedAt?.millisecondsSince1970), .int(member.invitationExpiresAt?.millisecondsSince1970),
             .text(member.invitedBy)] + Self.sortKeysAndInvitedPerson(member) + [.text(member.id)])
    }

    /// sort_name, sort_email, sort_joined, sort_last_sign_in (of the person as
    /// the membership shows them), then invited_first_name, invited_last_name,
    /// invited_phone (NULL once the person accepted), as in SQLite.
    private static func sortKeysAndInvitedPerson(_ member: AccountUser) -> [SQLValue] {
        func key(_ field: AccountUserQuery.SortField) -> SQLValue {
            switch AccountUserQuery.key(of: member, for: field) {
            case .text(let text): .text(text)
            case .time(let ms): .int(ms)
            }
        }
        return [key(.name), key(.email), key(.joined), key(.lastSignIn),
                .text(member.invitedAs?.firstName), .text(member.invitedAs?.lastName), .text(member.invitedAs?.phone)]
    }

    func setGroups(accountUserID: String, groupIDs: [String]) throws {
        // Checked with the insert that follows (the connection runs them in order).
        db.send("DELETE FROM account_user_groups WHERE account_user_id = ?", [.text(accountUserID)])
        try insertGroups(accountUserID: accountUserID, groupIDs: groupIDs)
    }

    /// Links a membership to groups, in the order given, in one statement
    /// (the change-feed trigger still runs once per link, as on SQLite).
    private func insertGroups(accountUserID: String, groupIDs: [String]) throws {
        guard !groupIDs.isEmpty else { return }
        try guardedInsert(
            "INSERT INTO account_user_groups (account_user_id, group_id) SELECT ?, g FROM unnest(?::text[]) WITH ORDINALITY AS t(g, n) ORDER BY n",
            [.text(accountUserID), .texts(groupIDs)], rows: groupIDs.count)
    }

    func insert(_ invitation: InvitationRecord) throws {
        try guardedInsert(
            """
            INSERT INTO invitations (token_hash, sealed_token, account_user_id, created_at, expires_at, state, ended_at, inviter_name)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.bytes(invitation.tokenHash), .bytes(invitation.sealedToken), .text(invitation.accountUserID),
             .int(invitation.createdAt.millisecondsSince1970), .int(invitation.expiresAt.millisecondsSince1970),
             .text(invitation.state.rawValue), .int(invitation.endedAt?.millisecondsSince1970), .text(invitation.inviterName)])
    }

    func endInvitation(tokenHash: [UInt8], state: InvitationRecord.StoredState, at date: Date) throws {
        try db.execute(
            "UPDATE invitations SET state = ?, ended_at = ? WHERE token_hash = ? AND state = 'pending'",
            [.text(state.rawValue), .int(date.millisecondsSince1970), .bytes(tokenHash)])
    }

    func append(_ event: AuditEvent) throws -> Int64 {
        guard let row = try db.row(
            "INSERT INTO audit_events (account_id, at, actor, action, target_id, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING sequence",
            [.text(event.accountID), .int(event.at.millisecondsSince1970), .text(event.actor), .text(event.action.rawValue),
             .text(event.targetID), .text(event.details)])
        else { throw DomainError(.internal, "unexpected storage failure (no audit sequence returned)") }
        return try row.int(0)
    }

    func append(_ entry: OutboxEntry) throws -> Int64 {
        let message = entry.message
        guard let row = try db.row(
            """
            INSERT INTO outbox (kind, recipient, subject, body, sealed_token, account_user_id, created_at, sent_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [.text(message.kind.rawValue), .text(message.recipient), .text(message.subject), .text(message.body),
             .bytes(entry.sealedToken), .text(message.accountUserID), .int(message.createdAt.millisecondsSince1970),
             .int(message.sentAt?.millisecondsSince1970)])
        else { throw DomainError(.internal, "unexpected storage failure (no outbox id returned)") }
        return try row.int(0)
    }

    func withdrawPendingMessages(accountUserID: String, sealedToken: [UInt8]?) throws -> Int {
        if let sealedToken {
            return try db.execute(
                "DELETE FROM outbox WHERE account_user_id = ? AND sent_at IS NULL AND sealed_token = ?",
                [.text(accountUserID), .bytes(sealedToken)])
        }
        return try db.execute("DELETE FROM outbox WHERE account_user_id = ? AND sent_at IS NULL", [.text(accountUserID)])
    }

    func markOutboxSent(ids: [Int64], at date: Date) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.execute(
            """
            UPDATE outbox SET sent_at = ?, claim_id = NULL, lease_expires_at = NULL, next_attempt_at = NULL
            WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL AND id = ANY(?)
            """,
            [.int(date.millisecondsSince1970), .ints(ids)])
    }

    /// Rows another transaction holds (a concurrent claim) are skipped, not
    /// waited for (`FOR UPDATE SKIP LOCKED`): two senders never get the same
    /// message, and neither blocks the other.
    func claimOutbox(limit: Int, claimID: String, leaseUntil: Date, at date: Date) throws -> [OutboxEntry] {
        let now = date.millisecondsSince1970
        try db.execute(
            """
            UPDATE outbox SET claim_id = ?, lease_expires_at = ?, attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL
                  AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                ORDER BY id LIMIT ?
                FOR UPDATE SKIP LOCKED)
            """,
            [.text(claimID), .int(leaseUntil.millisecondsSince1970), .int(now), .int(now), .int(Int64(limit))])
        return try db.rows(
            "\(Self.outboxSelect) WHERE o.claim_id = ? AND o.sent_at IS NULL ORDER BY o.id", [.text(claimID)]
        ).map(Self.outboxEntry)
    }

    func recordOutboxFailure(id: Int64, reason: String, retryAt: Date?, at date: Date) throws {
        if let retryAt {
            try db.execute(
                "UPDATE outbox SET claim_id = NULL, lease_expires_at = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?",
                [.int(retryAt.millisecondsSince1970), .text(reason), .int(id)])
        } else {
            try db.execute(
                "UPDATE outbox SET claim_id = NULL, lease_expires_at = NULL, next_attempt_at = NULL, last_error = ?, failed_at = ? WHERE id = ?",
                [.text(reason), .int(date.millisecondsSince1970), .int(id)])
        }
    }

    func insert(_ session: SessionRecord) throws {
        try guardedInsert(
            """
            INSERT INTO sessions (id, token_hash, user_id, current_account_id, created_at, last_used_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(session.id), .bytes(session.tokenHash), .text(session.userID), .text(session.currentAccountID),
             .int(session.createdAt.millisecondsSince1970), .int(session.lastUsedAt.millisecondsSince1970),
             .int(session.expiresAt.millisecondsSince1970)])
    }

    func update(_ session: SessionRecord) throws {
        try db.execute(
            "UPDATE sessions SET current_account_id = ?, last_used_at = ? WHERE id = ?",
            [.text(session.currentAccountID), .int(session.lastUsedAt.millisecondsSince1970), .text(session.id)])
    }

    func deleteSession(id: String) throws -> Bool {
        try db.execute("DELETE FROM sessions WHERE id = ?", [.text(id)]) > 0
    }

    func deleteSessions(userID: String, except keptID: String?) throws -> Int {
        try db.execute("DELETE FROM sessions WHERE user_id = ? AND id IS DISTINCT FROM ?", [.text(userID), .text(keptID)])
    }

    func update(_ account: Account) throws {
        try guarded(
            "UPDATE accounts SET name = ?, status = ? WHERE id = ?",
            [.text(account.name), .text(account.status.rawValue), .text(account.id)])
    }

    func update(_ group: Group) throws {
        let permissions = String(decoding: try JSONEncoder().encode(group.permissions), as: UTF8.self)
        try guarded(
            "UPDATE groups SET name = ?, description = ?, permissions = ? WHERE id = ?",
            [.text(group.name), .text(group.description), .text(permissions), .text(group.id)])
    }

    func deleteGroup(id: String) throws -> Bool {
        // The account_user_groups trigger writes one membership change per member who held it.
        try db.execute("DELETE FROM account_user_groups WHERE group_id = ?", [.text(id)])
        return try db.execute("DELETE FROM groups WHERE id = ?", [.text(id)]) > 0
    }

    func recordSignInFailure(emailKey: String, at date: Date) throws {
        try db.execute(
            "INSERT INTO sign_in_failures (email_key, failed_at) VALUES (?, ?)",
            [.text(emailKey), .int(date.millisecondsSince1970)])
    }

    func clearSignInFailures(emailKey: String) throws {
        try db.execute("DELETE FROM sign_in_failures WHERE email_key = ?", [.text(emailKey)])
    }

    func deleteSignInFailures(before date: Date, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        return try db.execute(
            "DELETE FROM sign_in_failures WHERE ctid IN (SELECT ctid FROM sign_in_failures WHERE failed_at <= ? LIMIT ?)",
            [.int(date.millisecondsSince1970), .int(Int64(limit))])
    }

    func deleteExpiredSessions(now: Date, idleSince: Date, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        // Each branch of the union uses its own index.
        return try db.execute(
            """
            DELETE FROM sessions WHERE id IN (
                SELECT id FROM sessions WHERE expires_at <= ?
                UNION SELECT id FROM sessions WHERE last_used_at <= ?
                LIMIT ?)
            """,
            [.int(now.millisecondsSince1970), .int(idleSince.millisecondsSince1970), .int(Int64(limit))])
    }
}

extension MembershipStatus {
    /// The stored status: `invitationExpired` is computed, so it is stored as `invited`.
    var storedName: String { self == .invitationExpired ? MembershipStatus.invited.rawValue : rawValue }
}

// MARK: Prepared statements

/// One membership by id (get account user, and most operations on one
/// membership): prepared once per connection.
struct MemberByID: PostgresPreparedStatement {
    static let sql = "\(PostgresAccess.memberSelect) WHERE au.id = $1"
    typealias Row = PostgresRow
    let id: String

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// A user's membership of an account (every administrator's access check):
/// prepared once per connection.
struct MemberByAccountAndUser: PostgresPreparedStatement {
    static let sql = "\(PostgresAccess.memberSelect) WHERE au.account_id = $1 AND au.user_id = $2"
    typealias Row = PostgresRow
    let accountID: String
    let userID: String

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(accountID)
        bindings.append(userID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
