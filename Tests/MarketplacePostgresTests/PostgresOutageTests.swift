import Foundation
import MarketplaceClient
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// The database server stops and starts again under a running store and a
/// running server: each test has a cluster of its own, since it stops it.
@Suite(.enabled(if: PostgresCluster.isInstalled, Comment(rawValue: PostgresCluster.notInstalled)))
struct PostgresOutageTests {
    @Test("calls fail UNAVAILABLE while the database is down, and work again once it is back, with the same store")
    func outageAndRecovery() async throws {
        let cluster = try await PostgresCluster.start()
        let database = try await cluster.createDatabase()
        let url = database.url
        var configuration = try PostgresStoreConfiguration(url: url, poolSize: 2)
        configuration.connectTimeout = .seconds(2)
        let store = try await PostgresStore.open(configuration)
        try await closing([store]) {
            let t = Date(millisecondsSince1970: 1_000)
            try await store.write { w in try w.insert(Account(id: "ACC-1", name: "A", type: .client, status: .active, createdAt: t)) }
            #expect(await store.isAvailable())
            // Prepares the one-statement read on the pool's connections.
            #expect(try await store.readAccountUser(id: "AUSR-1") == nil)

            try await cluster.stopServer()
            for _ in 0..<3 {
                await expectUnavailable { try await store.read { r in try r.account(id: "ACC-1") } }
                await expectUnavailable { try await store.readAccountUser(id: "AUSR-1") }
                await expectUnavailable {
                    try await store.write { w in try w.insert(Account(id: "ACC-2", name: "B", type: .client, status: .active, createdAt: t)) }
                }
            }
            #expect(await eventually { await !store.isAvailable() })

            try await cluster.startServer()
            #expect(try await store.read { r in try r.account(id: "ACC-1")?.name } == "A")
            // New connections prepare it again.
            for _ in 0..<3 { #expect(try await store.readAccountUser(id: "AUSR-1") == nil) }
            try await store.write { w in try w.insert(Account(id: "ACC-2", name: "B", type: .client, status: .active, createdAt: t)) }
            #expect(try await store.read { r in try r.accounts(after: nil, limit: 10).map(\.id) } == ["ACC-1", "ACC-2"])
            #expect(await eventually { await store.isAvailable() })
        }
        await cluster.destroy()
    }

    @Test("Health/Check answers NOT_SERVING while the database is down and SERVING once it is back")
    func healthFollowsTheDatabase() async throws {
        let cluster = try await PostgresCluster.start()
        let database = try await cluster.createDatabase()
        let url = database.url
        try await withUsersServer(configure: { configuration in
            configuration.openStore = { _ in
                var database = try PostgresStoreConfiguration(url: url, poolSize: 2)
                database.connectTimeout = .seconds(2)
                return try await PostgresStore.open(database)
            }
        }) { server, client in
            #expect(server.store is PostgresStore)
            #expect(try await client.health.check().status == .serving)
            _ = try await client.accounts.createAccount(.init(name: "Acme", type: .client))

            try await cluster.stopServer()
            #expect(await eventually { (try? await client.health.check().status) == .notServing })
            do {
                _ = try await client.accounts.createAccount(.init(name: "Beta", type: .client))
                Issue.record("a write succeeded without a database")
            } catch let error as RPCError {
                #expect(error.code == .unavailable, "\(error)")
            }

            try await cluster.startServer()
            #expect(await eventually { (try? await client.health.check().status) == .serving })
            _ = try await client.accounts.createAccount(.init(name: "Beta", type: .client))
        }
        await cluster.destroy()
    }
}

/// Expects `body` to fail with a ``DomainError`` of kind `unavailable`.
func expectUnavailable<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected unavailable, but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as DomainError {
        #expect(error.kind == .unavailable, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected DomainError unavailable, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Polls `condition` until it holds or 60 s pass (a generous bound on a loaded machine).
func eventually(_ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return false
}
