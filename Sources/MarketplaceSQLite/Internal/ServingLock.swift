import MarketplaceDomain

/// The lock on `<database>.serving-lock`: every process that serves from the
/// database holds it shared for as long as it is open; a tool that must be
/// alone with the file (`marketplace-usersd migrate-to`) takes it
/// exclusively, so it refuses to run beside a daemon and no daemon starts while
/// it runs.
enum ServingLock {
    /// Takes the lock without waiting (a busy lock is an error: a daemon would
    /// otherwise wait for a move that makes its database obsolete). When the
    /// lock file cannot be created (a read-only directory), proceeds without it.
    static func take(databasePath: String, mode: LockFile.Mode) throws(DomainError) -> LockFile {
        let path = databasePath + ".serving-lock"
        do throws(LockFile.Failure) {
            return try LockFile(path: path, mode: mode)
        } catch {
            switch mode {
            case .shared:
                throw DomainError(
                    .unavailable,
                    "database \(databasePath) is being moved by `marketplace-usersd migrate-to` (lock \(path) held); start the daemon on the new database (--database) instead")
            case .exclusive:
                throw DomainError(
                    .failedPrecondition,
                    "database \(databasePath) is in use by a running marketplace-usersd (lock \(path) held); stop every daemon serving from it first, so that no write is lost")
            }
        }
    }
}
