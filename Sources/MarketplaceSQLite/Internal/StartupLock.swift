import MarketplaceDomain

/// The exclusive lock on `<database>.startup-lock`, held while a process opens
/// and migrates the database.
///
/// SQLite's own locks do not make GRDB's "read the applied migrations, then run
/// the missing ones" atomic across processes: two servers starting together on
/// a new file both ran migration 0001 (one then failed with "SQL logic error"
/// or "storage is busy").
enum StartupLock {
    /// Waits up to `timeout` for the lock. When the lock file cannot be created
    /// (a read-only directory), proceeds without it: opening the database then
    /// fails with its own, more precise, error.
    static func take(databasePath: String, timeout: Duration) throws(DomainError) -> LockFile {
        let path = databasePath + ".startup-lock"
        do throws(LockFile.Failure) {
            return try LockFile(path: path, mode: .exclusive, wait: timeout)
        } catch {
            throw DomainError(
                .unavailable, "database \(databasePath) is being opened by another process (lock \(path) held); retry shortly")
        }
    }
}
