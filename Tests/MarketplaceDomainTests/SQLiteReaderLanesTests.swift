import Dispatch
import Foundation
import GRDB
import Logging
import MarketplaceDomain
@testable import MarketplaceSQLite
import Synchronization
import Testing

/// The order in which the SQLite store's readers take queued bodies
/// (`SQLiteReaders`): reads by key before pages of a listing, a page passed
/// over by at most `pagePassLimit` of them, and reads by key queued together
/// sharing a read transaction.
@Suite struct SQLiteReaderLanesTests {
    /// One reader thread (so the order it takes bodies in is the order they
    /// run) on the database file at `path`, held by a first body in
    /// `holder`'s lane while `queue` queues the rest (entering `done` for
    /// each); returns once every body ran, with the readers still open.
    static func runHeld(
        path: String, holder: SQLiteReaders.Lane, _ queue: (SQLiteReaders, DispatchGroup) -> Void
    ) throws -> SQLiteReaders {
        let readers = try SQLiteReaders(path: path, configuration: Configuration(), count: 1)
        let started = DispatchSemaphore(value: 0), gate = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        done.enter()
        #expect(readers.submit(holder) { _ in
            started.signal()
            gate.wait()
            done.leave()
        })
        started.wait()
        queue(readers, done)
        gate.signal()
        #expect(done.wait(timeout: .now() + 30) == .success)
        return readers
    }

    /// A database file in WAL mode, as the store's (a write commits while a
    /// read transaction is open), with a table `t`; and a writer connection.
    static func walDatabase(in directory: String) throws -> (path: String, writer: DatabaseQueue) {
        let path = directory + "/lanes.sqlite"
        let writer = try DatabaseQueue(path: path)
        try writer.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE t (x INTEGER)")
        }
        return (path, writer)
    }

    @Test("reads by key go before the pages queued ahead of them; a waiting page is passed by at most 16")
    func pointsBeforePages() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let order = Mutex<[String]>([])
        let (path, _) = try Self.walDatabase(in: directory)
        let readers = try Self.runHeld(path: path, holder: .point) { readers, done in
            for (lane, name) in [(SQLiteReaders.Lane.page, "P"), (.point, "Q")] {
                for n in 0..<20 {
                    done.enter()
                    #expect(readers.submit(lane) { connection in
                        // Each body runs inside a read transaction.
                        if case .success(let connection) = connection, connection.db.isInsideTransaction {
                            order.withLock { $0.append("\(name)\(n)") }
                        }
                        done.leave()
                    })
                }
            }
        }
        readers.close()

        let limit = SQLiteReaders.pagePassLimit
        #expect(limit == 16)
        let expected = (0..<limit).map { "Q\($0)" } + ["P0"] + (limit..<20).map { "Q\($0)" } + (1..<20).map { "P\($0)" }
        #expect(order.withLock { $0 } == expected)
    }

    @Test("reads by key queued together share one read transaction, at most 16; each sees what was committed before it was queued")
    func pointsShareATransaction() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, writer) = try Self.walDatabase(in: directory)
        let seen = Mutex<[Int]>([])
        let readers = try Self.runHeld(path: path, holder: .point) { readers, done in
            // Committed before any of them was queued: every body sees it.
            try! writer.write { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }
            for n in 0..<20 {
                done.enter()
                #expect(readers.submit(.point) { connection in
                    let count = (try? connection.get()).flatMap { try? Int.fetchOne($0.db, sql: "SELECT count(*) FROM t") } ?? -1
                    seen.withLock { $0.append(count) }
                    if n == 0 {
                        // Committed after the batch's snapshot began: the rest
                        // of this batch does not see it, the next batch does.
                        try! writer.write { db in try db.execute(sql: "INSERT INTO t VALUES (2)") }
                    }
                    done.leave()
                })
            }
        }
        readers.close()

        let limit = SQLiteReaders.pointBatchLimit
        #expect(limit == 16)
        #expect(seen.withLock { $0 } == Array(repeating: 1, count: limit) + Array(repeating: 2, count: 20 - limit))
    }

    @Test("with two readers, a batch takes half of the reads by key waiting: the other reader's share is left to it")
    func batchesAreShares() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, writer) = try Self.walDatabase(in: directory)
        let readers = try SQLiteReaders(path: path, configuration: Configuration(), count: 2)
        // Both readers held; then 12 reads queued and one reader let go while
        // the other stays held. Each body counts the rows, then adds one: the
        // bodies of one batch share a snapshot, so they all see the count its
        // first body saw.
        let started = DispatchSemaphore(value: 0), gates = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let done = DispatchGroup()
        let holders = Mutex(0)
        for _ in 0..<2 {
            done.enter()
            #expect(readers.submit(.point) { _ in
                let gate = gates[holders.withLock { h in defer { h += 1 }; return h }]
                started.signal()
                gate.wait()
                done.leave()
            })
        }
        started.wait()
        started.wait()
        let seen = Mutex<[Int]>([])
        for _ in 0..<12 {
            done.enter()
            #expect(readers.submit(.point) { connection in
                let count = (try? connection.get()).flatMap { try? Int.fetchOne($0.db, sql: "SELECT count(*) FROM t") } ?? -1
                seen.withLock { $0.append(count) }
                try! writer.write { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }
                done.leave()
            })
        }
        gates[0].signal()
        // Batches of 6, 3, 2 and 1 (half of 12, of 6, of 3 rounded up, the last).
        let expected = [0, 0, 0, 0, 0, 0, 6, 6, 6, 9, 9, 11]
        let deadline = Date(timeIntervalSinceNow: 30)
        while seen.withLock({ $0.count }) < 12, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(seen.withLock { $0 } == expected)
        gates[1].signal()
        #expect(done.wait(timeout: .now() + 30) == .success)
        readers.close()
    }

    @Test("pages alone run in the order they were queued, and nothing is queued once the readers are closed")
    func pagesInOrder() throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let order = Mutex<[Int]>([])
        let (path, _) = try Self.walDatabase(in: directory)
        let readers = try Self.runHeld(path: path, holder: .page) { readers, done in
            for n in 0..<40 {
                done.enter()
                #expect(readers.submit(.page) { _ in
                    order.withLock { $0.append(n) }
                    done.leave()
                })
            }
        }
        #expect(order.withLock { $0 } == Array(0..<40))

        readers.close()
        #expect(!readers.submit(.point) { _ in })
        #expect(!readers.submit(.page) { _ in })
    }

    /// A real SQLite store that counts which kind of read each operation asks for.
    final class ReadKinds: Store {
        let inner: SQLiteStore
        let counts = Mutex<(reads: Int, pages: Int, byID: Int)>((0, 0, 0))
        init(_ inner: SQLiteStore) { self.inner = inner }

        func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
            counts.withLock { $0.reads += 1 }
            return try await inner.read(body)
        }
        func readPage<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
            counts.withLock { $0.pages += 1 }
            return try await inner.readPage(body)
        }
        func readAccountUser(id: String) async throws -> AccountUser? {
            counts.withLock { $0.byID += 1 }
            return try await inner.readAccountUser(id: id)
        }
        func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
            try await inner.write(body)
        }
        /// What `body` asked for, and resets the counts.
        func asked(_ body: () async throws -> Void) async throws -> (reads: Int, pages: Int, byID: Int) {
            counts.withLock { $0 = (0, 0, 0) }
            try await body()
            return counts.withLock { $0 }
        }
    }

    @Test("every listing asks for a page read; reads by key do not")
    func listingsArePages() async throws {
        let directory = Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = ReadKinds(try SQLiteStore(dataDirectory: directory))
        let secrets = try Secrets(configuration: .inDataDirectory(directory, passwordParameters: .minimum, hashingThreads: 1))
        let users = UserDirectory(
            store: store, clock: ManualWallClock(), secrets: secrets, configuration: DirectoryConfiguration(),
            logger: Logger(label: "test"))
        let access = Fixture.operatorAccess
        let account = try await users.createAccount(name: "Acme", type: .client, actor: Fixture.admin)
        let staff = try await users.createGroup(
            accountID: account.id, name: "Staff", permissions: ["orders.read"], isDefault: true, actor: Fixture.admin, access: access)
        let invited = try await users.invite(
            accountID: account.id, email: "ann@example.com", firstName: "Ann", lastName: "Lee", groupIDs: [staff.id],
            actor: Fixture.admin, access: access)

        let page = (reads: 0, pages: 1, byID: 0)
        #expect(try await store.asked { _ = try await users.listAccountUsers(accountID: account.id, access: access) } == page)
        #expect(try await store.asked { _ = try await users.listGroups(accountID: account.id, access: access) } == page)
        #expect(try await store.asked { _ = try await users.listUsers() } == page)
        #expect(try await store.asked { _ = try await users.listAccounts() } == page)
        #expect(try await store.asked { _ = try await users.auditTrail(accountID: account.id, access: access) } == page)
        #expect(try await store.asked { _ = try await users.pendingOutboxMessages() } == page)
        #expect(try await store.asked { _ = try await users.pendingOutboxPage() } == page)
        #expect(try await store.asked {
            _ = try await users.changes(after: 0, limit: 10, wait: .zero, fromHead: false)
        } == page)

        #expect(try await store.asked { _ = try await users.accountUser(id: invited.accountUser.id, access: access) }
            == (reads: 0, pages: 0, byID: 1))
        #expect(try await store.asked { _ = try await users.account(id: account.id, access: access) }
            == (reads: 1, pages: 0, byID: 0))
    }
}
