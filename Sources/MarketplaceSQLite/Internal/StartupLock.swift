#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MarketplaceDomain

/// An exclusive advisory lock (flock) on `<database>.startup-lock`, held while a
/// process opens and migrates the database.
///
/// SQLite's own locks do not make GRDB's "read the applied migrations, then run
/// the missing ones" atomic across processes: two servers starting together on
/// a new file both ran migration 0001 (one then failed with "SQL logic error"
/// or "storage is busy"). The kernel drops the lock if the process dies.
final class StartupLock {
    private var fd: Int32

    /// Waits up to `timeout` for the lock. When the lock file cannot be created
    /// (a read-only directory), proceeds without it: opening the database then
    /// fails with its own, more precise, error.
    init(databasePath: String, timeout: Duration) throws(DomainError) {
        let path = databasePath + ".startup-lock"
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
        self.fd = fd
        guard fd >= 0 else { return }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(fd)
                throw DomainError(
                    .unavailable,
                    "database \(databasePath) is being opened by another process (lock \(path) held); retry shortly")
            }
            usleep(10_000)
        }
    }

    /// Lets the next process in. Idempotent.
    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
