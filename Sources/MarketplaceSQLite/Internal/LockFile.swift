#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock (flock) on a file beside the database, created 0600 if
/// missing. The kernel drops it when the process dies.
final class LockFile: @unchecked Sendable {
    // @unchecked: `fd` is only changed by release(), called once at the end.
    private var fd: Int32

    enum Mode {
        /// Several holders at once.
        case shared
        /// One holder alone.
        case exclusive
    }

    /// Why a lock was not taken.
    enum Failure: Error {
        /// Another process holds it in a conflicting mode (for as long as we waited).
        case busy
    }

    /// Takes the lock on `path`, trying again every 10 ms for up to `wait`.
    /// When the file cannot be created or opened (a read-only directory), holds
    /// nothing and does not fail: the caller's next step fails with its own,
    /// more precise, error.
    init(path: String, mode: Mode, wait: Duration = .zero) throws(Failure) {
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
        self.fd = fd
        guard fd >= 0 else { return }
        let deadline = ContinuousClock.now.advanced(by: wait)
        while flock(fd, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            guard errno == EINTR || (errno == EWOULDBLOCK && ContinuousClock.now < deadline) else {
                close(fd)
                self.fd = -1
                throw .busy
            }
            if errno == EWOULDBLOCK { usleep(10_000) }
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
