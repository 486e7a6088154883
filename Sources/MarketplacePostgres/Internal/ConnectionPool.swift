import Logging
import MarketplaceDomain
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A fixed number of connection slots. A transaction leases one slot; a slot
/// whose connection is missing or closed (the server restarted, the network
/// failed) is reconnected by the next lease, so the store recovers without a
/// restart. While the database is unreachable, leases fail `unavailable`
/// after at most the connect timeout.
final class ConnectionPool: Sendable {
    /// A leased slot and its open connection.
    struct Lease: Sendable {
        let slot: Int
        let connection: PostgresConnection
    }

    private struct State {
        var connections: [PostgresConnection?]
        var free: [Int]
        var waiters: [CheckedContinuation<Int?, Never>] = []
        var closed = false
    }

    private let state: Mutex<State>
    private let configuration: PostgresStoreConfiguration
    private let logger: Logger
    private let nextID = Atomic<Int>(1)

    init(configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        state = Mutex(State(connections: Array(repeating: nil, count: configuration.poolSize),
                            free: Array((0..<configuration.poolSize).reversed())))
    }

    /// Waits for a free slot, connecting it if needed.
    /// - Throws: `DomainError` `unavailable` when the pool is closed or the
    ///   database cannot be reached.
    func lease() async throws -> Lease {
        let slot: Int? = await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Int?? in
                if state.closed { return .some(nil) }
                if let slot = state.free.popLast() { return .some(slot) }
                state.waiters.append(continuation)
                return .none
            }
            if let granted { continuation.resume(returning: granted) }
        }
        guard let slot else { throw DomainError(.unavailable, "storage is shutting down") }
        if let connection = state.withLock({ $0.connections[slot] }), !connection.isClosed {
            return Lease(slot: slot, connection: connection)
        }
        do {
            let connection = try await Self.connect(configuration, id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger)
            state.withLock { $0.connections[slot] = connection }
            return Lease(slot: slot, connection: connection)
        } catch {
            state.withLock { $0.connections[slot] = nil }
            release(slot)
            throw PostgresErrors.map(error)
        }
    }

    /// Returns a slot. With `discard`, its connection is closed first (its
    /// state is unknown after a failure), and the next lease reconnects; after
    /// ``close()`` every returned connection is closed.
    func release(_ lease: Lease, discard: Bool = false) {
        if discard || lease.connection.isClosed || state.withLock({ $0.closed }) {
            state.withLock { if $0.connections[lease.slot] === lease.connection { $0.connections[lease.slot] = nil } }
            Self.closeInBackground(lease.connection)
        }
        release(lease.slot)
    }

    private func release(_ slot: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int?, Never>? in
            if state.waiters.isEmpty {
                state.free.append(slot)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: slot)
    }

    /// Closes every idle connection and fails waiting and later leases.
    /// Connections in use are closed when they are released.
    func close() async {
        let (idle, waiters) = state.withLock { state -> ([PostgresConnection], [CheckedContinuation<Int?, Never>]) in
            state.closed = true
            let idle = state.free.compactMap { state.connections[$0] }
            for slot in state.free { state.connections[slot] = nil }
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for connection in idle { try? await connection.close() }
    }

    /// Starts closing `connection` without waiting (from synchronous code);
    /// the connection is kept alive until it is closed (postgres-nio asserts that).
    static func closeInBackground(_ connection: PostgresConnection) {
        let future: EventLoopFuture<Void> = connection.close()
        future.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Opens one connection, failing after the configured connect timeout.
    static func connect(
        _ configuration: PostgresStoreConfiguration, id: Int, logger: Logger, applicationName: String = "marketplace-usersd"
    ) async throws -> PostgresConnection {
        var connection: PostgresConnection.Configuration
        switch configuration.endpoint {
        case .tcp(let host, let port):
            connection = PostgresConnection.Configuration(
                host: host, port: port, username: configuration.username, password: configuration.password,
                database: configuration.database, tls: .disable)
        case .unixSocket(let path):
            connection = PostgresConnection.Configuration(
                unixSocketPath: path, username: configuration.username, password: configuration.password,
                database: configuration.database)
        }
        connection.options.connectTimeout = .nanoseconds(Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000
            + configuration.connectTimeout.components.attoseconds / 1_000_000_000)
        connection.options.additionalStartupParameters = [("application_name", applicationName)]
        return try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: connection, id: id, logger: logger)
    }
}
