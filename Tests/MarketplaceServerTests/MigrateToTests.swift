import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// `marketplace-usersd migrate-to`: a SQLite data directory populated through
/// the real daemon moves into an empty database of the test PostgreSQL
/// cluster, and a daemon on that database (same key file) carries on where
/// the SQLite one stopped. Runs in the PostgreSQL pass of Scripts/test.
@Suite("migrate-to: from a SQLite data directory to PostgreSQL", .postgresOnly, .serialized)
struct MigrateToTests {
    /// Every table of the service (both backends).
    static let tables = [
        "accounts", "groups", "users", "account_users", "account_user_groups", "invitations", "audit_events",
        "outbox", "sessions", "changes", "sign_in_failures",
    ]

    private func migrate(data: String, url: String) async throws -> ProcessResult {
        try await runProcess(DaemonProcess.executable, ["migrate-to", "--data-dir", data, "--database", url])
    }

    private func keygen(_ path: String) async throws {
        let made = try await runProcess(DaemonProcess.executable, ["keygen", "--key-file", path])
        try #require(made.status == 0, "\(made.stderr)")
    }

    /// What the populated directory holds, for the checks after the move.
    struct Before: Sendable {
        var pendingLink: String
        var sessionToken: String
        var view: APIView
    }

    /// Everything an operator can read through the API, in order.
    struct APIView: Equatable, Sendable {
        var accounts: [Account] = []
        var groups: [[Group]] = []
        var members: [[AccountUser]] = []
        var users: [User] = []
        var membershipsOfUsers: [[AccountUser]] = []
        var audit: [[AuditEvent]] = []
        var changes: [Change] = []
        var outbox: [OutboxMessage] = []

        static let allStatuses: [MembershipStatus] = [.invited, .active, .disabled, .invitationExpired, .blocked, .deleted]

        static func read(_ client: MarketplaceClient) async throws -> APIView {
            var view = APIView()
            let accounts = try await client.accounts.listAccounts(.init(pageSize: 100))
            #expect(accounts.nextPageToken.isEmpty)
            view.accounts = accounts.accounts
            for account in view.accounts {
                view.groups.append(try await client.groups.listGroups(.init(accountId: account.id, pageSize: 100)).groups)
                let members = try await client.accountUsers.listAccountUsers(
                    .init(accountId: account.id, statuses: allStatuses, pageSize: 500))
                #expect(members.nextPageToken.isEmpty)
                view.members.append(members.accountUsers)
                view.audit.append(try await client.audit.listAuditEvents(.init(accountId: account.id, pageSize: 500)).events)
            }
            view.users = try await client.users.listUsers(.init(pageSize: 500)).users
            for user in view.users {
                view.membershipsOfUsers.append(try await client.users.listUserAccountUsers(.init(userId: user.id)).accountUsers)
            }
            view.changes = try await client.changes.listChanges(.init(afterPosition: 0, limit: 1000)).changes
            view.outbox = try await client.outbox.listPendingMessages(.init(limit: 500, includeFailed: true)).messages
            return view
        }
    }

    /// Fills a data directory through the real daemon: three accounts (one
    /// disabled), groups (one changed), memberships in every stored status
    /// (invited, active, disabled, blocked, deleted), pending invitations,
    /// sessions (one ended), a failed sign-in, sent and unsent emails; so
    /// audit events and changes too. Checks that migrate-to refuses to run
    /// beside the daemon, then stops it.
    private func populate(data: String, key: String, in directory: TemporaryDirectory) async throws -> Before {
        let socket = directory.appending("sqlite.sock")
        let daemon = try DaemonProcess(
            socketPath: socket, dataDirectory: data, logPath: directory.appending("sqlite.log"), arguments: ["--key-file", key])
        try #require(await daemon.waitUntilReady(), "\(daemon.log)")
        defer { daemon.signal(SIGKILL) }
        let before = try await MarketplaceClient.withClient(socketPath: socket) { client in
            let f = Fixture(client: client)
            let (acme, acmeAdmins, acmeStaff) = try await f.accountWithGroups()
            let (globex, globexAdmins, globexStaff) = try await f.accountWithGroups("Globex")
            let initech = try await f.account("Initech", type: .vendor)
            _ = try await f.group(initech)
            _ = try await client.accounts.disableAccount(.init(accountId: initech.id))
            _ = try await client.groups.updateGroup(
                .init(groupId: globexStaff.id, permissions: ["users.read"], fields: ["permissions"]))

            // Active in two accounts (the second accepted with the existing login).
            _ = try await f.accept(try await f.invite(acme, "grace@example.com", groups: [acmeAdmins], first: "Grace", last: "Hopper").invitationLink)
            _ = try await f.accept(try await f.invite(globex, "grace@example.com", groups: [globexAdmins]).invitationLink)
            // Invited: pending links, one copied as an administrator would.
            let pending = try await f.invite(acme, "pending@example.com", groups: [acmeStaff], first: "Penny", last: "Ending")
            let copied = try await client.accountUsers.getInvitationLink(.init(accountUserId: try #require(pending.accountUser).id))
            _ = try await f.invite(globex, "pending2@example.com", groups: [globexStaff])
            // Disabled (removed after joining), blocked, deleted (revoked, never had a login).
            let removed = try await f.accept(try await f.invite(acme, "removed@example.com", groups: [acmeStaff]).invitationLink)
            _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: removed.id))
            let blocked = try await f.accept(try await f.invite(acme, "blocked@example.com", groups: [acmeStaff]).invitationLink)
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: blocked.id))
            let revoked = try await f.invite(globex, "revoked@example.com", groups: [globexStaff])
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: try #require(revoked.accountUser).id))

            // Sessions: one kept, one ended; a wrong password.
            let session = try await client.sessions.signIn(.init(email: "grace@example.com", password: "Str0ng!pass"))
            let ended = try await client.sessions.signIn(.init(email: "removed@example.com", password: "Str0ng!pass"))
            _ = try await client.sessions.signOut(.init(), options: .bearer(ended.token))
            await expectRPCError(.unauthenticated) {
                try await client.sessions.signIn(.init(email: "grace@example.com", password: "wrong-password"))
            }
            // Some emails sent, the rest waiting.
            let claimed = try await client.outbox.claimMessages(.init(limit: 3, leaseSeconds: 60))
            _ = try await client.outbox.markMessagesSent(.init(messageIds: claimed.messages.map(\.id)))

            let view = try await APIView.read(client)
            let statuses = Set(view.members.joined().map(\.status))
            #expect(statuses.isSuperset(of: [.invited, .active, .disabled, .blocked, .deleted]), "\(statuses)")
            return Before(pendingLink: copied.invitationLink, sessionToken: session.token, view: view)
        }
        // migrate-to refuses to run beside a daemon serving from the directory.
        let beside = try await migrate(data: data, url: "postgres://postgres@/unused?host=/nonexistent")
        #expect(beside.status == 1, "\(beside.stdout)\(beside.stderr)")
        #expect(beside.stderr.contains("in use by a running marketplace-usersd"), "\(beside.stderr)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
        return before
    }

    /// The same query's rows on both sides, `|`-separated.
    private func same(_ sqliteSQL: String, _ postgresSQL: String, database: String, target: PostgresTestDatabase) async throws {
        let left = try await sqlite(database, sqliteSQL)
        let right = try await target.psql(postgresSQL)
        #expect(!left.isEmpty, "no rows for \(sqliteSQL)")
        #expect(left == right, "\(sqliteSQL)\nSQLite:\n\(left)\nPostgreSQL:\n\(right)")
    }

    /// The same columns of `table` on both sides (ordered by `order`); BLOBs as hex.
    private func same(_ table: String, _ columns: [String], order: String, blobs: Set<String> = [], booleans: Set<String> = [], database: String, target: PostgresTestDatabase) async throws {
        let left = columns.map { blobs.contains($0) ? "lower(hex(\($0)))" : $0 }.joined(separator: ", ")
        let right = columns.map {
            blobs.contains($0) ? "encode(\($0), 'hex')" : booleans.contains($0) ? "\($0)::int" : $0
        }.joined(separator: ", ")
        try await same(
            "SELECT \(left) FROM \(table) ORDER BY \(order)", "SELECT \(right) FROM \(table) ORDER BY \(order)",
            database: database, target: target)
    }

    @Test("A populated directory moves whole: rows, ids, times, sequences; its links, sessions and the README walk-through work on PostgreSQL")
    func movesAndCarriesOn() async throws {
        let directory = try TemporaryDirectory(prefix: "mig")
        defer { directory.remove() }
        let key = directory.appending("fleet.key")
        try await keygen(key)
        let data = directory.appending("data")
        let before = try await populate(data: data, key: key, in: directory)
        let database = data + "/users.sqlite"
        var counts: [String: String] = [:]
        for table in Self.tables {
            counts[table] = try await sqlite(database, "SELECT count(*) FROM \(table)")
            #expect(counts[table] != "0", "the populated directory has no \(table)")
        }
        let oldMax = (
            audit: Int(try await sqlite(database, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'"))!,
            outbox: Int(try await sqlite(database, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"))!,
            changes: Int(try await sqlite(database, "SELECT seq FROM sqlite_sequence WHERE name = 'changes'"))!)

        let target = try await PostgresCluster.shared().createDatabase(prefix: "mig")
        let moved = try await migrate(data: data, url: target.url)
        try #require(moved.status == 0, "\(moved.stdout)\(moved.stderr)")
        #expect(moved.stdout.contains("moving \(database) (\(Self.tables.count) tables"), "\(moved.stdout)")
        #expect(moved.stdout.contains("--key-file \(data)/secrets.key") == false, "no secrets.key in the directory: \(moved.stdout)")
        for table in Self.tables {
            #expect(moved.stdout.contains("  \(table): \(counts[table]!) rows"), "no progress line for \(table): \(moved.stdout)")
            #expect(try await target.psql("SELECT count(*) FROM \(table)") == counts[table], "\(table)")
        }

        // Ids, times, hashes, sealed tokens, sequences and positions kept, column by column.
        try await same("accounts", ["id", "name", "type", "status", "created_at"], order: "id", database: database, target: target)
        try await same(
            "groups", ["id", "account_id", "name", "description", "permissions", "is_administrators", "is_default", "created_at"],
            order: "id", booleans: ["is_administrators", "is_default"], database: database, target: target)
        try await same(
            "users", ["id", "first_name", "last_name", "email", "phone", "language", "locale", "icon", "status", "password_hash",
                      "created_at", "updated_at", "last_sign_in_at", "blocked_at"],
            order: "id", database: database, target: target)
        try await same(
            "account_users", ["id", "account_id", "user_id", "status", "invited_at", "joined_at", "last_access_at", "blocked_at",
                              "invitation_expires_at", "invited_by", "sort_name", "sort_email", "sort_joined", "sort_last_sign_in",
                              "invited_first_name", "invited_last_name", "invited_phone"],
            order: "id", database: database, target: target)
        try await same("account_user_groups", ["account_user_id", "group_id"], order: "1, 2", database: database, target: target)
        try await same(
            "invitations", ["token_hash", "sealed_token", "account_user_id", "created_at", "expires_at", "state", "ended_at", "inviter_name"],
            order: "1", blobs: ["token_hash", "sealed_token"], database: database, target: target)
        try await same(
            "audit_events", ["sequence", "account_id", "at", "actor", "action", "target_id", "details"],
            order: "sequence", database: database, target: target)
        try await same(
            "outbox", ["id", "kind", "recipient", "subject", "body", "sealed_token", "account_user_id", "created_at", "sent_at",
                       "attempts", "claim_id", "lease_expires_at", "next_attempt_at", "last_error", "failed_at", "cancelled_at"],
            order: "id", blobs: ["sealed_token"], database: database, target: target)
        try await same(
            "sessions", ["id", "token_hash", "user_id", "current_account_id", "created_at", "last_used_at", "expires_at"],
            order: "id", blobs: ["token_hash"], database: database, target: target)
        try await same(
            "changes", ["position", "kind", "committed_at", "user_id", "account_id", "account_user_id", "group_id", "session_id"],
            order: "position", database: database, target: target)
        try await same("sign_in_failures", ["email_key", "failed_at"], order: "1, 2", database: database, target: target)

        // A second move into the now non-empty database is refused, naming what it found, and changes nothing.
        let again = try await migrate(data: data, url: target.url)
        #expect(again.status == 1)
        #expect(again.stderr.contains("is not empty (table ") && again.stderr.contains(" rows)"), "\(again.stderr)")
        for table in Self.tables {
            #expect(try await target.psql("SELECT count(*) FROM \(table)") == counts[table], "\(table)")
        }

        // A daemon on PostgreSQL with the same key file.
        let socket = directory.appending("pg.sock")
        let daemon = try DaemonProcess(
            socketPath: socket, dataDirectory: directory.appending("pg-data"), logPath: directory.appending("pg.log"),
            arguments: ["--key-file", key, "--database", target.url, "--database-pool-size", "4"])
        try #require(await daemon.waitUntilReady(seconds: 60), "\(daemon.log)")
        defer { daemon.signal(SIGKILL) }
        try await MarketplaceClient.withClient(socketPath: socket) { client in
            // The API shows exactly what the SQLite daemon showed.
            let after = try await APIView.read(client)
            #expect(after.accounts == before.view.accounts)
            #expect(after.groups == before.view.groups)
            #expect(after.members == before.view.members)
            #expect(after.users == before.view.users)
            #expect(after.membershipsOfUsers == before.view.membershipsOfUsers)
            #expect(after.audit == before.view.audit)
            #expect(after.changes == before.view.changes)
            #expect(after.outbox == before.view.outbox)

            // The session from before the move is still valid.
            let profile = try await client.profile.getProfile(.init(), options: .bearer(before.sessionToken))
            #expect(profile.user?.email == "grace@example.com")
            // The link copied before the move opens and is accepted.
            let shown = try await client.invitations.showInvitation(.init(token: token(of: before.pendingLink)))
            #expect(shown.invitation?.email == "pending@example.com")
            #expect(shown.invitation?.state == .pending)
            let joined = try await Fixture(client: client).accept(before.pendingLink)
            #expect(joined.status == .active)
        }

        // The README's walk-through, with the CLI, on the moved database.
        try await readmeWalkthrough(socket: socket, in: directory)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "\(daemon.log)")

        // New rows continue after the copied ones: no sequence restarted.
        #expect(Int(try await target.psql("SELECT min(sequence) FROM audit_events WHERE sequence > \(oldMax.audit)")) != nil,
                "no new audit event after the copied ones")
        #expect(try await target.psql("SELECT count(*) FROM audit_events WHERE sequence <= \(oldMax.audit)") == counts["audit_events"])
        // (The walk-through's invitation email was withdrawn at acceptance: its id was taken after the old ones.)
        #expect(Int(try await target.psql("SELECT last_value FROM outbox_id_seq"))! > oldMax.outbox,
                "no new outbox message after the copied ones")
        #expect(try await target.psql("SELECT count(*) FROM outbox WHERE id <= \(oldMax.outbox)") == counts["outbox"])
        #expect(try await target.psql("SELECT count(*) FROM changes WHERE position <= \(oldMax.changes)") == counts["changes"])
        #expect(Int(try await target.psql("SELECT count(*) FROM changes WHERE position > \(oldMax.changes)"))! > 0)
        try await target.drop()
    }

    /// README's "Calling it from the CLI": create an account and its
    /// administrators' group, invite, accept, list.
    private func readmeWalkthrough(socket: String, in directory: TemporaryDirectory) async throws {
        func cli(_ arguments: [String], stdin: String = "") async throws -> [String: Any] {
            let run = try await runProcess(
                builtProductsDirectory + "/marketplace-users", arguments + ["--socket", socket, "--json"],
                environment: ["TZ": "UTC", "MARKETPLACE_USERS_SOCKET": "", "MARKETPLACE_USERS_SESSION_FILE": directory.appending("cli-session.json")],
                stdin: stdin)
            try #require(run.status == 0, "\(arguments): \(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        }
        let account = try await cli(["accounts", "create", "Acme Ltd", "--type", "client"])
        let accountID = try #require(account["id"] as? String)
        let admins = try await cli(["groups", "create", "--account", accountID, "Administrators", "--administrators"])
        let adminsID = try #require(admins["id"] as? String)
        let invited = try await cli([
            "users", "invite", "--account", accountID, "--email", "ada@example.com", "--first-name", "Ada", "--last-name", "Lovelace",
            "--group", adminsID,
        ])
        let link = try #require(invited["invitationLink"] as? String, "\(invited)")
        let accepted = try await cli(
            ["invitations", "accept", link, "--first-name", "Ada", "--last-name", "Lovelace", "--accept-terms", "--password-stdin"],
            stdin: "Str0ng!pass\n")
        #expect(accepted["status"] as? String == "MEMBERSHIP_STATUS_ACTIVE", "\(accepted)")
        let list = try await cli(["users", "list", "--account", accountID, "--all"])
        let members = try #require(list["accountUsers"] as? [[String: Any]], "\(list)")
        #expect(members.count == 1)
        #expect((members.first?["user"] as? [String: Any])?["email"] as? String == "ada@example.com", "\(list)")
    }

    @Test("A failure part-way leaves the target empty; a missing --database is refused")
    func failureLeavesTargetEmpty() async throws {
        let directory = try TemporaryDirectory(prefix: "migfail")
        defer { directory.remove() }
        let key = directory.appending("fleet.key")
        try await keygen(key)
        let data = directory.appending("data")
        _ = try await populate(data: data, key: key, in: directory)
        // A value PostgreSQL's BIGINT column cannot take, in a table copied
        // after others (accounts comes before users).
        let update = try await runProcess("/usr/bin/sqlite3", [
            data + "/users.sqlite", "UPDATE users SET updated_at = 'yesterday' WHERE email = 'grace@example.com'",
        ])
        try #require(update.status == 0, "\(update.stderr)")
        let target = try await PostgresCluster.shared().createDatabase(prefix: "migfail")
        let failed = try await migrate(data: data, url: target.url)
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stderr.contains("users.updated_at") && failed.stderr.contains("left as it was"), "\(failed.stderr)")
        #expect(failed.stdout.contains("  accounts: "), "the failure did not come part-way: \(failed.stdout)")
        for table in Self.tables {
            #expect(try await target.psql("SELECT count(*) FROM \(table)") == "0", "\(table) kept rows of a failed move")
        }
        // Fixed, the same move into the same (still empty) database succeeds.
        let fix = try await runProcess("/usr/bin/sqlite3", [
            data + "/users.sqlite", "UPDATE users SET updated_at = created_at WHERE email = 'grace@example.com'",
        ])
        try #require(fix.status == 0, "\(fix.stderr)")
        let retried = try await migrate(data: data, url: target.url)
        #expect(retried.status == 0, "\(retried.stdout)\(retried.stderr)")

        let noTarget = try await runProcess(
            DaemonProcess.executable, ["migrate-to", "--data-dir", data], environment: ["MARKETPLACE_USERS_DATABASE": ""])
        #expect(noTarget.status == 64 && noTarget.stderr.contains("--database"), "\(noTarget.stderr)")
        try await target.drop()
    }

    @Test("A database of another application is refused before anything is written to it")
    func foreignDatabaseRefused() async throws {
        let directory = try TemporaryDirectory(prefix: "migforeign")
        defer { directory.remove() }
        let data = directory.appending("data")
        let socket = directory.appending("s.sock")
        let daemon = try DaemonProcess(socketPath: socket, dataDirectory: data, logPath: directory.appending("d.log"))
        try #require(await daemon.waitUntilReady(), "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
        let target = try await PostgresCluster.shared().createDatabase(prefix: "migforeign")
        try await target.psql("CREATE TABLE invoices (id int)")
        let refused = try await migrate(data: data, url: target.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is not empty") && refused.stderr.contains("invoices"), "\(refused.stderr)")
        #expect(try await target.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1", "migrate-to created tables")
        try await target.drop()
    }
}
