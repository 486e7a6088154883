import Foundation
import Logging
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceTestSupport
import Testing

/// The PostgreSQL store against a real server: schema, conflicts, isolation.
@Suite(.enabled(if: PostgresCluster.isInstalled, Comment(rawValue: PostgresCluster.notInstalled)))
struct PostgresStoreTests {
    static let admin = Actor.operator(uid: 0)
    static let operatorAccess = AccessRequirement.operator(uid: 0)
    static let password = "Correct-Horse-9"

    @Test("three daemons starting together on an empty database apply the migrations once")
    func migrationsApplyOnce() async throws {
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.createDatabase()
        let url = database.url
        let configuration = try PostgresStoreConfiguration(url: url, poolSize: 2)
        // Every store that opened is closed, also when another failed to.
        let opened = await withTaskGroup(of: Result<PostgresStore, any Error>.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    do { return .success(try await PostgresStore.open(configuration)) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let stores = opened.compactMap { try? $0.get() }
        try await closing(stores) {
            for case .failure(let error) in opened { throw error }
            #expect(stores.count == 3)
            let applied = try await database.psql("SELECT identifier FROM marketplace_migrations ORDER BY identifier")
            #expect(applied.split(separator: "\n").map(String.init) == PostgresStore.knownMigrations)
            // Every store works on the one schema.
            for (index, store) in stores.enumerated() {
                let account = Account(id: "ACC-\(index)", name: "A\(index)", type: .client, status: .active, createdAt: Date(millisecondsSince1970: 1))
                try await store.write { w in try w.insert(account) }
            }
            #expect(try await stores[0].read { r in try r.accounts(after: nil, limit: 10).map(\.id) } == ["ACC-0", "ACC-1", "ACC-2"])
        }
    }

    @Test("a database migrated by a newer version is refused, naming the unknown migration")
    func newerSchemaRefused() async throws {
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.createDatabase()
        let url = database.url
        let configuration = try PostgresStoreConfiguration(url: url, poolSize: 1)
        await (try await PostgresStore.open(configuration)).close()
        try await database.psql("INSERT INTO marketplace_migrations (identifier) VALUES ('9999-from-the-future')")
        do {
            let store = try await PostgresStore.open(configuration)
            await store.close()
            Issue.record("a newer schema was opened")
        } catch let error as DomainError {
            #expect(error.kind == .failedPrecondition, "\(error)")
            #expect(error.message.contains("9999-from-the-future"), "\(error)")
        }
    }

    @Test("an unreachable database fails the start with unavailable, naming it without its password")
    func unreachableAtOpen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = try PostgresStoreConfiguration(url: "postgres://me:secret@/users?host=\(directory.path)")
        do {
            await (try await PostgresStore.open(configuration)).close()
            Issue.record("opened a database without a server")
        } catch let error as DomainError {
            #expect(error.kind == .unavailable, "\(error)")
            #expect(error.message.contains("postgres://me:***@/users"), "\(error)")
            #expect(!error.message.contains("secret"), "\(error)")
        }
    }

    @Test("every unique constraint is reported as its StoreConflict, and the transaction stays usable")
    func conflictsMapped() async throws {
        try await withStore { store in try await StoreConflictChecks.expectEveryConflictMapped(store) }
    }

    @Test("8 accepts of one invitation through two stores (two daemons) at once: exactly one succeeds")
    func concurrentAcceptsOneOutcome() async throws {
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.createDatabase()
        let url = database.url
        let keys = try TemporaryDirectory()
        defer { keys.remove() }
        let configuration = try PostgresStoreConfiguration(url: url, poolSize: 4)
        let first = try await PostgresStore.open(configuration)
        let second: PostgresStore
        do {
            second = try await PostgresStore.open(configuration)
        } catch {
            await first.close()
            throw error
        }
        // Closed before the test returns, whether it passed or not: a store
        // left open (or closed by a task the test does not wait for) keeps
        // its threads running to the end of the test process.
        try await closing([first, second]) {
            try await acceptConcurrently(first: first, second: second, database: database, keys: keys)
        }
    }

    private func acceptConcurrently(
        first: PostgresStore, second: PostgresStore, database: PostgresTestDatabase, keys: TemporaryDirectory
    ) async throws {
        let directories = try [first, second].map { store in
            UserDirectory(
                store: store, clock: SystemWallClock(),
                secrets: try Secrets(configuration: .inDataDirectory(keys.path, passwordParameters: .minimum, hashingThreads: 2)),
                configuration: DirectoryConfiguration(invitationTTL: .seconds(3600)), logger: Logger(label: "test"))
        }
        let directory = directories[0]
        let account = try await directory.createAccount(name: "Acme", type: .client, actor: Self.admin)
        let staff = try await directory.createGroup(
            accountID: account.id, name: "Staff", permissions: ["orders.read"], isDefault: true, actor: Self.admin,
            access: Self.operatorAccess)
        let invited = try await directory.invite(
            accountID: account.id, email: "jane@example.com", firstName: "J", lastName: "D", groupIDs: [staff.id],
            actor: Self.admin, access: Self.operatorAccess)
        let token = String(invited.link.split(separator: "/").last!)
        let results = await withTaskGroup(of: Result<AccountUser, any Error>.self) { group in
            for index in 0..<8 {
                let directory = directories[index % 2]
                group.addTask {
                    do {
                        return .success(try await directory.acceptInvitation(
                            token: token, firstName: "J", lastName: "D", password: Self.password, acceptTerms: true))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let successes = results.filter { if case .success = $0 { true } else { false } }
        #expect(successes.count == 1, "\(results)")
        for case .failure(let error) in results {
            let error = try #require(error as? DomainError)
            #expect(error.kind == .failedPrecondition, "\(error)")
        }
        let member = try #require(try await second.read { r in try r.accountUser(id: invited.accountUser.id) })
        #expect(member.status == .active)
        // One acceptance, one audit event of it, one change-feed membership change for it.
        let accepted = try await database.psql(
            "SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted' AND target_id = '\(invited.accountUser.id)'")
        #expect(accepted == "1")
    }
}

/// Runs `body` with a store on a fresh database of the shared cluster.
func withStore(poolSize: Int = 2, _ body: (PostgresStore) async throws -> Void) async throws {
    let cluster = try await PostgresCluster.shared()
    let url = try await cluster.createDatabase().url
    let store = try await PostgresStore.open(try PostgresStoreConfiguration(url: url, poolSize: poolSize))
    try await closing([store]) { try await body(store) }
}

/// Runs `body`, then closes `stores`, whether it threw or not (a store left
/// open keeps its threads running to the end of the test process, where
/// LeakSanitizer reports them).
func closing<T>(_ stores: [PostgresStore], _ body: () async throws -> T) async throws -> T {
    let result: Result<T, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    for store in stores { await store.close() }
    return try result.get()
}
