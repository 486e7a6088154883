import Foundation
import MarketplaceDomain
import MarketplaceSQLite
import MarketplaceServer
import MarketplaceTestSupport
import Synchronization
import Testing

/// The daemon exits as soon as `UsersServer.waitUntilClosed()` returns: by
/// then the store must be closed (PostgreSQL: connections ended, threads
/// stopped), not still closing in a task the exit cuts short. Found by
/// LeakSanitizer (a PostgresStore's thread pool still running at exit).
@Suite("Closing the users server")
struct StoreCloseTests {
    @Test("waitUntilClosed returns only once the store is closed, when a signal's task shuts the server down")
    func waitUntilClosedWaitsForTheStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SlowClosingStore()
        var configuration = UsersServerConfiguration(
            socketPath: directory.appending("s.sock"), dataDirectory: directory.appending("data"))
        configuration.passwordParameters = .minimum
        configuration.openStore = { configuration in
            try store.attach(SQLiteStore(dataDirectory: configuration.dataDirectory))
            return store
        }
        let server = try await UsersServer.start(configuration: configuration, logger: silentLogger)
        // As the daemon: main waits; a signal handler's task shuts down.
        let waiter = Task { () -> Bool in
            await server.waitUntilClosed()
            return store.closeFinished
        }
        let shutdown = Task { await server.shutdownGracefully() }
        await store.closeStarted.wait()
        store.finishClose.open()
        #expect(await waiter.value, "waitUntilClosed returned while the store was still closing")
        await shutdown.value
        #expect(store.closeCount == 1)
    }
}

/// A SQLite store that is a ClosableStore whose close waits for the test.
private final class SlowClosingStore: Store, ClosableStore {
    private let base = Mutex<SQLiteStore?>(nil)
    let closeStarted = Latch()
    let finishClose = Latch()
    private let state = Mutex<(finished: Bool, count: Int)>((false, 0))

    var closeFinished: Bool { state.withLock { $0.finished } }
    var closeCount: Int { state.withLock { $0.count } }

    func attach(_ store: SQLiteStore) { base.withLock { $0 = store } }

    private var store: SQLiteStore {
        get throws {
            guard let store = base.withLock({ $0 }) else { throw DomainError(.unavailable, "no store") }
            return store
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await store.read(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await store.write(body)
    }

    func close() async {
        state.withLock { $0.count += 1 }
        closeStarted.open()
        await finishClose.wait()
        state.withLock { $0.finished = true }
    }
}

