import MarketplaceDomain

/// The numbered, frozen migrations of the PostgreSQL database. Never edit a
/// registered migration: add a new one. A database with a migration this
/// binary does not know (written by a newer version) is refused at open.
///
/// 0001 is the SQLite schema after its migrations 0001-0006 (same tables,
/// columns, constraints, unique and keyset indexes, with the same names), in
/// PostgreSQL's types: times are `BIGINT` milliseconds, flags `BOOLEAN`,
/// hashes and sealed tokens `BYTEA`, and every text column `COLLATE "C"` so
/// that text orders by code point exactly as SQLite's BINARY collation (page
/// tokens are interchangeable between the backends). SQLite's `NOCASE`
/// (ASCII letters folded) is the function `nocase(text)`.
///
/// The change feed: the same triggers as SQLite write one `changes` row per
/// change in the transaction of the change, without a `position`; positions
/// are assigned after commit by `changes_sequence()` (0004), which numbers
/// every committed row still unnumbered, under the advisory lock
/// ``changesLockKey``, in one short transaction of its own, so positions
/// increase in the order rows are numbered even with several daemons writing
/// at once and a reader never sees position N+1 before N (readers read
/// numbered rows only). Rows are pruned to the last 100,000 by the store, not
/// by a trigger (see ``PostgresStore``). (0001-0003 numbered each row at its
/// commit, holding the lock until the commit was durable: commits that
/// appended to the feed were flushed one at a time across the fleet.)
enum PostgresSchema {
    /// `pg_advisory_lock` key held while migrating ("mkusers" + 1).
    static let migrationLockKey: Int64 = 0x6D6B_7573_6572_7301
    /// `pg_advisory_xact_lock` key held while numbering change-feed rows.
    static let changesLockKey: Int64 = 0x6D6B_7573_6572_7302

    /// One migration: statements run as one `DO` block (postgres-nio speaks
    /// the extended protocol, one statement per query) in one transaction.
    struct Migration {
        let identifier: String
        let sql: String

        var statement: String { "DO $migration$ BEGIN\n\(sql)\nEND $migration$" }
    }

    static let migrations: [Migration] = [
        Migration(identifier: "0001-initial", sql: migration0001),
        Migration(identifier: "0002-invited-person-and-sign-in-failures", sql: migration0002),
        Migration(identifier: "0003-changes-notify", sql: migration0003),
        Migration(identifier: "0004-changes-sequencer", sql: migration0004),
    ]

    /// Creates the bookkeeping table if needed.
    static let migrationsTable = """
        CREATE TABLE IF NOT EXISTS marketplace_migrations (
            identifier TEXT COLLATE "C" PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """

    private static let migration0001 = """
        CREATE FUNCTION nocase(text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C" $$;

        CREATE TABLE accounts (
            id TEXT COLLATE "C" PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL,
            type TEXT COLLATE "C" NOT NULL CHECK (type IN ('client', 'vendor', 'operations')),
            status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'disabled')),
            created_at BIGINT NOT NULL
        );

        CREATE TABLE groups (
            id TEXT COLLATE "C" PRIMARY KEY,
            account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
            name TEXT COLLATE "C" NOT NULL,
            description TEXT COLLATE "C" NOT NULL,
            permissions TEXT COLLATE "C" NOT NULL,
            is_administrators BOOLEAN NOT NULL,
            is_default BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX groups_by_account ON groups(account_id, id);
        CREATE UNIQUE INDEX groups_one_administrators ON groups(account_id, is_administrators) WHERE is_administrators;
        CREATE UNIQUE INDEX groups_one_default ON groups(account_id, is_default) WHERE is_default;

        CREATE TABLE users (
            id TEXT COLLATE "C" PRIMARY KEY,
            first_name TEXT COLLATE "C" NOT NULL,
            last_name TEXT COLLATE "C" NOT NULL,
            email TEXT COLLATE "C" NOT NULL,
            phone TEXT COLLATE "C",
            language TEXT COLLATE "C" NOT NULL,
            locale TEXT COLLATE "C" NOT NULL,
            icon TEXT COLLATE "C" NOT NULL,
            status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'deleted')),
            password_hash TEXT COLLATE "C",
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            last_sign_in_at BIGINT,
            blocked_at BIGINT
        );
        CREATE UNIQUE INDEX users_by_email ON users(email);

        CREATE TABLE account_users (
            id TEXT COLLATE "C" PRIMARY KEY,
            account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
            user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
            status TEXT COLLATE "C" NOT NULL CHECK (status IN ('invited', 'active', 'disabled', 'blocked', 'deleted')),
            invited_at BIGINT NOT NULL,
            joined_at BIGINT,
            last_access_at BIGINT,
            blocked_at BIGINT,
            invitation_expires_at BIGINT,
            invited_by TEXT COLLATE "C" NOT NULL,
            sort_name TEXT COLLATE "C" NOT NULL,
            sort_email TEXT COLLATE "C" NOT NULL,
            sort_joined BIGINT NOT NULL,
            sort_last_sign_in BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX account_users_by_account_user ON account_users(account_id, user_id);
        CREATE INDEX account_users_by_user ON account_users(user_id);
        CREATE INDEX account_users_by_name ON account_users(account_id, sort_name, id) INCLUDE (user_id, sort_email, status);
        CREATE INDEX account_users_by_email ON account_users(account_id, sort_email, id) INCLUDE (user_id, sort_name, status);
        CREATE INDEX account_users_by_joined ON account_users(account_id, sort_joined, id);
        CREATE INDEX account_users_by_last_sign_in ON account_users(account_id, sort_last_sign_in, id);

        CREATE TABLE account_user_groups (
            account_user_id TEXT COLLATE "C" NOT NULL REFERENCES account_users(id),
            group_id TEXT COLLATE "C" NOT NULL REFERENCES groups(id),
            PRIMARY KEY (account_user_id, group_id)
        );
        CREATE INDEX account_user_groups_by_group ON account_user_groups(group_id, account_user_id);

        CREATE TABLE invitations (
            token_hash BYTEA PRIMARY KEY,
            sealed_token BYTEA NOT NULL,
            account_user_id TEXT COLLATE "C" NOT NULL REFERENCES account_users(id),
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked', 'replaced')),
            ended_at BIGINT,
            inviter_name TEXT COLLATE "C" NOT NULL
        );
        CREATE UNIQUE INDEX invitations_one_pending ON invitations(account_user_id) WHERE state = 'pending';
        CREATE INDEX invitations_by_account_user ON invitations(account_user_id);

        CREATE TABLE audit_events (
            sequence BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            account_id TEXT COLLATE "C" REFERENCES accounts(id),
            at BIGINT NOT NULL,
            actor TEXT COLLATE "C" NOT NULL,
            action TEXT COLLATE "C" NOT NULL,
            target_id TEXT COLLATE "C" NOT NULL,
            details TEXT COLLATE "C" NOT NULL
        );
        CREATE INDEX audit_events_by_account ON audit_events(account_id, sequence);

        CREATE TABLE outbox (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            kind TEXT COLLATE "C" NOT NULL,
            recipient TEXT COLLATE "C" NOT NULL,
            subject TEXT COLLATE "C" NOT NULL,
            body TEXT COLLATE "C" NOT NULL,
            sealed_token BYTEA,
            account_user_id TEXT COLLATE "C" NOT NULL REFERENCES account_users(id),
            created_at BIGINT NOT NULL,
            sent_at BIGINT,
            attempts BIGINT NOT NULL DEFAULT 0,
            claim_id TEXT COLLATE "C",
            lease_expires_at BIGINT,
            next_attempt_at BIGINT,
            last_error TEXT COLLATE "C",
            failed_at BIGINT,
            cancelled_at BIGINT
        );
        CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL;
        CREATE INDEX outbox_failed ON outbox(id) WHERE failed_at IS NOT NULL;
        CREATE INDEX outbox_pending_by_account_user ON outbox(account_user_id) WHERE sent_at IS NULL;
        CREATE INDEX outbox_by_claim ON outbox(claim_id) WHERE claim_id IS NOT NULL;

        CREATE TABLE sessions (
            id TEXT COLLATE "C" PRIMARY KEY,
            token_hash BYTEA NOT NULL CHECK (octet_length(token_hash) = 32),
            user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
            current_account_id TEXT COLLATE "C" REFERENCES accounts(id),
            created_at BIGINT NOT NULL,
            last_used_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX sessions_by_token_hash ON sessions(token_hash);
        CREATE INDEX sessions_by_user ON sessions(user_id);
        CREATE INDEX sessions_by_expiry ON sessions(expires_at);
        CREATE INDEX sessions_by_last_use ON sessions(last_used_at);

        -- The change feed. `entry` orders rows within their transaction;
        -- `position` is assigned at commit (changes_position below).
        CREATE SEQUENCE changes_position_seq;
        CREATE TABLE changes (
            entry BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            position BIGINT UNIQUE,
            kind TEXT COLLATE "C" NOT NULL,
            committed_at BIGINT NOT NULL,
            user_id TEXT COLLATE "C",
            account_id TEXT COLLATE "C",
            account_user_id TEXT COLLATE "C",
            group_id TEXT COLLATE "C",
            session_id TEXT COLLATE "C"
        );

        CREATE FUNCTION changes_now() RETURNS BIGINT LANGUAGE sql VOLATILE
            AS $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;

        CREATE FUNCTION changes_position() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(\(changesLockKey));
            UPDATE changes SET position = nextval('changes_position_seq'), committed_at = changes_now()
            WHERE entry = NEW.entry;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER changes_position AFTER INSERT ON changes
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION changes_position();

        CREATE FUNCTION changes_membership() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'account_users' THEN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                VALUES ('membership', changes_now(), NEW.user_id, NEW.account_id, NEW.id);
            ELSIF TG_OP = 'INSERT' THEN
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                SELECT 'membership', changes_now(), user_id, account_id, id FROM account_users WHERE id = NEW.account_user_id;
            ELSE
                INSERT INTO changes (kind, committed_at, user_id, account_id, account_user_id)
                SELECT 'membership', changes_now(), user_id, account_id, id FROM account_users WHERE id = OLD.account_user_id;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_membership_created AFTER INSERT ON account_users
            FOR EACH ROW EXECUTE FUNCTION changes_membership();
        CREATE TRIGGER changes_membership_status AFTER UPDATE OF status ON account_users
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION changes_membership();
        CREATE TRIGGER changes_membership_group_added AFTER INSERT ON account_user_groups
            FOR EACH ROW EXECUTE FUNCTION changes_membership();
        CREATE TRIGGER changes_membership_group_removed AFTER DELETE ON account_user_groups
            FOR EACH ROW EXECUTE FUNCTION changes_membership();

        CREATE FUNCTION changes_user() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO changes (kind, committed_at, user_id) VALUES ('user', changes_now(), NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_user AFTER UPDATE OF status, blocked_at ON users
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.blocked_at IS DISTINCT FROM NEW.blocked_at)
            EXECUTE FUNCTION changes_user();

        CREATE FUNCTION changes_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO changes (kind, committed_at, user_id, session_id)
            VALUES ('session_ended', changes_now(), OLD.user_id, OLD.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_session_ended AFTER DELETE ON sessions
            FOR EACH ROW EXECUTE FUNCTION changes_session_ended();

        CREATE FUNCTION changes_group_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO changes (kind, committed_at, account_id, group_id)
            VALUES ('group_permissions', changes_now(), NEW.account_id, NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_group_permissions AFTER UPDATE OF permissions, is_administrators ON groups
            FOR EACH ROW WHEN (OLD.permissions IS DISTINCT FROM NEW.permissions OR OLD.is_administrators IS DISTINCT FROM NEW.is_administrators)
            EXECUTE FUNCTION changes_group_permissions();

        CREATE FUNCTION changes_account_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO changes (kind, committed_at, account_id) VALUES ('account_status', changes_now(), NEW.id);
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_account_status AFTER UPDATE OF status ON accounts
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION changes_account_status();
        """

    /// SQLite's 0007 and 0008: the person as the inviter typed them, kept on
    /// the membership until acceptance (NULL after), and wrong passwords per
    /// email key for the sign-in lockout shared by every daemon. (No data step:
    /// a PostgreSQL database holds no membership made before this version;
    /// `migrate-to` copies these columns from an upgraded SQLite file.)
    private static let migration0002 = """
        ALTER TABLE account_users ADD COLUMN invited_first_name TEXT COLLATE "C";
        ALTER TABLE account_users ADD COLUMN invited_last_name TEXT COLLATE "C";
        ALTER TABLE account_users ADD COLUMN invited_phone TEXT COLLATE "C";

        CREATE TABLE sign_in_failures (
            email_key TEXT COLLATE "C" NOT NULL,
            failed_at BIGINT NOT NULL
        );
        CREATE INDEX sign_in_failures_by_email ON sign_in_failures(email_key, failed_at);
        CREATE INDEX sign_in_failures_by_time ON sign_in_failures(failed_at);
        """

    /// The channel notified at the commit of every transaction that appended
    /// to the change feed (``ChangeListener``).
    static let changesChannel = "marketplace_changes"

    /// The change feed wakes waiters of every daemon: the commit-time trigger
    /// that numbers a transaction's changes also notifies
    /// ``changesChannel``. PostgreSQL delivers a notification only when (and
    /// if) the transaction commits, and once per transaction however many rows
    /// it appended (identical notifications are folded).
    private static let migration0003 = """
        CREATE OR REPLACE FUNCTION changes_position() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(\(changesLockKey));
            UPDATE changes SET position = nextval('changes_position_seq'), committed_at = changes_now()
            WHERE entry = NEW.entry;
            PERFORM pg_notify('\(changesChannel)', '');
            RETURN NULL;
        END $$;
        """

    /// Rows numbered by one run of `changes_sequence()` at most (a run that
    /// numbers this many is followed by another at once).
    static let sequenceBatch = 10_000

    /// Positions assigned after commit, not at commit: writers only insert
    /// unnumbered rows (no lock, no `NOTIFY` in their transactions: both
    /// serialised every commit that appended to the feed, across the fleet,
    /// through its flush). `changes_sequence()` numbers the committed
    /// unnumbered rows in the order they were written (`entry`), from one
    /// block of `changes_position_seq`, sets their `committed_at` to the time
    /// they are numbered (one time per run, so times never decrease along
    /// positions), notifies ``changesChannel`` when it numbered any
    /// and returns how many. It runs in READ COMMITTED (refused otherwise), so
    /// each statement after the lock sees every commit made before it: the
    /// lock is released only after the numbering transaction is visible, so
    /// the next run's positions are higher and appear after these. Rows of a
    /// transaction still running are not visible to it and get numbered by a
    /// later run, above every position assigned before.
    private static let migration0004 = """
        DROP TRIGGER changes_position ON changes;
        DROP FUNCTION changes_position();
        CREATE INDEX changes_unnumbered ON changes (entry) WHERE position IS NULL;

        CREATE FUNCTION changes_sequence() RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            entries BIGINT[];
            first BIGINT;
            stamp BIGINT;
        BEGIN
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'changes_sequence() must run in READ COMMITTED, not %', current_setting('transaction_isolation');
            END IF;
            IF NOT EXISTS (SELECT 1 FROM changes WHERE position IS NULL) THEN
                RETURN 0;
            END IF;
            PERFORM pg_advisory_xact_lock(\(changesLockKey));
            SELECT array_agg(entry ORDER BY entry) INTO entries
            FROM (SELECT entry FROM changes WHERE position IS NULL ORDER BY entry LIMIT \(sequenceBatch)) AS pending;
            IF entries IS NULL THEN
                RETURN 0;
            END IF;
            first := nextval('changes_position_seq');
            IF cardinality(entries) > 1 THEN
                PERFORM setval('changes_position_seq', first + cardinality(entries) - 1);
            END IF;
            stamp := changes_now();
            UPDATE changes SET position = first + numbered.n - 1, committed_at = stamp
            FROM unnest(entries) WITH ORDINALITY AS numbered(entry, n)
            WHERE changes.entry = numbered.entry;
            PERFORM pg_notify('\(changesChannel)', '');
            RETURN cardinality(entries);
        END $$;
        """
}
