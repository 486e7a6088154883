import Foundation
import Logging
import MarketplaceDomain
import NIOCore
import PostgresNIO

/// Copies tables into an EMPTY PostgreSQL database of this service, for
/// `marketplace-usersd migrate-to`: every row with its ids, positions and
/// times, in ONE transaction (a failure leaves the target as empty as it
/// was), with the change-feed triggers off while copying (the copied feed is
/// the history; copying must not add to it), then every sequence set past
/// the largest value copied so that new rows continue after the old ones.
///
/// Columns are matched by name and converted by the target column's type
/// (`BIGINT`, `BOOLEAN` from 0/1, `BYTEA`, `TEXT`). A source table or column
/// the target lacks refuses the copy before anything is written: nothing is
/// dropped silently.
public final class PostgresImport {
    /// The tables of the target, empty and with their columns' types.
    private let connection: PostgresConnection
    private let logger: Logger
    public let displayURL: String
    private var targetColumns: [String: [String: String]] = [:]
    private var inTransaction = false

    /// The migrations table, never counted as data.
    static let bookkeeping: Set<String> = ["marketplace_migrations"]

    private init(connection: PostgresConnection, displayURL: String, logger: Logger) {
        self.connection = connection
        self.displayURL = displayURL
        self.logger = logger
    }

    /// Opens the target: applies this version's migrations (``PostgresStore/open(_:logger:)``),
    /// then checks that no table holds a row.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming a table that
    ///   has rows ("not empty"), or when the target was migrated by a newer
    ///   version; ``DomainError/Kind/unavailable`` when it cannot be reached.
    public static func open(_ configuration: PostgresStoreConfiguration, logger: Logger) async throws -> PostgresImport {
        let store = try await PostgresStore.open(configuration, logger: logger)
        await store.close()
        let connection: PostgresConnection
        do {
            connection = try await ConnectionPool.connect(configuration, id: 0, logger: logger)
        } catch {
            throw DomainError(.unavailable, "cannot connect to \(configuration.displayURL): \(PostgresErrors.describe(error))")
        }
        let target = PostgresImport(connection: connection, displayURL: configuration.displayURL, logger: logger)
        do {
            try await target.readSchema()
            try await target.requireEmpty()
        } catch {
            try? await connection.close()
            throw error
        }
        return target
    }

    private func run(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws -> PostgresQueryResult {
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).get()
    }

    private func readSchema() async throws {
        let rows = try await run("""
            SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """).rows
        for row in rows {
            let (table, column, type) = try row.decode((String, String, String).self)
            targetColumns[table, default: [:]][column] = type
        }
    }

    private func requireEmpty() async throws {
        for table in targetColumns.keys.sorted() where !Self.bookkeeping.contains(table) {
            let rows = try await run("SELECT EXISTS (SELECT 1 FROM \(Self.quoted(table)))").rows
            if let first = rows.first, try first.decode(Bool.self) {
                throw DomainError(
                    .failedPrecondition,
                    "target database \(displayURL) is not empty (table \(table) has rows); migrate-to copies only into an empty database: create a new one (createdb) and give its URL")
            }
        }
    }

    /// Refuses a copy that would drop data: every source table and column
    /// must exist in the target.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming what is missing.
    public func check(_ tables: [StoredTable]) throws {
        for table in tables {
            guard let columns = targetColumns[table.name] else {
                throw DomainError(.failedPrecondition, "the PostgreSQL schema has no table \(table.name); this version cannot move that data (upgrade, then move)")
            }
            for column in table.columns where columns[column] == nil {
                throw DomainError(.failedPrecondition, "the PostgreSQL schema has no column \(table.name).\(column); this version cannot move that data (upgrade, then move)")
            }
            for column in table.columns {
                guard ["bigint", "integer", "smallint", "boolean", "text", "bytea", "double precision"].contains(columns[column]!) else {
                    throw DomainError(.failedPrecondition, "column \(table.name).\(column) has type \(columns[column]!), which migrate-to does not convert")
                }
            }
        }
    }

    /// Starts the one transaction and turns the tables' own triggers off.
    public func begin(_ tables: [StoredTable]) async throws {
        _ = try await run("BEGIN ISOLATION LEVEL SERIALIZABLE")
        inTransaction = true
        for table in tables {
            _ = try await run("ALTER TABLE \(Self.quoted(table.name)) DISABLE TRIGGER USER")
        }
    }

    /// Inserts `rows` (values in `table.columns` order).
    public func insert(_ rows: [[StoredValue]], into table: StoredTable) async throws {
        guard !rows.isEmpty else { return }
        let types = table.columns.map { targetColumns[table.name]![$0]! }
        let columnList = table.columns.map(Self.quoted).joined(separator: ", ")
        let perStatement = max(1, min(1000, 30_000 / max(1, table.columns.count)))
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            var binds = PostgresBindings(capacity: batch.count * types.count)
            var tuples: [String] = []
            tuples.reserveCapacity(batch.count)
            var index = 0
            for row in batch {
                var placeholders: [String] = []
                for (column, value) in row.enumerated() {
                    index += 1
                    placeholders.append("$\(index)")
                    try Self.bind(value, as: types[column], into: &binds, field: "\(table.name).\(table.columns[column])")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            _ = try await run(
                "INSERT INTO \(Self.quoted(table.name)) (\(columnList)) VALUES " + tuples.joined(separator: ", "), binds)
            start += batch.count
        }
    }

    /// Turns the triggers back on, sets every sequence past the largest value
    /// copied (and past `sequences`, the source's last handed-out values), and commits.
    public func commit(_ tables: [StoredTable], sequences: [String: Int64]) async throws {
        for table in tables {
            _ = try await run("ALTER TABLE \(Self.quoted(table.name)) ENABLE TRIGGER USER")
        }
        // Sequences owned by a column (identity/serial) of a copied table.
        let owned = try await run("""
            SELECT t.relname::text, a.attname::text, s.relname::text
            FROM pg_depend d
            JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = current_schema()
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
        let copied = Set(tables.map(\.name))
        for target in targets where copied.contains(target.table) {
            let floor = sequences[target.table] ?? 0
            _ = try await run("""
                SELECT setval('\(target.sequence)', GREATEST(COALESCE((SELECT MAX(\(Self.quoted(target.column))) FROM \(Self.quoted(target.table))), 0), \(floor), 1), \
                COALESCE((SELECT MAX(\(Self.quoted(target.column))) FROM \(Self.quoted(target.table))), 0) > 0 OR \(floor) > 0)
                """)
        }
        _ = try await run("COMMIT")
        inTransaction = false
    }

    /// Rows of each table in the target (for the summary).
    public func count(_ table: StoredTable) async throws -> Int {
        let rows = try await run("SELECT COUNT(*) FROM \(Self.quoted(table.name))").rows
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    /// Rolls back (if a transaction is open) and disconnects.
    public func close() async {
        if inTransaction { _ = try? await run("ROLLBACK") }
        inTransaction = false
        try? await connection.close()
    }

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func bind(_ value: StoredValue, as type: String, into binds: inout PostgresBindings, field: String) throws {
        func mismatch() -> DomainError {
            DomainError(.failedPrecondition, "\(field): cannot store \(value) in a \(type) column")
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
            case .integer(let v): binds.append(String(v))
            default: throw mismatch()
            }
        }
    }
}
