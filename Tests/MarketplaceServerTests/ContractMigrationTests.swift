import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// Migration 0004: values stored by earlier versions in the old forms answer
/// in the contract's forms after an upgrade.
@Suite("Contract values migration", .sqliteOnly("rewrites an older SQLite file built by hand"))
struct ContractMigrationTests {
    @Test("invited_by, audit actors and sort keys of an older database are rewritten at start")
    func olderDatabase() async throws {
        let directory = try TemporaryDirectory(prefix: "mig")
        defer { directory.remove() }
        let (acme, admin, bob, carol) = try await withUsersServer(in: directory) { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let (admin, session) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [admins], first: "Ada", last: "Zed")
            let bob = try #require(try await client.accountUsers.inviteUser(
                .init(accountId: acme.id, email: "bob@example.com", firstName: "Bob", lastName: "Adams", groupIds: [staff.id]),
                options: session).accountUser)
            let carol = try #require(try await f.invite(acme, "carol@example.com", groups: [staff], first: "Carol", last: "Adams").accountUser)
            return (acme, admin, bob, carol)
        }
        // Put the rows back in the forms version 0.1.0 stored, and forget the migration.
        let database = directory.appending("data") + "/users.sqlite"
        let adminUser = try #require(admin.user?.id)
        let old = """
            UPDATE account_users SET invited_by = 'Ada Zed' WHERE id = '\(bob.id)';
            UPDATE account_users SET invited_by = 'Marketplace Operations' WHERE id <> '\(bob.id)';
            UPDATE audit_events SET actor = 'user:' || actor WHERE actor LIKE 'USR-%';
            UPDATE audit_events SET actor = 'operator:uid=' || substr(actor, 10) WHERE actor LIKE 'operator:%';
            UPDATE account_users SET sort_name = lower((SELECT first_name || ' ' || last_name FROM users WHERE users.id = account_users.user_id));
            UPDATE account_users SET sort_joined = 0 WHERE joined_at IS NULL;
            DROP INDEX outbox_pending_by_account_user;
            DELETE FROM grdb_migrations WHERE identifier = '0004-contract-values';
            """
        let reverted = try await runProcess("/usr/bin/sqlite3", ["-cmd", ".timeout 5000", database, old])
        try #require(reverted.status == 0, "\(reverted.stderr)")
        try await withUsersServer(in: directory) { _, client in
            let members = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: .name)).accountUsers
            // Adams Bob, Adams Carol, Zed Ada.
            #expect(members.map(\.id) == [bob.id, carol.id, admin.id])
            #expect(members.map(\.invitedBy) == [adminUser, "operator", "operator"])
            let joined = try await client.accountUsers.listAccountUsers(.init(accountId: acme.id, sort: .joined)).accountUsers
            #expect(joined.first?.id == admin.id)
            let actors = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 500)).events.map(\.actor)
            #expect(actors.contains(adminUser) && actors.contains("operator:\(getuid())"))
            #expect(!actors.contains { $0.hasPrefix("user:") || $0.contains("uid=") })
        }
    }
}
