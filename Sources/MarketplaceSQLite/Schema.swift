import GRDB
import MarketplaceDomain

/// The numbered, frozen migrations of the database. Never edit a registered
/// migration: add a new one. A database with a migration this binary does not
/// know (written by a newer version) is refused at open.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-initial", migrate: migration0001)
        migrator.registerMigration("0002-sessions", migrate: migration0002)
        migrator.registerMigration("0003-member-indexes-cover-status", migrate: migration0003)
        migrator.registerMigration("0004-contract-values", migrate: migration0004)
        migrator.registerMigration("0005-outbox-delivery", migrate: migration0005)
        migrator.registerMigration("0006-change-feed", migrate: migration0006)
        migrator.registerMigration("0007-invited-person", migrate: migration0007)
        migrator.registerMigration("0008-sign-in-failures", migrate: migration0008)
        migrator.registerMigration("0009-fewer-indexes-per-invite", migrate: migration0009)
        return migrator
    }

    private static func migration0001(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE accounts (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                type TEXT NOT NULL CHECK (type IN ('client', 'vendor', 'operations')),
                status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID;

            CREATE TABLE groups (
                id TEXT PRIMARY KEY NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                permissions TEXT NOT NULL,
                is_administrators INTEGER NOT NULL CHECK (is_administrators IN (0, 1)),
                is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX groups_by_account ON groups(account_id, id);
            CREATE UNIQUE INDEX groups_one_administrators ON groups(account_id, is_administrators) WHERE is_administrators = 1;
            CREATE UNIQUE INDEX groups_one_default ON groups(account_id, is_default) WHERE is_default = 1;

            CREATE TABLE users (
                id TEXT PRIMARY KEY NOT NULL,
                first_name TEXT NOT NULL,
                last_name TEXT NOT NULL,
                email TEXT NOT NULL,
                phone TEXT,
                language TEXT NOT NULL,
                locale TEXT NOT NULL,
                icon TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'deleted')),
                password_hash TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                last_sign_in_at INTEGER,
                blocked_at INTEGER
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX users_by_email ON users(email);

            CREATE TABLE account_users (
                id TEXT PRIMARY KEY NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                user_id TEXT NOT NULL REFERENCES users(id),
                status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled', 'blocked', 'deleted')),
                invited_at INTEGER NOT NULL,
                joined_at INTEGER,
                last_access_at INTEGER,
                blocked_at INTEGER,
                invitation_expires_at INTEGER,
                invited_by TEXT NOT NULL,
                sort_name TEXT NOT NULL,
                sort_email TEXT NOT NULL,
                sort_joined INTEGER NOT NULL,
                sort_last_sign_in INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX account_users_by_account_user ON account_users(account_id, user_id);
            CREATE INDEX account_users_by_user ON account_users(user_id);
            -- The name and email indexes also cover the text search columns, so a
            -- search that matches few members scans the index alone.
            CREATE INDEX account_users_by_name ON account_users(account_id, sort_name, id, user_id, sort_email);
            CREATE INDEX account_users_by_email ON account_users(account_id, sort_email, id, user_id, sort_name);
            CREATE INDEX account_users_by_joined ON account_users(account_id, sort_joined, id);
            CREATE INDEX account_users_by_last_sign_in ON account_users(account_id, sort_last_sign_in, id);

            CREATE TABLE account_user_groups (
                account_user_id TEXT NOT NULL REFERENCES account_users(id),
                group_id TEXT NOT NULL REFERENCES groups(id),
                PRIMARY KEY (account_user_id, group_id)
            ) WITHOUT ROWID;
            CREATE INDEX account_user_groups_by_group ON account_user_groups(group_id, account_user_id);

            CREATE TABLE invitations (
                token_hash BLOB PRIMARY KEY NOT NULL,
                sealed_token BLOB NOT NULL,
                account_user_id TEXT NOT NULL REFERENCES account_users(id),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked', 'replaced')),
                ended_at INTEGER,
                inviter_name TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX invitations_one_pending ON invitations(account_user_id) WHERE state = 'pending';
            CREATE INDEX invitations_by_account_user ON invitations(account_user_id);

            CREATE TABLE audit_events (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                account_id TEXT REFERENCES accounts(id),
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target_id TEXT NOT NULL,
                details TEXT NOT NULL
            );
            CREATE INDEX audit_events_by_account ON audit_events(account_id, sequence);

            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                sealed_token BLOB,
                account_user_id TEXT NOT NULL REFERENCES account_users(id),
                created_at INTEGER NOT NULL,
                sent_at INTEGER
            );
            CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;
            """)
    }

    /// Sign-in sessions. The token is stored only as its SHA-256 hash; the idle
    /// expiry is `last_used_at` + the configured timeout, so it is not stored.
    /// Expired rows are deleted a few at a time by later sign-ins.
    private static func migration0002(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY NOT NULL,
                token_hash BLOB NOT NULL CHECK (length(token_hash) = 32),
                user_id TEXT NOT NULL REFERENCES users(id),
                current_account_id TEXT REFERENCES accounts(id),
                created_at INTEGER NOT NULL,
                last_used_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX sessions_by_token_hash ON sessions(token_hash);
            CREATE INDEX sessions_by_user ON sessions(user_id);
            CREATE INDEX sessions_by_expiry ON sessions(expires_at);
            CREATE INDEX sessions_by_last_use ON sessions(last_used_at);
            """)
    }

    /// The name and email indexes of memberships also hold the status, so a
    /// listing filtered by status and a text query checks both in the index
    /// and reads the table only for the rows of the page (a page of 50 active
    /// members matching a text among 100,000: about 8 ms before, 1 ms after).
    private static func migration0003(_ db: Database) throws {
        try db.execute(sql: """
            DROP INDEX account_users_by_name;
            CREATE INDEX account_users_by_name ON account_users(account_id, sort_name, id, user_id, sort_email, status);
            DROP INDEX account_users_by_email;
            CREATE INDEX account_users_by_email ON account_users(account_id, sort_email, id, user_id, sort_name, status);
            """)
    }

    /// Stored values in the contract's forms (issue 11): `invited_by` holds the
    /// inviting user's id or `operator` (recovered from the audit trail of the
    /// latest invitation), audit actors are `USR-...` / `operator:<uid>` /
    /// `anonymous`, the name sort key is last name then first name, "never" sorts
    /// after every time; and an index to withdraw a membership's unsent emails.
    private static func migration0004(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE account_users SET invited_by = COALESCE((
                SELECT CASE WHEN e.actor LIKE 'user:%' THEN substr(e.actor, 6) ELSE 'operator' END
                FROM audit_events e
                WHERE e.target_id = account_users.id
                  AND e.action IN ('account_user.invited', 'account_user.reinvited', 'invitation.renewed')
                ORDER BY e.sequence DESC LIMIT 1), 'operator');
            UPDATE audit_events SET actor = substr(actor, 6) WHERE actor LIKE 'user:%';
            UPDATE audit_events SET actor = 'operator:' || substr(actor, 14) WHERE actor LIKE 'operator:uid=%';
            UPDATE account_users SET sort_joined = \(AccountUserQuery.never) WHERE joined_at IS NULL;
            UPDATE account_users SET sort_last_sign_in = \(AccountUserQuery.never) WHERE sort_last_sign_in = 0;
            CREATE INDEX outbox_pending_by_account_user ON outbox(account_user_id) WHERE sent_at IS NULL;
            """)
        let rows = try Row.fetchAll(db, sql: "SELECT au.id, u.first_name, u.last_name FROM account_users au JOIN users u ON u.id = au.user_id")
        let update = try db.makeStatement(sql: "UPDATE account_users SET sort_name = ? WHERE id = ?")
        for row in rows {
            let id: String = row[0]
            try update.execute(arguments: [AccountUserQuery.nameKey(firstName: row[1], lastName: row[2]), id])
        }
    }

    /// Delivery state of outbox messages, for mail senders that claim batches
    /// under a lease (docs/mail.md). A message is deliverable while
    /// `sent_at`, `failed_at` and `cancelled_at` are all unset; a sender's
    /// claim holds it for others until `lease_expires_at`; after a temporary
    /// failure it waits until `next_attempt_at`. `attempts` counts claims.
    /// `cancelled_at` is unused by this version: messages the service
    /// withdraws are deleted (see `withdrawPendingMessages`).
    private static func migration0005(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE outbox ADD COLUMN claim_id TEXT;
            ALTER TABLE outbox ADD COLUMN lease_expires_at INTEGER;
            ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
            ALTER TABLE outbox ADD COLUMN last_error TEXT;
            ALTER TABLE outbox ADD COLUMN failed_at INTEGER;
            ALTER TABLE outbox ADD COLUMN cancelled_at INTEGER;
            DROP INDEX outbox_pending;
            CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL;
            CREATE INDEX outbox_failed ON outbox(id) WHERE failed_at IS NOT NULL;
            """)
    }

    /// The change feed (Changes/ListChanges): what may change an access
    /// check's answer, one row per change, written by triggers in the very
    /// transaction (and savepoint) of the change, so the feed holds exactly
    /// what committed, in commit order (the writer is serialised), and
    /// survives restarts. `committed_at` is in milliseconds. The feed keeps
    /// the last 100,000 changes: each insert deletes the one that falls out.
    /// (Another backend writes the same rows, e.g. with the same triggers.)
    private static func migration0006(_ db: Database) throws {
        let now = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
        try db.execute(sql: """
            CREATE TABLE changes (
                position INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                committed_at INTEGER NOT NULL,
                user_id TEXT,
                account_id TEXT,
                account_user_id TEXT,
                group_id TEXT,
                session_id TEXT
            );
            CREATE TRIGGER changes_retention AFTER INSERT ON changes BEGIN
                DELETE FROM changes WHERE position <= NEW.position - 100000;
            END;
            CREATE TRIGGER changes_membership_created AFTER INSERT ON account_users BEGIN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                VALUES ('membership', \(now), NEW.user_id, NEW.account_id, NEW.id);
            END;
            CREATE TRIGGER changes_membership_status AFTER UPDATE OF status ON account_users
            WHEN OLD.status IS NOT NEW.status BEGIN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                VALUES ('membership', \(now), NEW.user_id, NEW.account_id, NEW.id);
            END;
            CREATE TRIGGER changes_membership_group_added AFTER INSERT ON account_user_groups BEGIN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                SELECT 'membership', \(now), user_id, account_id, id FROM account_users WHERE id = NEW.account_user_id;
            END;
            CREATE TRIGGER changes_membership_group_removed AFTER DELETE ON account_user_groups BEGIN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                SELECT 'membership', \(now), user_id, account_id, id FROM account_users WHERE id = OLD.account_user_id;
            END;
            CREATE TRIGGER changes_user AFTER UPDATE OF status, blocked_at ON users
            WHEN OLD.status IS NOT NEW.status OR OLD.blocked_at IS NOT NEW.blocked_at BEGIN
                INSERT INTO changes (kind, committed_at, user_id) VALUES ('user', \(now), NEW.id);
            END;
            CREATE TRIGGER changes_session_ended AFTER DELETE ON sessions BEGIN
                INSERT INTO changes (kind, committed_at, user_id, session_id)
                VALUES ('session_ended', \(now), OLD.user_id, OLD.id);
            END;
            CREATE TRIGGER changes_group_permissions AFTER UPDATE OF permissions, is_administrators ON groups
            WHEN OLD.permissions IS NOT NEW.permissions OR OLD.is_administrators IS NOT NEW.is_administrators BEGIN
                INSERT INTO changes (kind, committed_at, account_id, group_id)
                VALUES ('group_permissions', \(now), NEW.account_id, NEW.id);
            END;
            CREATE TRIGGER changes_account_status AFTER UPDATE OF status ON accounts
            WHEN OLD.status IS NOT NEW.status BEGIN
                INSERT INTO changes (kind, committed_at, account_id) VALUES ('account_status', \(now), NEW.id);
            END;
            """)
    }

    /// The person as the inviting administrator typed them (names, phone),
    /// kept on the membership until the person accepts (then NULL): an
    /// account that merely invited an existing login shows, sorts and finds it
    /// by what it typed, never by the login's own names or last sign-in.
    ///
    /// Memberships not accepted at upgrade (`invited`, or `disabled` without a
    /// join) get the names of their user when that user never set a password
    /// (an invitation made it, with typed names); for an existing login the
    /// names typed then were not kept, so they show empty names until the
    /// person accepts. Their sort keys follow (name; never signed in).
    private static func migration0007(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE account_users ADD COLUMN invited_first_name TEXT;
            ALTER TABLE account_users ADD COLUMN invited_last_name TEXT;
            ALTER TABLE account_users ADD COLUMN invited_phone TEXT;
            """)
        let rows = try Row.fetchAll(db, sql: """
            SELECT au.id, u.first_name, u.last_name, u.phone, u.password_hash IS NULL
            FROM account_users au JOIN users u ON u.id = au.user_id
            WHERE au.status = 'invited' OR (au.status = 'disabled' AND au.joined_at IS NULL)
            """)
        let update = try db.makeStatement(sql: """
            UPDATE account_users SET invited_first_name = ?, invited_last_name = ?, invited_phone = ?,
                sort_name = ?, sort_last_sign_in = ?
            WHERE id = ?
            """)
        for row in rows {
            let id: String = row[0]
            let madeByInvitation: Bool = row[4]
            let first: String = madeByInvitation ? row[1] : ""
            let last: String = madeByInvitation ? row[2] : ""
            let phone: String? = madeByInvitation ? row[3] : nil
            try update.execute(arguments: [
                first, last, phone, AccountUserQuery.nameKey(firstName: first, lastName: last), AccountUserQuery.never, id,
            ])
        }
    }

    /// Wrong passwords per email key (`SignInThrottle`), kept in the database
    /// so that every daemon of a store counts the same failures. Times in
    /// milliseconds; rows older than the throttle's window are purged.
    private static func migration0008(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE sign_in_failures (
                email_key TEXT NOT NULL,
                failed_at INTEGER NOT NULL
            );
            CREATE INDEX sign_in_failures_by_email ON sign_in_failures(email_key, failed_at);
            CREATE INDEX sign_in_failures_by_time ON sign_in_failures(failed_at);
            """)
    }

    /// Two B-trees fewer for every new membership and invitation, each a
    /// random leaf page written to the log and checkpointed per invite
    /// (BENCHMARKS.md, change 21). One unique index on (user_id, account_id)
    /// holds both what `account_users_by_account_user` (unique on account
    /// and user) and `account_users_by_user` did: the same pairs are unique
    /// in either order, and it answers the look-ups by both and by the user
    /// alone. `invitations_by_account_user` served no query: invitations are
    /// read by member only while pending (`invitations_one_pending`), and
    /// memberships are never deleted, so the foreign key never searches the
    /// child rows.
    private static func migration0009(_ db: Database) throws {
        try db.execute(sql: """
            CREATE UNIQUE INDEX account_users_by_user_account ON account_users(user_id, account_id);
            DROP INDEX account_users_by_account_user;
            DROP INDEX account_users_by_user;
            DROP INDEX invitations_by_account_user;
            """)
    }
}
