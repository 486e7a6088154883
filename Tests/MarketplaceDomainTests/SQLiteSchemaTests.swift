import Foundation
import GRDB
import MarketplaceDomain
import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// The SQLite file's unique constraints and the migrations that change its indexes.
@Suite("SQLite schema", .sqliteOnly("the SQLite file's own constraints and migrations"))
struct SQLiteSchemaTests {
    @Test("every unique constraint is reported as its StoreConflict, and the transaction stays usable")
    func conflictsMapped() async throws {
        let directory = try TemporaryDirectory(prefix: "conflicts")
        defer { directory.remove() }
        try await StoreConflictChecks.expectEveryConflictMapped(try SQLiteStore(dataDirectory: directory.path))
    }

    @Test("migration 0009 upgrades a file in place: one membership index for two, the unused invitation index gone")
    func fewerIndexesPerInvite() async throws {
        let directory = try TemporaryDirectory(prefix: "mig9")
        defer { directory.remove() }
        let path = directory.appending("users.sqlite")
        let t = Date(millisecondsSince1970: 1_000)
        let jane = StoreConflictChecks.user("USR-1", "jane@example.com")
        do {
            let store = try SQLiteStore(dataDirectory: directory.path)
            try await store.write { w in
                for account in ["ACC-1", "ACC-2"] {
                    try w.insert(Account(id: account, name: account, type: .client, status: .active, createdAt: t))
                }
                try w.insert(jane, passwordHash: nil)
                try w.insert(StoreConflictChecks.member("AU-1", account: "ACC-1", user: jane, groups: []))
                try w.insert(StoreConflictChecks.member("AU-2", account: "ACC-2", user: jane, groups: []))
                try w.insert(InvitationRecord(
                    tokenHash: Array(repeating: 1, count: 32), sealedToken: [1], accountUserID: "AU-2", createdAt: t,
                    expiresAt: t.addingTimeInterval(3600), state: .pending, endedAt: nil, inviterName: "Op"))
            }
        }
        // Put the file back in the form migration 0008 left it in.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                CREATE UNIQUE INDEX account_users_by_account_user ON account_users(account_id, user_id);
                CREATE INDEX account_users_by_user ON account_users(user_id);
                CREATE INDEX invitations_by_account_user ON invitations(account_user_id);
                DROP INDEX account_users_by_user_account;
                DELETE FROM grdb_migrations WHERE identifier = '0009-fewer-indexes-per-invite';
                """)
        }
        let before = try Self.indexes(path)
        #expect(before.contains("account_users_by_account_user") && before.contains("invitations_by_account_user"))
        #expect(!before.contains("account_users_by_user_account"))

        do {
            let store = try SQLiteStore(dataDirectory: directory.path)
            #expect(try await store.read { r in try r.accountUser(accountID: "ACC-2", userID: "USR-1")?.id } == "AU-2")
            #expect(try await store.read { r in try r.accountUsers(userID: "USR-1").map(\.id) } == ["AU-1", "AU-2"])
            #expect(try await store.read { r in try r.pendingInvitation(accountUserID: "AU-2")?.accountUserID } == "AU-2")
            let conflict = try await store.write { w -> StoreConflict? in
                do {
                    try w.insert(StoreConflictChecks.member("AU-3", account: "ACC-1", user: jane, groups: []))
                    return nil
                } catch let conflict as StoreConflict {
                    return conflict
                }
            }
            #expect(conflict == StoreConflict(.membership))
        }
        let after = try Self.indexes(path)
        #expect(after == before.subtracting(["account_users_by_account_user", "account_users_by_user", "invitations_by_account_user"])
            .union(["account_users_by_user_account"]))
        let applied = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier").last
        }
        #expect(applied == "0009-fewer-indexes-per-invite")
    }

    /// The names of the explicit indexes of the membership and invitation tables.
    private static func indexes(_ path: String) throws -> Set<String> {
        try DatabaseQueue(path: path).read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_schema
                WHERE type = 'index' AND tbl_name IN ('account_users', 'invitations') AND sql IS NOT NULL
                """))
        }
    }
}
