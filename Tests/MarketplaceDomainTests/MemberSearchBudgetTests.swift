import Foundation
import GRDB
@testable import MarketplaceSQLite
import Synchronization
import Testing

/// The bounds of the in-memory member search (`MemberSearch`): its memory
/// budget (least recently used accounts dropped; an account too large alone
/// is scanned and not read again at every query) and the least time between
/// two builds (each holds up the writer while it reads an account).
@Suite struct MemberSearchBudgetTests {
    /// A database with the columns the search reads, and `members` memberships per account.
    static func database(_ members: [String: Int]) throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE account_users (id TEXT PRIMARY KEY, account_id TEXT, user_id TEXT, sort_name TEXT, sort_email TEXT)")
            for (account, count) in members {
                for n in 0..<count {
                    try db.execute(
                        sql: "INSERT INTO account_users VALUES (?, ?, ?, ?, ?)",
                        arguments: ["\(account)-M\(n)", account, "\(account)-U\(n)", "last\(n)\u{1}first", "first.last\(n)@example.com"])
                }
            }
        }
        return queue
    }

    /// The builds a search asked for, run when the test says (as the writer would, later).
    final class Builds: Sendable {
        let pending = Mutex<[@Sendable (Database?) -> Void]>([])
        var count: Int { pending.withLock { $0.count } }
        func run(on queue: DatabaseQueue) throws {
            let builds = pending.withLock { p in defer { p.removeAll() }; return p }
            try queue.write { db in for build in builds { build(db) } }
        }
    }

    static func ask(_ search: MemberSearch, _ account: String, _ queue: DatabaseQueue) throws -> Bool {
        try queue.read { db in search.index(of: account, db) != nil }
    }

    @Test("over the budget the least recently used account goes; one too large alone is scanned, and not read again")
    func budget() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = try Self.database(["A": 300, "B": 300, "C": 300, "D": 1_200, "S": 50])
        let one = try queue.read { db in
            AccountMemberIndex(
                try Row.fetchAll(db, sql: "SELECT id, user_id, sort_name, sort_email FROM account_users WHERE account_id = 'A'")
                    .map { .init(id: $0[0], userID: $0[1], name: $0[2], email: $0[3]) },
                opens: 0).bytes
        }
        let builds = Builds()
        let search = MemberSearch(
            presence: WriterPresence(databasePath: directory + "/users.sqlite"), minimumMembers: 100,
            budgetBytes: one * 5 / 2, buildInterval: .zero
        ) { build in builds.pending.withLock { $0.append(build) } }

        #expect(try !Self.ask(search, "S", queue))  // small: scanned, never built
        #expect(builds.count == 0)
        for account in ["A", "B"] {
            #expect(try !Self.ask(search, account, queue))  // the first query scans and asks for a build
            try builds.run(on: queue)
            #expect(try Self.ask(search, account, queue))
        }
        #expect(search.statistics.accounts == 2)
        #expect(try Self.ask(search, "A", queue))  // A used after B
        #expect(try !Self.ask(search, "C", queue))
        try builds.run(on: queue)
        #expect(try Self.ask(search, "C", queue))
        #expect(try Self.ask(search, "A", queue))
        #expect(try !Self.ask(search, "B", queue), "the least recently used went")
        #expect(search.statistics.accounts == 2)
        #expect(search.statistics.bytes <= one * 5 / 2)
        try builds.run(on: queue)  // B asked again just now

        // D alone is over the budget: built once, not kept, then scanned without reading it again.
        #expect(try !Self.ask(search, "D", queue))
        #expect(builds.count == 1)
        try builds.run(on: queue)
        #expect(try !Self.ask(search, "D", queue))
        #expect(try !Self.ask(search, "D", queue))
        #expect(builds.count == 0, "an account too large was read again")
        #expect(search.statistics.bytes <= one * 5 / 2)
    }

    @Test("builds start at most once per interval; other large accounts are scanned meanwhile")
    func buildInterval() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = try Self.database(["A": 300, "B": 300])
        let builds = Builds()
        let search = MemberSearch(
            presence: WriterPresence(databasePath: directory + "/users.sqlite"), minimumMembers: 100,
            buildInterval: .seconds(3_600)
        ) { build in builds.pending.withLock { $0.append(build) } }
        #expect(try !Self.ask(search, "A", queue))
        #expect(try !Self.ask(search, "B", queue))
        #expect(builds.count == 1)
        try builds.run(on: queue)
        #expect(try Self.ask(search, "A", queue))
        #expect(try !Self.ask(search, "B", queue))
        #expect(builds.count == 0)
    }
}
