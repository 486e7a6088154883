import Foundation
import GRDB
import GRDBSQLite
import MarketplaceDomain

/// The SQLite backend of ``Store``: one file `<data-dir>/users.sqlite` in WAL
/// mode with `synchronous=FULL` (an acknowledged write survives `kill -9` and
/// power loss), foreign keys on, a busy timeout, and the numbered migrations
/// applied at open. Reads run concurrently on a few read-only connections, each
/// owned by its own thread (``SQLiteReaders``), writes are serialised on GRDB's
/// writer queue, and writes that arrive together share one transaction and one
/// fsync (group commit); neither runs on the caller's thread.
public final class SQLiteStore: Store {
    /// The database file.
    public let path: String
    private let pool: DatabasePool
    private let writer: GroupCommitWriter
    /// Runs the ``read(_:)`` bodies.
    private let readers: SQLiteReaders
    /// Large accounts' member listings with a text query (``MemberSearch``).
    let search: MemberSearch
    /// This store's mark that it serves the file (``MemberSearch``).
    private let presence: WriterPresence
    /// Held shared while the store is open: `migrate-to` refuses to run beside it.
    private let servingLock: LockFile

    /// Opens (creating if needed) `<dataDirectory>/users.sqlite`. The
    /// directory is created 0700, or tightened to 0700 if it exists and is
    /// ours (refused, naming its mode, if it is open to others and not ours).
    ///
    /// - Throws: like ``init(path:busyTimeout:)``.
    public convenience init(dataDirectory: String, busyTimeout: Duration = .seconds(5)) throws {
        try DataDirectory.prepare(dataDirectory)
        try self.init(path: (dataDirectory as NSString).appendingPathComponent("users.sqlite"), busyTimeout: busyTimeout)
    }

    /// Opens (creating if needed, mode 0600) the database at `path` and applies migrations.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` when the database was
    ///   migrated by a newer version of the service (unknown migrations);
    ///   ``DomainError/Kind/unavailable`` when it cannot be opened or written;
    ///   ``DomainError/Kind/internal`` when it is not a database.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(TimeInterval(busyTimeout.components.seconds))
        configuration.label = "users.sqlite"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try TextSearchFunction.register(db)
        }
        // A read-only mount is named as such (SQLite would say only that it
        // cannot open the file, or open it read-only; see below).
        var fileSystem = statvfs()
        if statvfs((path as NSString).deletingLastPathComponent, &fileSystem) == 0,
           fileSystem.f_flag & UInt(ST_RDONLY) != 0 {
            throw DomainError(.unavailable, "cannot open database \(path): storage is read-only (its file system is mounted read-only)")
        }
        // One process at a time opens and migrates the file (see StartupLock).
        let startupLock = try StartupLock.take(databasePath: path, timeout: busyTimeout)
        defer { startupLock.release() }
        servingLock = try ServingLock.take(databasePath: path, mode: .shared)
        // Who else serves the file (the in-memory member search relies on it).
        presence = WriterPresence(databasePath: path)
        // The database and its -wal and -shm are 0600 whatever the umask
        // (SQLite gives -wal and -shm the mode of the database file).
        try DataDirectory.secureFile(path, create: true)
        for suffix in ["-wal", "-shm"] { try DataDirectory.secureFile(path + suffix, create: false) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // SQLite opens a file it cannot write read-only, without an error.
            // With no log left behind, the first read then fails; after a crash
            // (-wal and -shm still there) it succeeds, and the daemon would serve
            // and fail every write: refuse it here, whatever the files left.
            let readOnly = pool.writeWithoutTransaction { db in sqlite3_db_readonly(db.sqliteConnection, "main") == 1 }
            if readOnly {
                throw DatabaseError(resultCode: .SQLITE_READONLY, message: "the file (or its file system) is read-only")
            }
            let migrator = Schema.migrator
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let unknown = try pool.read { db in
                    try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
                }
                throw DomainError(
                    .failedPrecondition,
                    "database \(path) was migrated by a newer version of this service (unknown migrations: \(unknown.joined(separator: ", "))); run that version or restore a backup")
            }
            try migrator.migrate(pool)
            // The writer's savepoint journal (each body of a group commit runs
            // in a savepoint, which keeps the original of every page it
            // changes) in memory, not in a temporary file past 64 KiB: an
            // invite changes ~45 pages, so it was ~190 KB of write(2) per
            // invite, half of all the bytes written. Bounded by one body's
            // pages: SQLite empties it when each savepoint is released
            // (BENCHMARKS.md, change 17). Set after the migrations, whose
            // index builds may sort more than should be held in memory.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
            readers = try SQLiteReaders(path: path, configuration: Self.readerConfiguration(configuration), count: Self.readerCount)
        } catch {
            // At start there is no caller to protect from details: say which
            // file failed and SQLite's reason (e.g. a read-only file system).
            let mapped = StorageErrors.map(error)
            if let domain = mapped as? DomainError, domain.kind == .unavailable || domain.kind == .internal,
               let database = error as? DatabaseError {
                throw DomainError(
                    domain.kind,
                    "cannot open database \(path): \(domain.message); SQLite says: \(database.message ?? "\(database.resultCode)")")
            }
            throw mapped
        }
        let writer = GroupCommitWriter(pool: pool)
        self.writer = writer
        // Weakly: the writer's connection keeps the search (its triggers'
        // function), which must not keep the writer, and so the file, open.
        search = MemberSearch(presence: presence) { [weak writer] build in
            guard let writer else { return build(nil) }
            writer.submit(GroupCommitWriter.Job(run: { db in build(db); return { _ in } }, abandon: { _ in build(nil) }))
        }
        do {
            try pool.writeWithoutTransaction { db in try search.installTriggers(db) }
        } catch {
            throw StorageErrors.map(error)
        }
    }

    deinit {
        // Readers first: the writer, closed last, then checkpoints the WAL
        // into the database file and removes -wal and -shm (a read-only
        // connection closing last would leave them behind).
        readers.close()
    }

    /// Reader connections (and threads): one per CPU, at least 2 (a read
    /// waiting on the disk does not hold up the others) and at most 4.
    ///
    /// Reads are CPU-bound once the file is in the OS's cache, so readers
    /// beyond the CPUs only add thread wake-ups and spread the same pages
    /// over more connections' caches: on 2 vCPUs, 2 readers instead of 4 cost
    /// 0.78-1.01x the server CPU per get account user (no cell worse beyond
    /// noise in three runs, most 0.8-0.95x); 1 reader was worse than 2
    /// (BENCHMARKS.md, change 16).
    static let readerCount = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// Each reader connection's page cache, in KiB (SQLite's default is
    /// 2,000). A member listing page touches ~150 pages (its rows, their
    /// users and group links); 2 MiB held too few of them, and each miss was
    /// a `pread` copy from the OS's cache: with 8 MiB, list pages cost
    /// 0.79-0.95x the server CPU (100,000 and 20,000 members), get account
    /// user unchanged, for ~14 MiB more resident memory once the readers'
    /// caches are full (BENCHMARKS.md, change 29).
    static let readerCacheKiB = 8_192

    /// The settings of the reader connections: those of the writer, read-only,
    /// with a larger page cache (``readerCacheKiB``).
    private static func readerConfiguration(_ configuration: Configuration) -> Configuration {
        var configuration = configuration
        configuration.readonly = true
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -\(readerCacheKiB)") }
        return configuration
    }

    /// The identifiers of the migrations this binary knows, in order.
    public static var knownMigrations: [String] { Schema.migrator.migrations }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        let search = self.search
        return try await onReader(.point) { connection in try body(SQLiteAccess(connection.db, search: search)) }
    }

    /// A page of a listing: queued behind reads by key (``SQLiteReaders``'
    /// lanes), in a read transaction of its own.
    public func readPage<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        let search = self.search
        return try await onReader(.page) { connection in try body(SQLiteAccess(connection.db, search: search)) }
    }

    /// The membership `id` (as `read { $0.accountUser(id: id) }` answers it)
    /// through statements prepared once per reader and the SQLite C API,
    /// without GRDB's rows (``AccountUserStatements``).
    public func readAccountUser(id: String) async throws -> AccountUser? {
        try await onReader(.point) { connection in try connection.accountUser(id: id) }
    }

    /// Runs `body` on a reader, in a read transaction, queued in `lane`
    /// (reads by key queued together share one: ``SQLiteReaders``).
    private func onReader<T: Sendable>(_ lane: SQLiteReaders.Lane, _ body: @escaping @Sendable (SQLiteReaders.Connection) throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            let queued = readers.submit(lane) { connection in
                do {
                    continuation.resume(returning: try body(try connection.get()))
                } catch {
                    continuation.resume(throwing: StorageErrors.map(error))
                }
            }
            if !queued {
                continuation.resume(throwing: DomainError(.unavailable, "the store is closed"))
            }
        }
    }

    /// Runs `body` in a write transaction shared with the bodies of other
    /// callers that arrive meanwhile (group commit, ``GroupCommitWriter``):
    /// each body in its own savepoint, so it commits or rolls back alone, and
    /// the caller is answered once the transaction is durably committed.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            writer.submit(GroupCommitWriter.Job(
                run: { db in
                    let outcome: Result<T, any Error>
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try body(SQLiteAccess(db))
                            return .commit
                        }
                        outcome = .success(value!)
                    } catch {
                        outcome = .failure(error)
                    }
                    return { commitFailure in
                        switch (outcome, commitFailure) {
                        case (.failure(let error), _), (.success, .some(let error)):
                            continuation.resume(throwing: StorageErrors.map(error))
                        case (.success(let value), .none):
                            continuation.resume(returning: value)
                        }
                    }
                },
                abandon: { error in continuation.resume(throwing: StorageErrors.map(error)) }))
        }
    }

    /// The connection settings in force, for health checks and tests:
    /// `journal_mode`, `synchronous` (2 = FULL), `foreign_keys`, `busy_timeout`,
    /// the writer's `temp_store` as `writer_temp_store` (2 = MEMORY), and a
    /// reader connection's `cache_size` as `reader_cache_size` (negative: KiB).
    public func settings() async throws -> [String: String] {
        var result: [String: String]
        do {
            result = try await pool.read { db in
                var result: [String: String] = [:]
                for name in ["journal_mode", "synchronous", "foreign_keys", "busy_timeout"] {
                    result[name] = try String.fetchOne(db, sql: "PRAGMA \(name)")
                }
                return result
            }
            result["writer_temp_store"] = try await pool.writeWithoutTransaction { db in
                try String.fetchOne(db, sql: "PRAGMA temp_store")
            }
        } catch {
            throw StorageErrors.map(error)
        }
        result["reader_cache_size"] = try await onReader(.point) { connection in
            try String.fetchOne(connection.db, sql: "PRAGMA cache_size")
        }
        return result
    }

    /// Runs raw SQL outside any transaction (e.g. `VACUUM INTO` for a backup):
    /// for maintenance and tests only, never with untrusted input.
    public func unsafeExecute(_ sql: String) async throws {
        do {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
        } catch {
            throw StorageErrors.map(error)
        }
    }
}
