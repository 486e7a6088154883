import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

extension DaemonOperationsTests {
    /// `marketplace-usersd migrate-to`: a SQLite data directory populated
    /// through the real server moves into an empty PostgreSQL database, and a
    /// daemon on that database (same key file) carries on.
    @Suite("migrate-to: from a SQLite data directory to PostgreSQL", .serialized)
    struct MigrateToTests {
        static let tables = [
            "accounts", "groups", "users", "account_users", "account_user_groups", "invitations", "audit_events",
            "outbox", "sessions", "changes",
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
        }

        /// Fills a data directory through the real daemon: accounts, groups,
        /// users, an accepted and two pending invitations, a removal, a
        /// session, and so audit events, outbox messages and changes.
        private func populate(data: String, key: String, in directory: TemporaryDirectory) async throws -> Before {
            let socket = directory.appending("sqlite.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: data, logPath: directory.appending("sqlite.log"), arguments: ["--key-file", key])
            try #require(await daemon.waitUntilReady(), "\(daemon.log)")
            defer { daemon.signal(SIGKILL) }
            let before = try await MarketplaceClient.withClient(socketPath: socket) { client in
                let f = Fixture(client: client)
                let (account, admins, staff) = try await f.accountWithGroups()
                let other = try await f.accountWithGroups("Globex")
                _ = try await f.accept(try await f.invite(account, "grace@example.com", groups: [admins]).invitationLink)
                let pending = try await f.invite(account, "pending@example.com", groups: [staff])
                _ = try await f.invite(other.0, "pending2@example.com", groups: [other.staff])
                let removed = try await f.invite(account, "removed@example.com", groups: [staff])
                _ = try await client.accountUsers.removeAccountUser(.init(accountUserId: try #require(removed.accountUser).id))
                let session = try await client.sessions.signIn(.init(email: "grace@example.com", password: "Str0ng!pass"))
                return Before(pendingLink: pending.invitationLink, sessionToken: session.token)
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

        @Test("A populated directory moves whole; the walk-through and a link from before work on PostgreSQL")
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
                audit: Int(try await sqlite(database, "SELECT max(sequence) FROM audit_events"))!,
                outbox: Int(try await sqlite(database, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"))!,
                changes: Int(try await sqlite(database, "SELECT max(position) FROM changes"))!)

            let target = try await PostgresCluster.shared().createDatabase(prefix: "mig")
            let moved = try await migrate(data: data, url: target.url)
            try #require(moved.status == 0, "\(moved.stdout)\(moved.stderr)")
            for table in Self.tables {
                #expect(moved.stdout.contains("  \(table): \(counts[table]!) rows"), "no progress line for \(table): \(moved.stdout)")
                #expect(try await target.psql("SELECT count(*) FROM \(table)") == counts[table], "\(table)")
            }
            // Ids, times, sequences and positions kept.
            try await same(
                "SELECT id, name, type, status, created_at FROM accounts ORDER BY id",
                "SELECT id, name, type, status, created_at FROM accounts ORDER BY id", database: database, target: target)
            try await same(
                "SELECT id, email, status, created_at, updated_at, last_sign_in_at, password_hash FROM users ORDER BY id",
                "SELECT id, email, status, created_at, updated_at, last_sign_in_at, password_hash FROM users ORDER BY id",
                database: database, target: target)
            try await same(
                "SELECT id, status, invited_at, joined_at, invitation_expires_at, invited_by, sort_name FROM account_users ORDER BY id",
                "SELECT id, status, invited_at, joined_at, invitation_expires_at, invited_by, sort_name FROM account_users ORDER BY id",
                database: database, target: target)
            try await same(
                "SELECT lower(hex(token_hash)), lower(hex(sealed_token)), account_user_id, state, created_at, expires_at FROM invitations ORDER BY 1",
                "SELECT encode(token_hash, 'hex'), encode(sealed_token, 'hex'), account_user_id, state, created_at, expires_at FROM invitations ORDER BY 1",
                database: database, target: target)
            try await same(
                "SELECT sequence, account_id, at, actor, action, target_id, details FROM audit_events ORDER BY sequence",
                "SELECT sequence, account_id, at, actor, action, target_id, details FROM audit_events ORDER BY sequence",
                database: database, target: target)
            try await same(
                "SELECT id, kind, recipient, created_at, sent_at, attempts FROM outbox ORDER BY id",
                "SELECT id, kind, recipient, created_at, sent_at, attempts FROM outbox ORDER BY id", database: database, target: target)
            try await same(
                "SELECT position, kind, committed_at, user_id, account_id, account_user_id FROM changes ORDER BY position",
                "SELECT position, kind, committed_at, user_id, account_id, account_user_id FROM changes ORDER BY position",
                database: database, target: target)
            try await same(
                "SELECT id, lower(hex(token_hash)), user_id, created_at, expires_at FROM sessions ORDER BY id",
                "SELECT id, encode(token_hash, 'hex'), user_id, created_at, expires_at FROM sessions ORDER BY id",
                database: database, target: target)
            try await same(
                "SELECT id, is_administrators, is_default, permissions FROM groups ORDER BY id",
                "SELECT id, is_administrators::int, is_default::int, permissions FROM groups ORDER BY id", database: database, target: target)

            // A second move into the now non-empty database is refused and changes nothing.
            let again = try await migrate(data: data, url: target.url)
            #expect(again.status == 1)
            #expect(again.stderr.contains("is not empty"), "\(again.stderr)")
            #expect(try await target.psql("SELECT count(*) FROM users") == counts["users"])

            // A daemon on PostgreSQL with the same key file.
            let socket = directory.appending("pg.sock")
            let daemon = try DaemonProcess(
                socketPath: socket, dataDirectory: directory.appending("unused"), logPath: directory.appending("pg.log"),
                arguments: ["--key-file", key, "--database", target.url])
            try #require(await daemon.waitUntilReady(), "\(daemon.log)")
            defer { daemon.signal(SIGKILL) }
            try await MarketplaceClient.withClient(socketPath: socket) { client in
                // The session from before the move is still valid.
                let profile = try await client.profile.getProfile(options: .bearer(before.sessionToken))
                #expect(profile.user?.email == "grace@example.com")
                // The pending link from before the move opens and is accepted.
                let shown = try await client.invitations.showInvitation(.init(token: token(of: before.pendingLink)))
                #expect(shown.invitation?.email == "pending@example.com")
                _ = try await Fixture(client: client).accept(before.pendingLink)

                // The README's walk-through, as written there (another email).
                let account = try await client.accounts.createAccount(.init(name: "Acme", type: .client)).requiredAccount
                let admins = try await client.groups.createGroup(
                    .init(accountId: account.id, name: "Administrators", permissions: ["users.manage"], isAdministrators: true)).requiredGroup
                let invited = try await client.accountUsers.inviteUser(.init(
                    accountId: account.id, email: "ada@example.com", firstName: "Ada", lastName: "Lovelace",
                    groupIds: [admins.id]))
                let token = String(invited.invitationLink.split(separator: "/").last!)
                let view = try await client.invitations.showInvitation(.init(token: token)).requiredInvitation
                #expect(view.accountName == "Acme" && view.state == .pending)
                let member = try await client.invitations.acceptInvitation(.init(
                    token: token, firstName: "Ada", lastName: "Lovelace", password: "Str0ng!pass", acceptTerms: true)).requiredAccountUser
                #expect(member.status == .active)
                let session = try await client.sessions.signIn(.init(email: "ada@example.com", password: "Str0ng!pass"))
                let page = try await client.accountUsers.listAccountUsers(.init(accountId: account.id), options: .bearer(session.token))
                #expect(page.accountUsers.map(\.user?.email) == ["ada@example.com"])
            }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0, "\(daemon.log)")

            // New rows continue after the copied ones: no sequence restarted.
            #expect(Int(try await target.psql("SELECT min(sequence) FROM audit_events WHERE sequence > \(oldMax.audit)")) ?? 0 > oldMax.audit)
            #expect(try await target.psql("SELECT count(*) FROM audit_events WHERE sequence <= \(oldMax.audit)") == counts["audit_events"])
            #expect(Int(try await target.psql("SELECT min(id) FROM outbox WHERE id > \(oldMax.outbox)")) ?? 0 > oldMax.outbox,
                    "no new outbox message after the copied ones")
            #expect(try await target.psql("SELECT count(*) FROM outbox WHERE id <= \(oldMax.outbox)") == counts["outbox"])
            #expect(try await target.psql("SELECT count(*) FROM changes WHERE position <= \(oldMax.changes)") == counts["changes"])
            #expect(Int(try await target.psql("SELECT count(*) FROM changes WHERE position > \(oldMax.changes)"))! > 0)
            try await target.drop()
        }

        @Test("A failure part-way leaves the target empty, and a missing --database is refused")
        func failureLeavesTargetEmpty() async throws {
            let directory = try TemporaryDirectory(prefix: "migfail")
            defer { directory.remove() }
            let key = directory.appending("fleet.key")
            try await keygen(key)
            let data = directory.appending("data")
            _ = try await populate(data: data, key: key, in: directory)
            // A value PostgreSQL's BIGINT column cannot take, in the third
            // table copied (accounts and groups are written before it).
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
            let noTarget = try await runProcess(DaemonProcess.executable, ["migrate-to", "--data-dir", data])
            #expect(noTarget.status == 64 && noTarget.stderr.contains("--database"), "\(noTarget.stderr)")
            try await target.drop()
        }
    }
}
