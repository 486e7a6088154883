import ArgumentParser
import Foundation
import MarketplaceSQLite

/// `marketplace-usersd backup`: a consistent online copy of the database and
/// the key, into one new file (mode 0600), while the service keeps serving.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database and the key file into one new backup file (mode 0600); safe while the service runs.",
        discussion: """
            Uses SQLite's online backup API: the copy is one consistent snapshot, taken
            without stopping the service. The file holds the key that unseals invitation
            links: keep it as secret as the data directory.
            Example:
              marketplace-usersd backup --data-dir /var/lib/marketplace-users --to /var/backups/users-$(date +%F).db
            """)

    @Option(help: "The service's data directory (default ./data; env MARKETPLACE_USERS_DATA_DIR).")
    var dataDir: String?

    @Option(help: "The backup file to create; must not exist.")
    var to: String

    @Option(help: "Refused: a PostgreSQL database (env MARKETPLACE_USERS_DATABASE) is backed up with pg_dump.")
    var database: String?

    @Option(help: "The daemon's --key-file, when it is not <data-dir>/secrets.key (env MARKETPLACE_USERS_KEY_FILE); restored as <data-dir>/secrets.key.")
    var keyFile: String?

    func run() throws {
        try refusePostgres(database, command: "backup")
        let source = SettingSource().string(
            dataDir, flag: "--data-dir", variable: "MARKETPLACE_USERS_DATA_DIR", default: "./data")
        let key = SettingSource().string(keyFile, flag: "--key-file", variable: "MARKETPLACE_USERS_KEY_FILE", default: "")
        do {
            let summary = try SQLiteBackup.backup(
                dataDirectory: source.value, to: to, keyFile: key.value.isEmpty ? nil : key.value)
            print("backed up \(source.value) to \(to) (\(summary.databaseBytes) bytes, \(summary.migrations.count) migrations, key included)")
        } catch {
            FileHandle.standardError.write(Data("backup failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `marketplace-usersd restore`: a backup file into a new data directory.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup file into a new or empty data directory (database and key file, 0600, directory 0700).",
        discussion: """
            Refuses a directory that is not empty. Start the service on the restored
            directory; it applies any newer migrations at start.
            Example:
              marketplace-usersd restore --from /var/backups/users-2026-12-01.db --data-dir /var/lib/marketplace-users.new
            """)

    @Option(help: "The backup file made by `marketplace-usersd backup`.")
    var from: String

    @Option(help: "The data directory to create (or an empty one).")
    var dataDir: String

    @Option(help: "Refused: a PostgreSQL database (env MARKETPLACE_USERS_DATABASE) is restored with pg_restore.")
    var database: String?

    func run() throws {
        try refusePostgres(database, command: "restore")
        do {
            let summary = try SQLiteBackup.restore(from: from, dataDirectory: dataDir)
            print("restored \(from) into \(dataDir) (\(summary.databaseBytes) bytes, \(summary.migrations.count) migrations, key restored)")
        } catch {
            FileHandle.standardError.write(Data("restore failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `backup` and `restore` copy SQLite data directories only: with
/// `--database` (or `MARKETPLACE_USERS_DATABASE`) they refuse, pointing at
/// PostgreSQL's own tools.
private func refusePostgres(_ flagValue: String?, command: String) throws {
    let database = SettingSource().string(flagValue, flag: "--database", variable: "MARKETPLACE_USERS_DATABASE", default: "")
    guard !database.value.isEmpty else { return }
    FileHandle.standardError.write(Data("""
        \(command) refused: \(database.name) names a PostgreSQL database; `marketplace-usersd \(command)` copies a \
        SQLite data directory only. Back up PostgreSQL with pg_dump (e.g. pg_dump -Fc -f users.dump DBNAME) and restore \
        with pg_restore; keep a copy of the key file (secrets.key in --data-dir) with it.

        """.utf8))
    throw ExitCode(64)
}
