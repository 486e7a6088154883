import Logging
import MarketplaceDomain
import NIOCore
import PostgresNIO
import Synchronization

/// The store's one `LISTEN` connection: wakes the domain's change-feed
/// waiters when a transaction of ANY daemon on the database appended to the
/// feed. The schema's `changes_sequence()` (run by every daemon's
/// ``ChangeSequencer`` after its writes) runs `pg_notify('marketplace_changes', '')`
/// when it numbered new changes; PostgreSQL delivers it after that commit
/// (once per transaction), to every listening session.
///
/// The connection is outside the pool. When it is lost (a database restart,
/// a network failure, a terminated backend) the listener reconnects, after
/// 100 ms doubling to 2 s while it fails, and then wakes every waiter once:
/// commits made while it was not listening were not notified, so the waiters
/// re-read the feed. A `SELECT 1` every few seconds finds a connection that
/// died silently.
final class ChangeListener: Sendable {
    /// The channel the schema's trigger notifies.
    static let channel = PostgresSchema.changesChannel
    /// How often the open connection is checked.
    static let livenessInterval: Duration = .seconds(5)

    private let configuration: PostgresStoreConfiguration
    private let logger: Logger
    private let handlers = Mutex<[@Sendable () -> Void]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// The open connection, and whether ``stop()`` was called.
    private let current = Mutex<(connection: PostgresConnection?, stopped: Bool)>((nil, false))
    /// How long ``stop()`` waits for the listener to end.
    static let stopTimeout: Duration = .seconds(5)
    /// Connections made so far (1 once listening; more after reconnections).
    let connections = Atomic<Int>(0)

    init(configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Adds a callback run (without blocking) after each notification and
    /// after each (re)connection.
    func observe(_ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    private func fire() {
        for handler in handlers.withLock({ $0 }) { handler() }
    }

    /// Starts listening in the background (returns at once).
    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { await self.run() }
        }
    }

    /// Stops listening and closes the connection. Never holds up a shutdown
    /// for more than ``stopTimeout``: the connection is closed under the
    /// listener (which fails whatever it waits for in postgres-nio), and a
    /// listener that still has not ended by then is left behind, logged.
    func stop() async {
        guard let running = task.withLock({ $0 }) else { return }
        running.cancel()
        let connection = current.withLock { current in
            current.stopped = true
            defer { current.connection = nil }
            return current.connection
        }
        if let connection { ConnectionPool.closeInBackground(connection) }
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(continuation)
            Task {
                await running.value
                once.resume(true)
            }
            Task {
                try? await Task.sleep(for: Self.stopTimeout)
                once.resume(false)
            }
        }
        if !ended {
            logger.warning("change-feed listener did not end within \(Self.stopTimeout) of the store closing; closed without it")
        }
    }

    private struct ConnectionEnded: Error {}

    private func run() async {
        var backoff: Duration = .milliseconds(100)
        var everConnected = false
        while !Task.isCancelled {
            var connected = false
            do {
                let connection = try await ConnectionPool.connect(
                    configuration, id: 0, logger: logger, applicationName: "marketplace-usersd changes")
                connected = true
                let keep = current.withLock { current in
                    guard !current.stopped else { return false }
                    current.connection = connection
                    return true
                }
                guard keep else {
                    try? await connection.close()
                    break
                }
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        connections.add(1, ordering: .relaxed)
                        if everConnected {
                            logger.notice("change-feed listener reconnected")
                        }
                        everConnected = true
                        // Commits made before LISTEN took effect were not notified.
                        fire()
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await _ in notifications { self.fire() }
                                throw ConnectionEnded()
                            }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: Self.livenessInterval)
                                    _ = try await PostgresStore.rows(connection, "SELECT 1", logger: self.logger)
                                }
                            }
                            _ = try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("change-feed listener lost its connection: \(PostgresErrors.describe(error))")
                    }
                }
                current.withLock { if $0.connection === connection { $0.connection = nil } }
                try? await connection.close()
            } catch {
                if !Task.isCancelled, backoff >= .seconds(2) || !everConnected {
                    logger.debug("change-feed listener cannot connect: \(PostgresErrors.describe(error))")
                }
            }
            if Task.isCancelled { break }
            backoff = connected ? .milliseconds(100) : min(backoff * 2, .seconds(2))
            try? await Task.sleep(for: backoff)
        }
    }
}
