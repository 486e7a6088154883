import Foundation
import GRDB
import MarketplaceDomain
@testable import MarketplaceSQLite
import MarketplaceTestSupport
import Testing

/// The member listing's text query answered from memory for large accounts
/// (`MemberSearch`) against the scan of the account's index it replaces: the
/// same pages, through every filter, both sorts and directions and every
/// page's cursor, before and after writes that add, rename, re-address,
/// block, remove and roll back memberships once the index is built.
@Suite(.sqliteOnly("the SQLite store's in-memory member search"))
struct MemberSearchTests {
    static let account = "ACC-SEARCH-0001"
    static let small = "ACC-SEARCH-0002"
    static let everyone = "UGR-SEARCH-0001"
    static let some = "UGR-SEARCH-0002"
    static let firstNames = ["Ada", "Silvio", "Marta", "Ödön", "ÆSA", "Kowal", "Ri", "Zoë", "Ivan", "Grace"]
    static let lastNames = ["Kowalski", "Silva", "Martins", "Østergaard", "SMITH", "Dijkstra", "Van Dyke", "Ng", "Lovelace", "Hopper"]

    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("pages from memory equal the scan's, before and after writes, and after the index is rebuilt")
    func pagesEqualTheScan() async throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The first text query counts the account and has the index built.
        let store = try await indexedStore(directory)
        // The small account is scanned, never indexed.
        _ = try await store.read { r in try r.accountUsers(AccountUserQuery(accountID: Self.small, text: "a", limit: 10, now: now)) }
        try await compareAll(store, directory)
        #expect(store.search.statistics.accounts == 1)

        // A membership's other columns changed: nothing to add.
        try await store.write { w in
            for n in stride(from: 3, to: 300, by: 29) {
                var member = try #require(try w.accountUser(id: memberID(n)))
                member.lastAccessAt = now
                try w.update(member)
            }
        }
        #expect(store.search.statistics.notes == 0)

        // Writes after the build: every one reaches the index before it commits.
        let later = now.addingTimeInterval(60)
        try await store.write { w in
            for n in 0..<40 {  // new members a rare text finds, spread over the order
                try w.insert(member(n + 10_000, first: n % 2 == 0 ? "Aaron" : "Zed", last: "Zkowx\(n)", status: .active, at: later), groups: [Self.everyone])
            }
        }
        try await store.write { w in
            for n in stride(from: 1, to: 400, by: 13) {  // renamed: found under their new names only
                let old = try #require(try w.user(id: userID(n)))
                var renamed = old
                renamed.firstName = "Renamed\(n)"
                renamed.lastName = "Kowx"
                if n % 2 == 0 { renamed.email = "moved.kowx.\(n)@example.org" }
                renamed.updatedAt = later
                try w.update(renamed)
            }
            for n in stride(from: 5, to: 2_400, by: 37) {  // blocked or removed
                var member = try #require(try w.accountUser(id: memberID(n)))
                member.status = n % 2 == 0 ? .blocked : .deleted
                try w.update(member)
            }
        }
        await #expect(throws: DomainError.self) {
            try await store.write { w in  // rolled back: never listed
                for n in 0..<5 {
                    try w.insert(member(n + 20_000, first: "Ghost", last: "Kowghost", status: .active, at: later), groups: [Self.everyone])
                }
                throw DomainError(.failedPrecondition, "rolled back on purpose")
            }
        }
        // Found at two keys in one batch of candidates (its email before and
        // after): kept at the current one. (Once lost: the old key won.)
        var readdressed = query(text: "@example", limit: 1)
        readdressed.statuses = [.invited, .invitationExpired]
        readdressed.groupID = Self.some
        readdressed.sort = .email
        readdressed.descending = true
        let first = try await store.read { [readdressed] r in try r.accountUsers(readdressed) }
        #expect(first.map(\.id) == [memberID(66)])
        let ghosts = try await store.read { r in try r.accountUsers(query(text: "kowghost")) }
        #expect(ghosts.isEmpty)
        let added = try await store.read { r in try r.accountUsers(query(text: "zkowx", limit: 100)) }
        #expect(added.count == 40)
        try await compareAll(store, directory)
        #expect(store.search.statistics.accounts == 1, "the index was used, not dropped")

        // Past its notes' bound the index is dropped, then built again.
        try await store.write { w in
            for n in 0..<1_300 {
                try w.insert(member(n + 30_000, first: "Late", last: "Comer\(n)", status: .active, at: later), groups: [Self.everyone])
            }
        }
        #expect(store.search.statistics.accounts == 0)
        _ = try await store.read { r in try r.accountUsers(query(text: "late")) }
        try await untilIndexed(store, accounts: 1)
        #expect(store.search.statistics.entries >= 2_400 + 40 + 1_300)
        try await compareAll(store, directory)
    }

    @Test("under concurrent writes, each page from memory equals the scan in the same snapshot")
    func concurrentWrites() async throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await indexedStore(directory)
        let later = now.addingTimeInterval(60)
        let rounds = 250
        async let writes: Void = {
            for i in 0..<rounds {
                try await store.write { [self] w in
                    try w.insert(member(50_000 + i, first: "Racer", last: "Racekow\(i)", status: .active, at: later), groups: [Self.everyone])
                    let old = try #require(try w.user(id: userID((i * 37) % 2_400)))
                    var renamed = old
                    renamed.lastName = i % 2 == 0 ? "Racekow" : "Plain\(i)"
                    renamed.updatedAt = later
                    try w.update(renamed)
                }
            }
        }()
        var compared = 0
        var found = 0
        for i in 0..<rounds {
            var q = query(text: i % 3 == 0 ? "kow" : "racekow")
            q.sort = i % 2 == 0 ? .name : .email
            q.descending = i % 4 < 2
            let page = q
            let (fromMemory, fromScan) = try await store.read { r in
                // Both in this one snapshot: the store's (the index) and a scan.
                (try r.accountUsers(page).map(\.id), try SQLiteAccess((r as! SQLiteAccess).db).accountUsers(page).map(\.id))
            }
            #expect(fromMemory == fromScan, "\(page)")
            compared += 1
            found += fromScan.count
        }
        try await writes
        #expect(compared == rounds && found > rounds)
        #expect(store.search.statistics.accounts == 1, "the index was used throughout")
        #expect(store.search.statistics.notes > 0)
    }

    @Test("another store on the same file (a second daemon): the index is dropped, and not built while it is open")
    func anotherStoreInThisProcess() async throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await indexedStore(directory)
        do {
            let second = try SQLiteStore(dataDirectory: directory)
            let later = now.addingTimeInterval(60)
            try await second.write { w in  // written by the other store: no trigger of the first saw it
                for n in 0..<3 {
                    try w.insert(member(n + 40_000, first: "Other", last: "Zqxkow\(n)", status: .active, at: later), groups: [Self.everyone])
                }
            }
            let found = try await store.read { r in try r.accountUsers(query(text: "zqxkow")) }
            #expect(found.count == 3)
            #expect(store.search.statistics.accounts == 0)
            try await Task.sleep(for: .milliseconds(300))
            _ = try await store.read { r in try r.accountUsers(query(text: "kow")) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(store.search.statistics.accounts == 0, "built while another store has the file open")
            try await compareAll(store, directory)
            _ = second
        }
    }

    @Test("another process that opens the file (a second daemon) makes the index go, and none is built while it holds it")
    func anotherProcess() async throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await indexedStore(directory)
        // What a daemon's store does at open: one byte more, a POSIX read lock held.
        let writers = directory + "/users.sqlite.writers"
        let before = try #require(try FileManager.default.attributesOfItem(atPath: writers)[.size] as? Int)
        let script = """
            import fcntl, os, time
            f = os.open("\(writers)", os.O_RDWR | os.O_APPEND)
            fcntl.lockf(f, fcntl.LOCK_SH)
            os.write(f, b"\\x01")
            time.sleep(60)
            """
        let other = try ChildProcess(["/usr/bin/python3", "-c", script], log: directory + "/other.log")
        for _ in 0..<500 where ((try? FileManager.default.attributesOfItem(atPath: writers)[.size] as? Int) ?? 0) == before {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))  // the lock is taken before the byte is written
        #expect(store.search.statistics.accounts == 1)
        _ = try await store.read { r in try r.accountUsers(query(text: "kow")) }
        #expect(store.search.statistics.accounts == 0, "the index outlived another process's open")
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.search.statistics.accounts == 0, "built while another process holds the file")
        _ = other
    }

    // MARK: Comparison

    static let texts = ["kow", "KOW", "a", "ri", "sil", "zzz", "ausr-search-00", "@example", "ø", "Ø", "ski\u{1}", "x1", "é", "kowx", "n1"]

    /// Random queries, each paged through (up to 6 pages) on the store and on
    /// a scan of the same file (`SQLiteAccess` without a search), page by page.
    private func compareAll(_ store: SQLiteStore, _ directory: String) async throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.prepareDatabase { db in try TextSearchFunction.register(db) }
        let scan = try DatabaseQueue(path: directory + "/users.sqlite", configuration: configuration)
        var generator = SystemRandomNumberGenerator()
        let statusSets: [Set<MembershipStatus>] = [[], [.active], [.invited, .invitationExpired], [.blocked, .deleted]]
        var nonEmpty = 0
        for _ in 0..<150 {
            var q = query(text: Self.texts.randomElement(using: &generator)!)
            q.statuses = statusSets.randomElement(using: &generator)!
            q.groupID = Bool.random(using: &generator) ? nil : Self.some
            q.sort = Bool.random(using: &generator) ? .name : .email
            q.descending = Bool.random(using: &generator)
            q.limit = [50, 7, 1][Int.random(in: 0..<3, using: &generator)]
            for _ in 0..<6 {
                let page = q
                let fromStore = try await store.read { r in try r.accountUsers(page) }
                let fromScan = try await scan.read { db in try SQLiteAccess(db).accountUsers(page) }
                #expect(fromStore.map(\.id) == fromScan.map(\.id), "\(page)")
                #expect(fromStore == fromScan, "same ids, different rows: \(page)")
                guard fromStore == fromScan, let last = fromScan.last, fromScan.count == q.limit else { break }
                nonEmpty += 1
                q.after = .init(key: AccountUserQuery.key(of: last, for: q.sort), id: last.id)
            }
        }
        #expect(nonEmpty > 60, "only \(nonEmpty) full pages compared")
    }

    /// A store on `directory` seeded with 2,400 members in ``account``, its index built.
    private func indexedStore(_ directory: String) async throws -> SQLiteStore {
        let store = try SQLiteStore(dataDirectory: directory)
        try await seed(store, members: 2_400)
        try await untilIndexed(store, accounts: 1)
        return store
    }

    /// Asks (a text query every 100 ms: a build starts at most once a
    /// second) until `accounts` are indexed, for up to 10 s.
    private func untilIndexed(_ store: SQLiteStore, accounts: Int) async throws {
        for attempt in 0..<1_000 where store.search.statistics.accounts != accounts {
            if attempt % 10 == 0 { _ = try await store.read { [self] r in try r.accountUsers(query(text: "kow")) } }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.search.statistics.accounts == accounts)
    }

    // MARK: Data

    private func query(text: String, limit: Int = 50) -> AccountUserQuery {
        AccountUserQuery(accountID: Self.account, text: text, limit: limit, now: now)
    }

    private func userID(_ n: Int) -> String { String(format: "USR-SEARCH-%05d", n) }
    private func memberID(_ n: Int) -> String { String(format: "AUSR-SEARCH-%05d", n) }

    private func member(_ n: Int, first: String, last: String, status: MembershipStatus, at: Date, account: String = account)
        -> (User, AccountUser)
    {
        let user = User(
            id: userID(n), firstName: first, lastName: last,
            email: "\(first).\(last).\(n)@example.com".lowercased().replacingOccurrences(of: " ", with: "-"),
            phone: nil, createdAt: at, updatedAt: at)
        let invited = status == .invited
        let membership = AccountUser(
            id: memberID(n), accountID: account, user: user, groups: [], status: status, invitedAt: at,
            joinedAt: invited ? nil : at, lastAccessAt: nil, blockedAt: status == .blocked ? at : nil,
            // Half the invitations expired at `now`.
            invitationExpiresAt: invited ? now.addingTimeInterval(n % 2 == 0 ? -60 : 86_400) : nil, invitedBy: "operator",
            invitedAs: invited ? InvitedPerson(firstName: "Typed\(first)", lastName: last, phone: nil) : nil)
        return (user, membership)
    }

    private func seed(_ store: SQLiteStore, members: Int) async throws {
        let now = self.now
        try await store.write { w in
            for account in [Self.account, Self.small] {
                try w.insert(Account(id: account, name: "Search \(account)", type: .client, status: .active, createdAt: now))
            }
            try w.insert(Group(id: Self.everyone, accountID: Self.account, name: "Everyone", description: "",
                               permissions: [], isAdministrators: false, isDefault: true, createdAt: now))
            try w.insert(Group(id: Self.some, accountID: Self.account, name: "Some", description: "",
                               permissions: [], isAdministrators: false, isDefault: false, createdAt: now))
        }
        let statuses: [MembershipStatus] = [.active, .active, .active, .active, .active, .active, .invited, .invited, .blocked, .deleted]
        try await store.write { w in
            for n in 0..<members + 300 {
                let first = Self.firstNames[(n * 7) % Self.firstNames.count]
                let last = Self.lastNames[(n * 3 + n / 10) % Self.lastNames.count]
                let account = n < members ? Self.account : Self.small
                let groups = n < members ? (n % 3 == 0 ? [Self.everyone, Self.some] : [Self.everyone]) : []
                try w.insert(member(n, first: first, last: last, status: statuses[n % statuses.count], at: now, account: account), groups: groups)
            }
        }
    }
}

private extension StoreWriter {
    func insert(_ pair: (User, AccountUser), groups: [String]) throws {
        try insert(pair.0, passwordHash: nil)
        try insert(pair.1)
        if !groups.isEmpty { try setGroups(accountUserID: pair.1.id, groupIDs: groups) }
    }
}
