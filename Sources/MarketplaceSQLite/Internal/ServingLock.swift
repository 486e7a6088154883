#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MarketplaceDomain

/// An advisory lock (flock) on `<database>.serving-lock`: every process that
/// serves from the database holds it shared for as long as it is open; a tool
/// that must be alone with the file (`marketplace-usersd migrate-to`) takes it
/// exclusively, so it refuses to run beside a daemon and no daemon starts while
/// it runs. The kernel drops the lock when the process dies.
final class ServingLock: @unchecked Sendable {
    // @unchecked: `fd` is only changed by release(), called once at the end.
    private var fd: Int32

    enum Mode {
        /// Held by a serving process (several at once).
        case shared
        /// Held by a tool that needs the database to itself.
        case exclusive
    }

    /// Takes the lock without waiting (a busy lock is an error: a daemon would
    /// otherwise wait for a move that makes its database obsolete). When the
    /// lock file cannot be created (a read-only directory), proceeds without it.
    init(databasePath: String, mode: Mode) throws(DomainError) {
        let path = databasePath + ".serving-lock"
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
        self.fd = fd
        guard fd >= 0 else { return }
        var result: Int32
        repeat {
            result = flock(fd, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB)
        } while result != 0 && errno == EINTR
        guard result == 0 else {
            close(fd)
            self.fd = -1
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

    /// Drops the lock. Idempotent.
    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
