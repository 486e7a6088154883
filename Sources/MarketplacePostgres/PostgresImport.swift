import Foundation
import Logging
import MarketplaceDomain
import NIOCore
import PostgresNIO

/// Copies tables into an EMPTY PostgreSQL database of this service, for
/// `marketplace-usersd migrate-to`: every row with its ids, positions and
/// times, in ONE transaction (a failure leaves the target as empty as it
/// was), with the tables' own triggers off while copying (the copied change
/// feed is the history: copying must not add to it), then every sequence
/// (`audit_events.sequence`, `outbox.id`, `changes_position_seq`) set past the
/// largest value copied, so that new rows continue after the old ones.
///
/// Use: ``open(_:logger:)`` (refuses a database that holds anything),
/// ``check(_:)``, ``begin(_:)`` (locks every table and checks again that
/// they are empty), ``insert(_:into:)`` a batch at a time, ``commit(_:sequences:)``,
/// ``close()`` (rolls back what was not committed).
///
/// Columns are matched by name and converted by the target column's type
/// (`BIGINT`, `BOOLEAN` from 0/1, `BYTEA`, `TEXT`). A source table or column
/// the target lacks refuses the copy before anything is written: nothing is
/// dropped silently. Not for concurrent use (one command, one task).
public final class PostgresImport {
    private let connection: PostgresConnection
    private let logger: Logger
    /// The target's URL without its password.
    public let displayURL: String
    /// Table -> column -> `information_schema` data type, of the migrated target.
    private var targetColumns: [String: [String: String]] = [:]
    private var inTransaction = false

    /// The migrations table, never counted as data.
    static let bookkeeping: Set<String> = ["marketplace_migrations"]

    private init(connection: PostgresConnection, displayURL: String, logger: Logger) {
        self.connection = connection
        self.displayURL = displayURL
        self.logger = logger
    }

    /// Opens the target: refuses a database holding any table with rows (or
    /// any table of another application), applies this version's migrations
    /// (``PostgresStore/open(_:logger:)``), then reads the tables' columns.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming the table
    ///   that makes the target not empty, or when the target was migrated by
    ///   a newer version; ``DomainError/Kind/unavailable`` when it cannot be reached.
    public static func open(_ configuration: PostgresStoreConfiguration, logger: Logger) async throws -> PostgresImport {
        let connection: PostgresConnection
        do {
            connection = try await ConnectionPool.connect(configuration, id: 0, logger: logger)
        } catch {
            throw DomainError(.unavailable, "cannot connect to \(configuration.displayURL): \(PostgresErrors.describe(error))")
        }
        let target = PostgresImport(connection: connection, displayURL: configuration.displayURL, logger: logger)
        do {
            // Before migrating: a database of another application is left untouched.
            try await target.requireEmpty(beforeMigrating: true)
            let store = try await PostgresStore.open(configuration, logger: logger)
            await store.close()
            try await target.readSchema()
            try await target.requireEmpty(beforeMigrating: false)
        } catch {
            try? await connection.close()
            throw Self.mapped(error)
        }
        return target
    }

    private func run(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws -> PostgresQueryResult {
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        return try await future.get()
    }

    /// The ordinary tables of the current schema.
    private func tableNames() async throws -> [String] {
        try await run("""
            SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1
            """).rows.map { try $0.decode(String.self) }
    }

    private func readSchema() async throws {
        let rows = try await run("""
            SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """).rows
        targetColumns = [:]
        for row in rows {
            let (table, column, type) = try row.decode((String, String, String).self)
            targetColumns[table, default: [:]][column] = type
        }
    }

    /// Refuses a target with a row in any table. Before migrating, also a
    /// target with tables but no migrations table (another application's).
    private func requireEmpty(beforeMigrating: Bool) async throws {
        let names = try await tableNames()
        if beforeMigrating, !names.isEmpty, !names.contains(where: Self.bookkeeping.contains) {
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
            throw DomainError(
                .failedPrecondition,
                "target database \(displayURL) is not empty (it has tables of another application: \(shown)); migrate-to copies only into an empty database: create a new one (createdb) and give its URL")
        }
        for table in names where !Self.bookkeeping.contains(table) {
            let rows = try await run("SELECT count(*) FROM (SELECT 1 FROM \(Self.quoted(table)) LIMIT 1000001) AS t").rows
            let count = try rows.first?.decode(Int64.self) ?? 0
            if count > 0 {
                throw DomainError(
                    .failedPrecondition,
                    "target database \(displayURL) is not empty (table \(table) has \(count > 1_000_000 ? "over 1000000" : "\(count)") rows); migrate-to copies only into an empty database: create a new one (createdb) and give its URL")
            }
        }
    }

    /// Refuses a copy that would drop data: every source table and column
    /// must exist in the target, with a type the copy converts to.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming what is missing.
    public func check(_ tables: [StoredTable]) throws {
        for table in tables {
            guard let columns = targetColumns[table.name] else {
                throw DomainError(.failedPrecondition, "the PostgreSQL schema has no table \(table.name); this version cannot move that data")
            }
            for column in table.columns {
                guard let type = columns[column] else {
                    throw DomainError(.failedPrecondition, "the PostgreSQL schema has no column \(table.name).\(column); this version cannot move that data")
                }
                guard Self.convertedTypes.contains(type) else {
                    throw DomainError(.failedPrecondition, "column \(table.name).\(column) has type \(type), which migrate-to does not convert")
                }
            }
        }
    }

    static let convertedTypes: Set<String> = ["bigint", "integer", "smallint", "boolean", "text", "bytea", "double precision"]

    /// Starts the one transaction: locks every table of the target (a daemon
    /// started on it meanwhile waits for the commit), checks again that they
    /// are empty, and turns the copied tables' own triggers off (they would
    /// add to the change feed; re-enabled by ``commit(_:sequences:)``).
    public func begin(_ tables: [StoredTable]) async throws {
        do {
            _ = try await run("BEGIN ISOLATION LEVEL READ COMMITTED")
            inTransaction = true
            let all = targetColumns.keys.filter { !Self.bookkeeping.contains($0) }.sorted()
            _ = try await run("LOCK TABLE \(all.map(Self.quoted).joined(separator: ", ")) IN ACCESS EXCLUSIVE MODE")
            try await requireEmpty(beforeMigrating: false)
            for table in tables {
                _ = try await run("ALTER TABLE \(Self.quoted(table.name)) DISABLE TRIGGER USER")
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Inserts `rows` (values in `table.columns` order), several hundred
    /// rows a statement.
    public func insert(_ rows: [[StoredValue]], into table: StoredTable) async throws {
        guard !rows.isEmpty else { return }
        let types = table.columns.map { targetColumns[table.name]![$0]! }
        let columnList = table.columns.map(Self.quoted).joined(separator: ", ")
        // PostgreSQL takes at most 65535 parameters a statement.
        let perStatement = max(1, min(1000, 30_000 / max(1, table.columns.count)))
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            var binds = PostgresBindings(capacity: batch.count * types.count)
            var tuples: [String] = []
            tuples.reserveCapacity(batch.count)
            var index = 0
            for row in batch {
                guard row.count == types.count else {
                    throw DomainError(.internal, "a row of \(table.name) has \(row.count) values for \(types.count) columns")
                }
                var placeholders: [String] = []
                placeholders.reserveCapacity(row.count)
                for (column, value) in row.enumerated() {
                    index += 1
                    placeholders.append("$\(index)")
                    try Self.bind(value, as: types[column], into: &binds, field: "\(table.name).\(table.columns[column])")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            do {
                _ = try await run(
                    "INSERT INTO \(Self.quoted(table.name)) (\(columnList)) VALUES " + tuples.joined(separator: ", "), binds)
            } catch {
                throw Self.mapped(error, table: table.name)
            }
            start += batch.count
        }
    }

    /// Turns the triggers back on, sets every sequence past the largest value
    /// copied and past `sequences` (the source's last handed-out value per
    /// table, e.g. SQLite's `sqlite_sequence`: ids of deleted rows are not
    /// handed out again), and commits.
    public func commit(_ tables: [StoredTable], sequences: [String: Int64]) async throws {
        do {
            for table in tables {
                _ = try await run("ALTER TABLE \(Self.quoted(table.name)) ENABLE TRIGGER USER")
            }
            // The identity columns (audit_events.sequence, outbox.id, and
            // changes.entry, which is not copied), from the catalog.
            let owned = try await run("""
                SELECT t.relname::text, a.attname::text, s.relname::text
                FROM pg_depend d
                JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                JOIN pg_class t ON t.oid = d.refobjid
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = current_schema()
                WHERE d.deptype IN ('a', 'i')
                """).rows
            var targets: [(table: String, column: String, sequence: String)] = []
            for row in owned {
                let (table, column, sequence) = try row.decode((String, String, String).self)
                targets.append((table, column, sequence))
            }
            // The change feed's position comes from its own sequence, assigned at commit.
            if targetColumns["changes"]?["position"] != nil {
                targets.append(("changes", "position", "changes_position_seq"))
            }
            for target in targets {
                guard let table = tables.first(where: { $0.name == target.table }), table.columns.contains(target.column) else {
                    continue  // not copied: the sequence already follows its rows
                }
                let floor = sequences[target.table] ?? 0
                let largest = try await run("SELECT COALESCE(MAX(\(Self.quoted(target.column))), 0)::bigint FROM \(Self.quoted(target.table))")
                    .rows.first?.decode(Int64.self) ?? 0
                let last = max(largest, floor)
                // setval(seq, n, true): the next value is n + 1; (1, false): it is 1.
                _ = try await run("SELECT setval('\(target.sequence)', \(max(last, 1)), \(last > 0))")
            }
            _ = try await run("COMMIT")
            inTransaction = false
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Rows of `table` in the target (in the transaction: the rows copied so far).
    public func count(_ table: StoredTable) async throws -> Int {
        do {
            let rows = try await run("SELECT count(*) FROM \(Self.quoted(table.name))").rows
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Rolls back (if the transaction is still open) and disconnects.
    public func close() async {
        if inTransaction { _ = try? await run("ROLLBACK") }
        inTransaction = false
        try? await connection.close()
    }

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A ``DomainError`` for the operator: PostgreSQL's own words included.
    private static func mapped(_ error: any Error, table: String? = nil) -> any Error {
        if error is DomainError { return error }
        let place = table.map { " while copying table \($0)" } ?? ""
        let domain = PostgresErrors.map(error) as? DomainError
        return DomainError(domain?.kind ?? .internal, "PostgreSQL refused\(place): \(PostgresErrors.describe(error))")
    }

    private static func bind(_ value: StoredValue, as type: String, into binds: inout PostgresBindings, field: String) throws {
        func mismatch() -> DomainError {
            DomainError(.failedPrecondition, "\(field): the value \(value) does not fit a \(type) column; fix the row in SQLite (nothing was copied)")
        }
        switch type {
        case "bigint", "integer", "smallint":
            switch value {
            case .null: binds.append(Int64?.none)
            case .integer(let v): binds.append(v)
            default: throw mismatch()
            }
        case "boolean":
            switch value {
            case .null: binds.append(Bool?.none)
            case .integer(let v) where v == 0 || v == 1: binds.append(v == 1)
            default: throw mismatch()
            }
        case "double precision":
            switch value {
            case .null: binds.append(Double?.none)
            case .real(let v): binds.append(v)
            case .integer(let v): binds.append(Double(v))
            default: throw mismatch()
            }
        case "bytea":
            switch value {
            case .null: binds.append(ByteBuffer?.none)
            case .blob(let v): binds.append(ByteBuffer(bytes: v))
            default: throw mismatch()
            }
        default:  // text
            switch value {
            case .null: binds.append(String?.none)
            case .text(let v): binds.append(v)
            default: throw mismatch()
            }
        }
    }
}
