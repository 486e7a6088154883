import Foundation
import Logging
import MarketplaceDomain
@testable import MarketplacePostgres
import MarketplaceTestSupport
import Synchronization
import Testing

/// The PostgreSQL change feed numbers rows after commit (migration 0004,
/// ``ChangeSequencer``); writes are gated to ``PostgresStoreConfiguration/writeConcurrency``;
/// statements sent without a wait are checked with the next one.
@Suite(.enabled(if: PostgresCluster.isInstalled, Comment(rawValue: PostgresCluster.notInstalled)))
struct ChangeSequencerTests {
    static let admin = Actor.operator(uid: 0)
    static let operatorAccess = AccessRequirement.operator(uid: 0)

    static func directory(_ store: PostgresStore, keys: TemporaryDirectory) throws -> UserDirectory {
        UserDirectory(
            store: store, clock: SystemWallClock(),
            secrets: try Secrets(configuration: .inDataDirectory(keys.path, passwordParameters: .minimum, hashingThreads: 2)),
            configuration: DirectoryConfiguration(invitationTTL: .seconds(3600)), logger: Logger(label: "test"))
    }

    /// Runs `body` with `count` stores (daemons) on one fresh database and a
    /// key directory, closing the stores afterwards, whether it threw or not.
    static func withStores(
        _ count: Int, poolSize: Int,
        _ body: (PostgresTestDatabase, [PostgresStore], TemporaryDirectory) async throws -> Void
    ) async throws {
        let keys = try TemporaryDirectory()
        defer { keys.remove() }
        let database = try await PostgresCluster.shared().createDatabase()
        let configuration = try PostgresStoreConfiguration(url: database.url, poolSize: poolSize)
        var stores: [PostgresStore] = []
        do {
            for _ in 0..<count { stores.append(try await PostgresStore.open(configuration)) }
        } catch {
            for store in stores { await store.close() }
            throw error
        }
        try await closing(stores) { try await body(database, stores, keys) }
    }

    @Test("a change committed but never numbered (its daemon died after the commit) is in the next read of the feed, above every earlier position")
    func orphanNumberedOnRead() async throws {
        try await Self.withStores(1, poolSize: 2) { database, stores, keys in
            let store = stores[0]
            let directory = try Self.directory(store, keys: keys)
            let account = try await directory.createAccount(name: "Acme", type: .client, actor: Self.admin)
            _ = try await directory.setAccountStatus(id: account.id, .disabled, actor: Self.admin, access: Self.operatorAccess)
            let before = try await directory.changes(after: 0, limit: 100, wait: .zero, fromHead: false)
            let last = try #require(before.changes.last)
            #expect(last.kind == .accountStatus && last.accountID == account.id)
            // What a writer leaves when it is killed between its commit and its sequencer run.
            try await database.psql("INSERT INTO changes (kind, committed_at, user_id) VALUES ('user', 0, 'USR-0000-ORPH')")
            let after = try await directory.changes(after: before.position, limit: 100, wait: .zero, fromHead: false)
            #expect(after.changes.map(\.userID) == ["USR-0000-ORPH"], "\(after.changes)")
            #expect(after.changes.allSatisfy { $0.position > last.position })
            #expect(try await database.psql("SELECT count(*) FROM changes WHERE position IS NULL") == "0")
        }
    }

    @Test("an orphaned change wakes a waiting ListChanges within a few seconds, with no write through any of the two stores")
    func orphanWakesWaiter() async throws {
        // The waiter's store and another one: whichever numbers the row first
        // notifies every store on the database.
        try await Self.withStores(2, poolSize: 2) { database, stores, keys in
            let waiter = try Self.directory(stores[1], keys: keys)
            let head = try await waiter.changes(after: 0, limit: 100, wait: .zero, fromHead: true)
            let started = ContinuousClock.now
            async let woken = waiter.changes(after: head.position, limit: 100, wait: .seconds(30), fromHead: false)
            try await Task.sleep(for: .milliseconds(200))
            try await database.psql("INSERT INTO changes (kind, committed_at, account_id) VALUES ('account_status', 0, 'ACC-0000-ORPH')")
            let answer = try await woken
            #expect(answer.changes.map(\.accountID) == ["ACC-0000-ORPH"], "\(answer.changes)")
            #expect(ContinuousClock.now - started < .seconds(20), "woken only after \(ContinuousClock.now - started)")
        }
    }

    @Test("invites through two stores at once: every change numbered once, positions increasing, times not decreasing")
    func concurrentWritersNumberedOnce() async throws {
        try await Self.withStores(2, poolSize: 4) { database, stores, keys in
            let directories = try stores.map { try Self.directory($0, keys: keys) }
            let account = try await directories[0].createAccount(name: "Acme", type: .client, actor: Self.admin)
            let staff = try await directories[0].createGroup(
                accountID: account.id, name: "Staff", permissions: [], isDefault: true, actor: Self.admin, access: Self.operatorAccess)
            let start = try await directories[1].changes(after: 0, limit: 1000, wait: .zero, fromHead: true).position
            let invited = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<24 {
                    let directory = directories[index % 2]
                    group.addTask {
                        try await directory.invite(
                            accountID: account.id, email: "p\(index)@example.com", firstName: "P", lastName: "\(index)",
                            groupIDs: [staff.id], actor: Self.admin, access: Self.operatorAccess
                        ).accountUser.id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(invited.count == 24)
            let feed = try await directories[1].changes(after: start, limit: 1000, wait: .zero, fromHead: false).changes
            let positions = feed.map(\.position)
            #expect(positions == positions.sorted() && Set(positions).count == positions.count)
            #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.committedAt <= $1.committedAt })
            // Each invite's membership (created, then linked to its group): every one in the feed, each change once.
            let members = feed.filter { $0.kind == .membership }.compactMap(\.accountUserID)
            #expect(Set(members) == invited)
            let stored = try await database.psql("SELECT count(*) FROM changes WHERE kind = 'membership' AND position > \(start)")
            #expect(members.count == Int(stored))
            #expect(try await database.psql("SELECT count(*) FROM changes WHERE position IS NULL") == "0")
        }
    }

    @Test("at most writeConcurrency write transactions of a store run at once; reads are not held up by them")
    func writeGate() async throws {
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.createDatabase()
        for width in [1, 2] {
            var configuration = try PostgresStoreConfiguration(url: database.url, poolSize: 4)
            configuration.writeConcurrency = width
            #expect(configuration.writeConcurrency == width)
            let store = try await PostgresStore.open(configuration)
            try await closing([store]) {
                let overlap = Overlap()
                let release = DispatchSemaphore(value: 0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            try await store.write { _ in
                                overlap.enter()
                                release.wait()
                                overlap.leave()
                            }
                        }
                    }
                    // `width` bodies hold their place; the others wait for one.
                    let deadline = ContinuousClock.now + .seconds(60)
                    while overlap.running < width, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                    try await Task.sleep(for: .milliseconds(100))
                    #expect(overlap.running == width)
                    // A read is answered while every write is still held.
                    #expect(try await store.read { r in try r.accounts(after: nil, limit: 1) }.isEmpty)
                    #expect(overlap.finished == 0)
                    for _ in 0..<6 { release.signal() }
                    try await group.waitForAll()
                }
                #expect(overlap.most == width)
                #expect(overlap.finished == 6)
            }
        }
        // Never more than the pool; 2 by default.
        var small = try PostgresStoreConfiguration(url: database.url, poolSize: 1)
        #expect(small.writeConcurrency == 1)
        small.writeConcurrency = 4
        #expect(small.writeConcurrency == 1)
        #expect(try PostgresStoreConfiguration(url: database.url).writeConcurrency == PostgresStoreConfiguration.defaultWriteConcurrency)
    }

    @Test("a statement sent without a wait is checked with the next one: its failure is what is thrown, also by COMMIT")
    func sentStatementsChecked() async throws {
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.createDatabase()
        let configuration = try PostgresStoreConfiguration(url: database.url, poolSize: 1)
        let connection = try await ConnectionPool.connect(configuration, id: 1, logger: Logger(label: "test"))
        defer { ConnectionPool.closeInBackground(connection) }
        let states = await Task.detached {
            var states: [String?] = []
            for last in ["SELECT 1", "COMMIT"] {
                let db = BlockingConnection(connection, logger: Logger(label: "test"))
                db.send("BEGIN")
                db.send("SELECT 1 / 0")
                do {
                    try db.query(last)
                    states.append("no error")
                } catch {
                    states.append(PostgresErrors.sqlState(error))
                }
                _ = try? db.query("ROLLBACK")
            }
            return states
        }.value
        // division_by_zero, not "current transaction is aborted" (25P02), and
        // a COMMIT that PostgreSQL answered with a rollback is no success.
        #expect(states == ["22012", "22012"])
    }
}

/// Write bodies running, the most seen at once, and those finished.
private final class Overlap: Sendable {
    private let state = Mutex((running: 0, most: 0, finished: 0))
    var running: Int { state.withLock { $0.running } }
    var most: Int { state.withLock { $0.most } }
    var finished: Int { state.withLock { $0.finished } }
    func enter() { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) } }
    func leave() { state.withLock { $0.running -= 1; $0.finished += 1 } }
}
