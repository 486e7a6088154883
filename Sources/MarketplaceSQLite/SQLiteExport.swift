import Foundation
import GRDB
import MarketplaceDomain

/// Reads every row of every table of a data directory's database, for
/// `marketplace-usersd migrate-to`: one consistent snapshot (a single read
/// transaction from ``open(dataDirectory:)`` to ``close()``), read in key
/// order a batch at a time, while the data directory is locked against
/// daemons (a running daemon refuses the export; a daemon started during it
/// refuses to start).
public final class SQLiteExport: @unchecked Sendable {
    // @unchecked: used by one task at a time (the migrate-to command); the
    // queue serialises every database access anyway.
    /// The database file.
    public let path: String
    /// The migrations the database has applied.
    public let migrations: [String]
    /// The tables to copy, parents before children (foreign keys), with their
    /// row counts in the snapshot.
    public let tables: [StoredTable]
    /// The last value each AUTOINCREMENT table handed out (`sqlite_sequence`),
    /// which may exceed the largest id left (deleted rows): a copy continues after it.
    public let sequences: [String: Int64]

    private let queue: DatabaseQueue
    private let lock: LockFile
    private var keyColumns: [String: [String]] = [:]
    private var closed = false

    /// Tables of SQLite and GRDB themselves, never copied.
    static let internalTables: Set<String> = ["grdb_migrations", "sqlite_sequence"]

    /// Opens `<dataDirectory>/users.sqlite` for export.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` when a daemon serves
    ///   from it, or it is not a users-service database, or was migrated by a
    ///   version this binary does not know; ``DomainError/Kind/notFound`` when
    ///   there is no database; ``DomainError/Kind/unavailable`` when it cannot be read.
    public init(dataDirectory: String) throws(DomainError) {
        path = (dataDirectory as NSString).appendingPathComponent("users.sqlite")
        guard FileManager.default.fileExists(atPath: path) else {
            throw DomainError(.notFound, "no database at \(path): is --data-dir the service's data directory?")
        }
        lock = try ServingLock.take(databasePath: path, mode: .exclusive)
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            // The one read transaction spans every batch (one snapshot).
            configuration.allowsUnsafeTransactions = true
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let (migrations, tables, keys, sequences) = try queue.inDatabase {
                db -> ([String], [StoredTable], [String: [String]], [String: Int64]) in
                try db.execute(sql: "BEGIN DEFERRED TRANSACTION")
                guard try db.tableExists("grdb_migrations") else { return ([], [], [:], [:]) }
                let migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
                let names = try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                    .filter { !Self.internalTables.contains($0) }
                var columns: [String: [String]] = [:]
                var keys: [String: [String]] = [:]
                var parents: [String: Set<String>] = [:]
                for name in names {
                    let info = try Row.fetchAll(db, sql: "PRAGMA table_info(\(name.quotedDatabaseIdentifier))")
                    columns[name] = info.map { $0["name"] }
                    let primary = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }
                    keys[name] = primary.isEmpty ? ["rowid"] : primary.map { $0["name"] }
                    parents[name] = Set(try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(name.quotedDatabaseIdentifier))")
                        .map { $0["table"] as String }.filter { $0 != name })
                }
                // Parents first: a table comes after every table it references.
                var ordered: [String] = []
                var remaining = names
                while !remaining.isEmpty {
                    let ready = remaining.filter { parents[$0, default: []].isSubset(of: Set(ordered)) }
                    let next = ready.isEmpty ? remaining : ready  // a cycle: keep the name order
                    ordered += next
                    remaining.removeAll { next.contains($0) }
                }
                let tables = try ordered.map { name in
                    StoredTable(
                        name: name, columns: columns[name]!,
                        rowCount: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(name.quotedDatabaseIdentifier)") ?? 0)
                }
                var sequences: [String: Int64] = [:]
                if try db.tableExists("sqlite_sequence") {
                    for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence") {
                        sequences[row["name"]] = row["seq"]
                    }
                }
                return (migrations, tables, keys, sequences)
            }
            guard !migrations.isEmpty else {
                throw DomainError(.failedPrecondition, "\(path) is not a users-service database (no migrations)")
            }
            let unknown = Set(migrations).subtracting(SQLiteStore.knownMigrations)
            guard unknown.isEmpty else {
                throw DomainError(
                    .failedPrecondition,
                    "database \(path) was migrated by a newer version of this service (unknown migrations: \(unknown.sorted().joined(separator: ", "))); run that version's migrate-to")
            }
            self.migrations = migrations
            self.tables = tables
            self.keyColumns = keys
            self.sequences = sequences
        } catch let error as DomainError {
            lock.release()
            throw error
        } catch {
            lock.release()
            throw DomainError(.unavailable, "cannot read database \(path): \(error)")
        }
    }

    /// Up to `limit` rows of `table` in key order, after the row whose key is
    /// `after` (the key columns' values of the last row returned; `nil` for
    /// the first batch). Values in the table's column order.
    public func rows(of table: StoredTable, after: [StoredValue]?, limit: Int) throws(DomainError) -> (rows: [[StoredValue]], lastKey: [StoredValue]?) {
        guard let keys = keyColumns[table.name] else {
            throw DomainError(.invalidArgument, "table \(table.name) is not in \(path)")
        }
        let quotedKeys = keys.map { $0 == "rowid" ? "rowid" : $0.quotedDatabaseIdentifier }
        let selected = (table.columns.map(\.quotedDatabaseIdentifier) + quotedKeys).joined(separator: ", ")
        var sql = "SELECT \(selected) FROM \(table.name.quotedDatabaseIdentifier)"
        var arguments: [DatabaseValueConvertible?] = []
        if let after {
            sql += " WHERE (\(quotedKeys.joined(separator: ", "))) > (\(Array(repeating: "?", count: keys.count).joined(separator: ", ")))"
            arguments = after.map(Self.databaseValue)
        }
        sql += " ORDER BY \(quotedKeys.joined(separator: ", ")) LIMIT \(limit)"
        do {
            let fetched = try queue.inDatabase { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            }
            var rows: [[StoredValue]] = []
            rows.reserveCapacity(fetched.count)
            var lastKey: [StoredValue]?
            for row in fetched {
                let values = (0..<row.count).map { Self.storedValue(row[$0] as DatabaseValue) }
                rows.append(Array(values.prefix(table.columns.count)))
                lastKey = Array(values.suffix(keys.count))
            }
            return (rows, lastKey)
        } catch {
            throw DomainError(.unavailable, "cannot read table \(table.name) of \(path): \(error)")
        }
    }

    /// Ends the read transaction and lets daemons start on the directory again.
    public func close() {
        guard !closed else { return }
        closed = true
        try? queue.inDatabase { db in try db.execute(sql: "COMMIT") }
        try? queue.close()
        lock.release()
    }

    deinit { close() }

    private static func storedValue(_ value: DatabaseValue) -> StoredValue {
        switch value.storage {
        case .null: return .null
        case .int64(let v): return .integer(v)
        case .double(let v): return .real(v)
        case .string(let v): return .text(v)
        case .blob(let v): return .blob([UInt8](v))
        }
    }

    private static func databaseValue(_ value: StoredValue) -> DatabaseValueConvertible? {
        switch value {
        case .null: return nil
        case .integer(let v): return v
        case .real(let v): return v
        case .text(let v): return v
        case .blob(let v): return Data(v)
        }
    }
}
