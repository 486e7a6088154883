import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import Testing

/// The SQLite side of `migrate-to`: refused while a store serves from the
/// directory; every row of every table, parents first, read in key order a
/// batch at a time (composite keys too), nothing twice, nothing missed.
@Suite struct SQLiteExportTests {
    /// Fills a directory through the domain, then lets go of its store.
    private func populated() async throws -> (directory: String, refusedWhileOpen: DomainError?) {
        let fixture = try Fixture()
        let (account, admins, staff) = try await fixture.makeAccount()
        for n in 0..<7 {
            _ = try await fixture.directory.invite(
                accountID: account.id, email: "p\(n)@example.com", firstName: "P", lastName: "\(n)",
                groupIDs: n % 2 == 0 ? [staff.id, admins.id] : [staff.id], actor: Fixture.admin, access: Fixture.operatorAccess)
        }
        var refused: DomainError?
        do {
            _ = try SQLiteExport(dataDirectory: fixture.dataDirectory)
        } catch {
            refused = error
        }
        return (fixture.dataDirectory, refused)
    }

    @Test func refusedBesideAStoreThenReadsEveryRowInKeyOrder() async throws {
        let (directory, refused) = try await populated()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(refused?.kind == .failedPrecondition)
        #expect(refused?.message.contains("in use by a running marketplace-usersd") == true, "\(String(describing: refused))")

        let export = try SQLiteExport(dataDirectory: directory)
        defer { export.close() }
        let names = export.tables.map(\.name)
        #expect(!names.contains("grdb_migrations") && !names.contains("sqlite_sequence"))
        for (child, parent) in [("groups", "accounts"), ("account_users", "users"), ("account_user_groups", "account_users"),
                                ("invitations", "account_users"), ("outbox", "account_users")] {
            #expect(names.firstIndex(of: parent)! < names.firstIndex(of: child)!, "\(parent) must come before \(child): \(names)")
        }
        #expect(export.sequences["audit_events"] ?? 0 > 0)
        for table in export.tables {
            var seen: [[StoredValue]] = []
            var after: [StoredValue]?
            while true {
                let batch = try export.rows(of: table, after: after, limit: 2)
                seen += batch.rows
                guard batch.rows.count == 2, let last = batch.lastKey else { break }
                after = last
            }
            #expect(seen.count == table.rowCount, "\(table.name): read \(seen.count) of \(table.rowCount)")
            #expect(Set(seen.map { "\($0)" }).count == seen.count, "\(table.name): a row read twice")
            #expect(seen.allSatisfy { $0.count == table.columns.count })
        }
        let links = try #require(export.tables.first { $0.name == "account_user_groups" })
        #expect(links.rowCount == 11, "7 memberships, 4 of them in two groups")
    }
}
