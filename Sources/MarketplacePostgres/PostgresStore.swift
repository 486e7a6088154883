import CoreMetrics
import Foundation
import Logging
import MarketplaceDomain
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The PostgreSQL backend of ``Store``, for several daemons (a fleet) on one
/// database.
///
/// **Execution.** A pool of ``PostgresStoreConfiguration/poolSize``
/// connections and as many threads: each transaction leases one connection
/// and runs its synchronous body on one of the store's threads (never an event
/// loop, never Swift's cooperative pool), where every statement blocks on
/// postgres-nio's future. A transaction waits only for the statements whose
/// answer it needs: `SAVEPOINT`, `RELEASE` and a read's `BEGIN` go out with
/// the next statement and are checked with it (the connection runs statements
/// in the order sent), a read's `COMMIT` is sent, not awaited (a write waits
/// for its `BEGIN` and its `COMMIT`), so reading one membership, groups
/// included, is one wait; that statement and the access check's are prepared
/// once per connection (PostgreSQL plans them once, not at every call). ``readAccountUser(id:)`` runs that one statement without
/// a store thread or a transaction. A lost connection is dropped and the next
/// transaction reconnects; while the database is unreachable calls fail
/// `unavailable`.
///
/// **Isolation.** Reads run in `REPEATABLE READ READ ONLY`: one snapshot.
/// Writes run in `SERIALIZABLE` and the *whole body* is run again, up to
/// ``PostgresStoreConfiguration/maxWriteAttempts`` times, when PostgreSQL
/// reports a serialization failure (40001) or a deadlock (40P01), also when
/// the body caught that error itself; the bodies are pure functions of what
/// they read, so running one again is safe. Committed writes are therefore
/// equivalent to running them one at a time, as SQLite's serialised writer
/// does, whichever daemon of a fleet ran them: e.g. of 8 concurrent accepts of
/// one invitation exactly one succeeds and the others see it accepted. After
/// the last attempt the call fails `unavailable` (busy; retry).
///
/// **Conflicts.** Inserts run with `ON CONFLICT DO NOTHING`; one that did
/// not insert its rows runs again in a savepoint, as updates that may hit a
/// unique constraint always do (the user update may change the email): a
/// unique violation becomes ``StoreConflict`` with the constraint named by the
/// index (`users_by_email` -> ``StoreConflict/Constraint/userEmail``...) and
/// the transaction stays usable.
///
/// **Change feed.** Writes append unnumbered rows; positions are assigned
/// after commit, in batches, by the store's sequencer (after each write, before
/// each read of the feed, and every second; see ``PostgresSchema``), which
/// notifies every store on the database (``observeCommittedChanges(_:)``), so
/// a change-feed waiter of any daemon wakes when another daemon commits;
/// the store prunes the feed to the newest 100,000 changes at most every few
/// seconds, after a write, so it briefly keeps a few more.
///
/// **Schema.** Opening applies ``PostgresSchema`` migrations under a session
/// advisory lock, so daemons starting together migrate once; a database
/// migrated by a newer version is refused.
public final class PostgresStore: Store, StoreHealth, ClosableStore {
    /// The configuration it runs with.
    public let configuration: PostgresStoreConfiguration
    private let pool: ConnectionPool
    private let threads: NIOThreadPool
    private let logger: Logger
    private let health: HealthProbe
    private let changeListener: ChangeListener
    private let sequencer: ChangeSequencer
    private let writeGate: WriteGate
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)
    private let closed = Atomic<Bool>(false)

    /// The identifiers of the migrations this binary knows, in order.
    public static var knownMigrations: [String] { PostgresSchema.migrations.map(\.identifier) }

    private init(configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        pool = ConnectionPool(configuration: configuration, logger: logger)
        threads = NIOThreadPool(numberOfThreads: configuration.poolSize)
        health = HealthProbe(configuration: configuration, logger: logger)
        changeListener = ChangeListener(configuration: configuration, logger: logger)
        sequencer = ChangeSequencer(pool: pool, logger: logger)
        writeGate = WriteGate(width: configuration.writeConcurrency)
        Self.writeRetries.increment(by: 0)  // exported from the start, at 0
    }

    /// Connects to the database and applies the migrations it lacks.
    ///
    /// - Throws: ``DomainError/Kind/unavailable`` when the database cannot be
    ///   reached; ``DomainError/Kind/failedPrecondition`` when it was migrated
    ///   by a newer version of the service; ``DomainError/Kind/internal`` when
    ///   a migration fails. Messages name the database (without its password).
    public static func open(
        _ configuration: PostgresStoreConfiguration, logger: Logger = Logger(label: "marketplace-postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> PostgresStore {
        let store = PostgresStore(configuration: configuration, logger: logger)
        store.threads.start()
        do {
            try await store.migrate()
        } catch {
            await store.close()
            let mapped = PostgresErrors.map(error)
            if let domain = mapped as? DomainError {
                throw DomainError(domain.kind, "cannot open database \(configuration.displayURL): \(domain.message); PostgreSQL says: \(PostgresErrors.describe(error))")
            }
            throw mapped
        }
        store.changeListener.start()
        store.sequencer.start()
        return store
    }

    /// Write transactions run again after a serialization failure or a
    /// deadlock (`marketplace_storage_write_retries_total`).
    private static let writeRetries = Counter(label: "marketplace_storage_write_retries_total")

    // MARK: Store

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await transaction(write: false) { db in try body(PostgresAccess(db)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        let value = try await writeGate.run { try await transaction(write: true) { db in try body(PostgresAccess(db)) } }
        // The write may have appended to the change feed: number it soon
        // (a read of the feed numbers it first anyway).
        sequencer.request()
        await pruneChangesIfDue()
        return value
    }

    /// One statement, prepared once per connection, run with postgres-nio's
    /// async API on the connection's event loop: no store thread, no BEGIN
    /// or COMMIT (one statement sees one snapshot).
    public func readAccountUser(id: String) async throws -> AccountUser? {
        guard !closed.load(ordering: .relaxed) else { throw PostgresErrors.storeClosed }
        let lease = try await pool.lease()
        let found: PostgresRow?
        do {
            found = try await BlockingConnection.rows(of: MemberByID(id: id), on: lease.connection, logger: logger).first
            pool.release(lease)
        } catch {
            // Closed by rows(of:) unless the failure was a serialization
            // failure or deadlock (not possible outside a transaction).
            pool.release(lease, discard: !PostgresErrors.isRetryable(error))
            throw PostgresErrors.map(error)
        }
        return try found.map { try PostgresAccess.member(SQLRow($0.makeRandomAccess())) }
    }

    /// Leases a connection and runs `body` in one transaction on a store thread.
    private func transaction<T: Sendable>(
        write: Bool, _ body: @escaping @Sendable (BlockingConnection) throws -> T
    ) async throws -> T {
        guard !closed.load(ordering: .relaxed) else { throw PostgresErrors.storeClosed }
        let lease = try await pool.lease()
        let logger = self.logger
        let attempts = write ? configuration.maxWriteAttempts : 1
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await threads.runIfActive {
                try Self.run(write: write, attempts: attempts, connection: lease.connection, logger: logger, body)
            })
        } catch {
            outcome = .failure(error)
        }
        // A connection whose transaction failed for another reason than the
        // body's own error is in an unknown state: replace it.
        var discard = false
        if case .failure(let error) = outcome, !(error is DomainError), !(error is StoreConflict) {
            discard = !(error is PostgresErrors.RetryTransaction)
        }
        pool.release(lease, discard: discard || lease.connection.isClosed)
        return try outcome.mapError(PostgresErrors.map).get()
    }

    /// The blocking transaction, run again on serialization failures.
    private static func run<T>(
        write: Bool, attempts: Int, connection: PostgresConnection, logger: Logger,
        _ body: (BlockingConnection) throws -> T
    ) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            let db = BlockingConnection(connection, logger: logger)
            do {
                // A read's BEGIN goes out with the body's first statement,
                // without a wait of its own (the connection runs them in
                // order), and is checked with it, so no result of the body is
                // used unchecked. A write waits for its BEGIN: were it to
                // fail (a cancelled query) and the next statement succeed, that
                // statement would commit on its own.
                let value: T
                do {
                    if write {
                        try db.query("BEGIN ISOLATION LEVEL SERIALIZABLE")
                    } else {
                        db.send("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    }
                    value = try body(db)
                    try db.checkSent()
                } catch {
                    Self.rollback(db, write: write)
                    if db.mustRetry { throw PostgresErrors.RetryTransaction() }
                    throw error
                }
                if db.mustRetry {
                    Self.rollback(db, write: write)
                    throw PostgresErrors.RetryTransaction()
                }
                if write {
                    try db.query("COMMIT")
                } else {
                    // A read-only transaction has nothing to make durable and
                    // cannot fail to commit: its COMMIT is sent, not awaited;
                    // whoever uses the connection next is queued behind it.
                    db.send("COMMIT")
                }
                return value
            } catch where PostgresErrors.isRetryable(error) && attempt < attempts && !connection.isClosed {
                Self.writeRetries.increment()
                // The failed statement may have been COMMIT: the transaction
                // is over either way; make sure before starting again.
                _ = try? db.query("ROLLBACK")
                // A short random pause spreads the retries of conflicting writers.
                usleep(UInt32.random(in: 0...UInt32(min(50_000, 1_000 << min(attempt, 6)))))
                continue
            }
        }
    }

    /// Ends a transaction that will not commit: a write waits for its
    /// ROLLBACK (it may run again on this connection at once); a read only
    /// sends it.
    private static func rollback(_ db: BlockingConnection, write: Bool) {
        if write {
            _ = try? db.query("ROLLBACK")
        } else {
            db.send("ROLLBACK")
        }
    }

    // MARK: Change feed

    /// `wake` runs after every commit, by any daemon on the database, of a
    /// transaction that appended to the change feed (a `NOTIFY` delivered to
    /// this store's one `LISTEN` connection), and after that connection was
    /// re-established (commits meanwhile were not notified). See ``ChangeListener``.
    public func observeCommittedChanges(_ wake: @escaping @Sendable () -> Void) {
        changeListener.observe(wake)
    }

    /// Numbers every change committed so far (``ChangeSequencer``): the
    /// feed's positions are assigned after commit.
    public func publishCommittedChanges() async throws {
        guard !closed.load(ordering: .relaxed) else { throw PostgresErrors.storeClosed }
        do {
            try await sequencer.numberCommitted()
        } catch {
            throw PostgresErrors.map(error)
        }
    }

    /// Connections the change-feed listener has made (1 once listening; more
    /// after reconnections): for tests.
    public var changeListenerConnections: Int { changeListener.connections.load(ordering: .relaxed) }

    // MARK: Change feed pruning

    private static let pruneInterval: Duration = .seconds(5)

    /// Deletes changes older than the newest ``UserDirectory/changeRetention``,
    /// at most every few seconds per store, in its own short transaction
    /// (READ COMMITTED: concurrent prunes by other daemons do not conflict).
    private func pruneChangesIfDue() async {
        let now = ContinuousClock.now
        let due = lastPrune.withLock { last -> Bool in
            if let last, now - last < Self.pruneInterval { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            try await unsafeExecute("""
                DELETE FROM changes WHERE position <= (SELECT MAX(position) FROM changes) - \(UserDirectory.changeRetention)
                """)
        } catch {
            logger.warning("could not prune the change feed: \(error)")
        }
    }

    // MARK: Health, maintenance, closing

    public func isAvailable() async -> Bool {
        guard !closed.load(ordering: .relaxed) else { return false }
        return await health.isAvailable()
    }

    /// Runs raw SQL outside any transaction (autocommit) on a pooled
    /// connection: for maintenance and tests only, never with untrusted input.
    public func unsafeExecute(_ sql: String) async throws {
        guard !closed.load(ordering: .relaxed) else { throw PostgresErrors.storeClosed }
        let lease = try await pool.lease()
        do {
            _ = try await Self.rows(lease.connection, sql, logger: logger)
            pool.release(lease)
        } catch {
            pool.release(lease, discard: PostgresErrors.sqlState(error) == nil)
            throw PostgresErrors.map(error)
        }
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        sequencer.stop()
        await changeListener.stop()
        await pool.close()
        await health.close()
        try? await threads.shutdownGracefully()
    }

    /// Runs one statement with postgres-nio's async API; its rows.
    static func rows(_ connection: PostgresConnection, _ sql: String, logger: Logger) async throws -> [PostgresRow] {
        let sequence: PostgresRowSequence = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        var rows: [PostgresRow] = []
        for try await row in sequence { rows.append(row) }
        return rows
    }

    // MARK: Migrations

    /// Applies the missing migrations on one connection, holding the session
    /// advisory lock ``PostgresSchema/migrationLockKey`` (other daemons
    /// starting meanwhile wait, then find nothing to do), each migration in
    /// its own transaction with its bookkeeping row.
    private func migrate() async throws {
        // Each step that can wait on the database is logged, so that a daemon
        // slow to start says what it waits for.
        logger.info("connecting to the database", metadata: [
            "database": "\(configuration.displayURL)", "connect_timeout": "\(configuration.connectTimeout)",
        ])
        let connection = try await ConnectionPool.connect(configuration, id: 0, logger: logger)
        defer { ConnectionPool.closeInBackground(connection) }
        let logger = self.logger
        func run(_ sql: String) async throws -> [PostgresRow] {
            try await Self.rows(connection, sql, logger: logger)
        }
        let locked = try await run("SELECT pg_try_advisory_lock(\(PostgresSchema.migrationLockKey))")
            .first?.decode(Bool.self) ?? false
        if !locked {
            logger.notice("waiting for the migration lock: another daemon is migrating this database")
            _ = try await run("SELECT pg_advisory_lock(\(PostgresSchema.migrationLockKey))")
        }
        do {
            _ = try await run(PostgresSchema.migrationsTable)
            let applied = try await run("SELECT identifier FROM marketplace_migrations ORDER BY identifier")
                .map { try $0.decode(String.self) }
            let known = Self.knownMigrations
            let unknown = Set(applied).subtracting(known).sorted()
            guard unknown.isEmpty else {
                throw DomainError(
                    .failedPrecondition,
                    "database \(configuration.displayURL) was migrated by a newer version of this service (unknown migrations: \(unknown.joined(separator: ", "))); run that version")
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
                _ = try await run("BEGIN")
                do {
                    _ = try await run(migration.statement)
                    _ = try await run("INSERT INTO marketplace_migrations (identifier) VALUES ('\(migration.identifier)')")
                    _ = try await run("COMMIT")
                } catch {
                    _ = try? await run("ROLLBACK")
                    throw error
                }
                logger.notice("applied database migration", metadata: ["migration": "\(migration.identifier)"])
            }
            _ = try await run("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLockKey))")
            logger.info("database schema current", metadata: ["migrations": "\(PostgresSchema.migrations.count)"])
        } catch {
            _ = try? await run("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLockKey))")
            throw error
        }
    }
}
