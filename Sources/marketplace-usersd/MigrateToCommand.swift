import ArgumentParser
import Foundation
import Logging
import MarketplaceDomain
import MarketplacePostgres
import MarketplaceSQLite

/// `marketplace-usersd migrate-to`: moves a SQLite data directory into an
/// empty PostgreSQL database, in one PostgreSQL transaction, a batch of rows
/// at a time (memory does not grow with the database).
struct MigrateTo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-to",
        abstract: "Copy a SQLite data directory into an empty PostgreSQL database (every row, ids and times kept).",
        discussion: """
            Stop every daemon serving from the data directory first: migrate-to refuses to
            run beside one, and no daemon starts on the directory while it runs. The copy is
            one PostgreSQL transaction: if anything fails, the target stays empty. A target
            that already holds rows is refused. The key file is not in the database: start
            the daemons on PostgreSQL with the directory's key file (--key-file DATA/secrets.key,
            copied to every host, or the --key-file the SQLite daemon used) and every pending
            invitation link keeps working.
            Example:
              marketplace-usersd migrate-to --data-dir /var/lib/marketplace-users \\
                --database 'postgres://marketplace@db.internal/marketplace_users'
            """)

    @Option(help: "The PostgreSQL database to fill, e.g. postgres://user@host:5432/db or postgres://user@/db?host=/run/postgresql (env MARKETPLACE_USERS_DATABASE).")
    var database: String?

    @Option(help: "The SQLite data directory to copy (default ./data; env MARKETPLACE_USERS_DATA_DIR).")
    var dataDir: String?

    /// Rows read from SQLite and sent to PostgreSQL at a time.
    static let batchRows = 5000
    /// A table this large also gets a progress line every this many rows.
    static let progressEvery = 50_000

    func run() async throws {
        let source = SettingSource()
        let url = source.string(database, flag: "--database", variable: "MARKETPLACE_USERS_DATABASE", default: "")
        guard !url.value.isEmpty else {
            throw ValidationError("--database (or MARKETPLACE_USERS_DATABASE) names the PostgreSQL database to fill")
        }
        let data = source.string(dataDir, flag: "--data-dir", variable: "MARKETPLACE_USERS_DATA_DIR", default: "./data")
        let configuration: PostgresStoreConfiguration
        do {
            configuration = try PostgresStoreConfiguration(url: url.value, poolSize: 1)
        } catch {
            throw ValidationError("\(url.name): \(error.message)")
        }
        let started = ContinuousClock.now
        var export: SQLiteExport
        do {
            export = try SQLiteExport(dataDirectory: data.value)
        } catch {
            fail(error.message)
        }
        let missing = SQLiteStore.knownMigrations.filter { !export.migrations.contains($0) }
        if !missing.isEmpty {
            // Written by an older version: upgrade the file first, exactly as
            // this version's daemon does when it starts on it, then export.
            print("upgrading \(export.path) to this version's schema first (migrations \(missing.joined(separator: ", ")))")
            flush()
            let path = export.path
            export.close()
            do {
                try Self.upgrade(path)
                export = try SQLiteExport(dataDirectory: data.value)
            } catch {
                fail("cannot upgrade \(path): \(Self.message(error))")
            }
        }
        defer { export.close() }
        let total = export.tables.reduce(0) { $0 + $1.rowCount }
        print("moving \(export.path) (\(export.tables.count) tables, \(total) rows) to \(configuration.displayURL)")
        flush()
        let logger = Logger(label: "migrate-to", factory: { _ in SwiftLogNoOpLogHandler() })
        let target: PostgresImport
        do {
            target = try await PostgresImport.open(configuration, logger: logger)
        } catch {
            fail(Self.message(error))
        }
        do {
            try target.check(export.tables)
            try await target.begin(export.tables)
            for table in export.tables {
                let tableStarted = ContinuousClock.now
                var copied = 0
                var after: [StoredValue]?
                while true {
                    let batch = try export.rows(of: table, after: after, limit: Self.batchRows)
                    try await target.insert(batch.rows, into: table)
                    copied += batch.rows.count
                    if copied % Self.progressEvery < batch.rows.count, copied < table.rowCount {
                        print("  \(table.name): \(copied) of \(table.rowCount) rows...")
                        flush()
                    }
                    guard batch.rows.count == Self.batchRows, let last = batch.lastKey else { break }
                    after = last
                }
                let inTarget = try await target.count(table)
                guard copied == table.rowCount, inTarget == table.rowCount else {
                    throw DomainError(.internal, "table \(table.name): \(table.rowCount) rows in SQLite, \(copied) read, \(inTarget) in PostgreSQL")
                }
                print("  \(table.name): \(copied) rows (\(Self.seconds(ContinuousClock.now - tableStarted)))")
                flush()
            }
            try await target.commit(export.tables, sequences: export.sequences)
        } catch {
            await target.close()
            fail("\(Self.message(error)); nothing was committed: the target was left as it was (empty)")
        }
        await target.close()
        let key = (data.value as NSString).appendingPathComponent("secrets.key")
        let keyHint = FileManager.default.fileExists(atPath: key)
            ? "--key-file \(Self.absolute(key)) (copy that file to every host, mode 0600)"
            : "the --key-file the SQLite daemon used"
        print("""
            moved \(total) rows in \(Self.seconds(ContinuousClock.now - started)); start the daemons with \
            --database '\(configuration.displayURL)' and \(keyHint), so that pending invitation links keep working
            """)
    }

    /// Opens the SQLite store once (applying the migrations it lacks) and closes it.
    private static func upgrade(_ path: String) throws {
        _ = try SQLiteStore(path: path)
    }

    private func fail(_ message: String) -> Never {
        flush()
        FileHandle.standardError.write(Data("migrate-to failed: \(message)\n".utf8))
        Foundation.exit(1)
    }

    private func flush() {
        fflush(nil)  // every stream (stdout itself is not concurrency-safe to name)
    }

    private static func message(_ error: any Error) -> String {
        (error as? DomainError)?.message ?? "\(error)"
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    private static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.1f s", Double(ms) / 1000)
    }
}
