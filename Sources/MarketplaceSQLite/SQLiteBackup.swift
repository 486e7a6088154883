#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import MarketplaceDomain

/// Backup and restore of a data directory: the database and the key file,
/// which only work together (the key unseals the invitation links the
/// database holds), in one file.
///
/// The backup file is itself a SQLite database: an online copy of
/// `users.sqlite` made with SQLite's backup API inside one read transaction
/// (a consistent snapshot, taken while the service goes on writing), plus one
/// table `marketplace_backup` holding the key. It is created mode 0600 under a
/// temporary name and renamed into place only when complete.
public enum SQLiteBackup {
    /// Why a backup or restore failed; says what to fix.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// What a backup or restore copied.
    public struct Summary: Sendable {
        /// Bytes of the database copied.
        public let databaseBytes: Int
        /// Migrations the copied database has applied.
        public let migrations: [String]
    }

    static let databaseName = "users.sqlite"
    static let keyName = "secrets.key"
    static let format = 1

    /// Copies `<dataDirectory>/users.sqlite` and the key file (`keyFile`, by
    /// default `<dataDirectory>/secrets.key`) into `file`, which must not
    /// exist. Safe while the service runs.
    public static func backup(dataDirectory: String, to file: String, keyFile: String? = nil) throws(Failure) -> Summary {
        let database = (dataDirectory as NSString).appendingPathComponent(databaseName)
        let keyPath = keyFile ?? (dataDirectory as NSString).appendingPathComponent(keyName)
        guard FileManager.default.fileExists(atPath: database) else {
            throw Failure("no database at \(database): is --data-dir the service's data directory?")
        }
        let key = try readKey(keyPath)
        guard !FileManager.default.fileExists(atPath: file) else {
            throw Failure("\(file) exists; refusing to overwrite it (choose a new name)")
        }
        let temporary = "\(file).partial-\(getpid())"
        try createPrivateFile(temporary)
        var done = false
        defer { if !done { removeDatabaseFiles(temporary) } }
        let summary: Summary
        do {
            var sourceConfiguration = Configuration()
            sourceConfiguration.busyMode = .timeout(10)
            let source = try DatabaseQueue(path: database, configuration: sourceConfiguration)
            let migrations = try source.read { db -> [String] in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            }
            guard !migrations.isEmpty else { throw Failure("\(database) is not a users-service database (no migrations)") }
            let destination = try DatabaseQueue(path: temporary)
            try source.backup(to: destination)
            try source.close()
            try destination.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                try db.inTransaction {
                    try db.execute(sql: """
                        CREATE TABLE marketplace_backup (
                            format INTEGER NOT NULL, key BLOB NOT NULL, created_at TEXT NOT NULL, source TEXT NOT NULL)
                        """)
                    try db.execute(
                        sql: "INSERT INTO marketplace_backup (format, key, created_at, source) VALUES (?, ?, ?, ?)",
                        arguments: [format, Data(key), ISO8601DateFormatter().string(from: Date()), dataDirectory])
                    return .commit
                }
            }
            try destination.close()
            summary = Summary(databaseBytes: fileSize(temporary), migrations: migrations)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot back up \(database): \(error)")
        }
        try syncFile(temporary)
        guard link(temporary, file) == 0 else {
            throw Failure("cannot create \(file): \(String(cString: strerror(errno)))")
        }
        unlink(temporary)
        syncDirectory(of: file)
        done = true
        return summary
    }

    /// Restores a backup into `dataDirectory`, which must be empty or not
    /// exist: `users.sqlite` and `secrets.key` (both 0600) in a directory 0700.
    public static func restore(from file: String, dataDirectory: String) throws(Failure) -> Summary {
        guard FileManager.default.fileExists(atPath: file) else { throw Failure("no backup file at \(file)") }
        let createdDirectory: Bool
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure("\(dataDirectory) exists and is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? ["?"]
            guard entries.isEmpty else {
                throw Failure("\(dataDirectory) is not empty; restore only into a new or empty directory (found \(entries.sorted().prefix(3).joined(separator: ", ")))")
            }
            createdDirectory = false
        } else {
            createdDirectory = true
        }
        // Read and check the backup before creating anything.
        var readOnly = Configuration()
        readOnly.readonly = true
        let backup: DatabaseQueue
        let key: [UInt8]
        let migrations: [String]
        do {
            backup = try DatabaseQueue(path: file, configuration: readOnly)
            let checked = try backup.read { db -> (String, Data?, Int?, [String]) in
                let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
                guard try db.tableExists("marketplace_backup") else { return (integrity, nil, nil, []) }
                let row = try Row.fetchOne(db, sql: "SELECT format, key FROM marketplace_backup")
                let migrations = try db.tableExists("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") : []
                return (integrity, row?["key"], row?["format"], migrations)
            }
            guard checked.0 == "ok" else { throw Failure("\(file) is damaged: integrity check says \(checked.0)") }
            guard let keyData = checked.1, checked.2 == format else {
                throw Failure("\(file) is not a backup made by `marketplace-usersd backup` (format \(format))")
            }
            do {
                _ = try SecretKeyFile.keys(in: [UInt8](keyData), path: "the key in \(file)")
            } catch {
                throw Failure(error.message)
            }
            key = [UInt8](keyData)
            migrations = checked.3
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("cannot read backup \(file): \(error)")
        }
        let database = (dataDirectory as NSString).appendingPathComponent(databaseName)
        let keyPath = (dataDirectory as NSString).appendingPathComponent(keyName)
        var done = false
        defer {
            if !done {
                removeDatabaseFiles(database)
                unlink(keyPath)
                if createdDirectory { rmdir(dataDirectory) }
            }
        }
        do {
            try FileManager.default.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure("cannot create \(dataDirectory): \(error.localizedDescription)")
        }
        chmod(dataDirectory, 0o700)
        try createPrivateFile(database)
        do {
            let destination = try DatabaseQueue(path: database)
            try backup.backup(to: destination)
            try backup.close()
            try destination.writeWithoutTransaction { db in
                try db.execute(sql: "DROP TABLE marketplace_backup")
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try destination.close()
        } catch {
            throw Failure("cannot restore the database into \(database): \(error)")
        }
        try syncFile(database)
        try writeKey(key, to: keyPath)
        syncDirectory(of: keyPath)
        done = true
        return Summary(databaseBytes: fileSize(database), migrations: migrations)
    }

    // MARK: Files

    /// The key file's bytes as they are (a raw key or the text of several),
    /// checked to be keys.
    private static func readKey(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Failure("cannot open the key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let limit = 64 * 1024
        var key = [UInt8](repeating: 0, count: limit + 1)
        var got = 0
        while got <= limit {
            let n = key.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, limit + 1 - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        key.removeSubrange(got...)
        do {
            _ = try SecretKeyFile.keys(in: key, path: "the key file \(path)")
        } catch {
            throw Failure(error.message)
        }
        return key
    }

    private static func writeKey(_ key: [UInt8], to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress!, key.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == key.count, synced else { throw Failure("cannot write \(path)") }
    }

    /// Creates an empty file readable by its owner only; SQLite keeps the mode.
    private static func createPrivateFile(_ path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        close(fd)
    }

    private static func syncFile(_ path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            if fd >= 0 { close(fd) }
            throw Failure("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    private static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }
}
