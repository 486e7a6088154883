#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Which stores serve one database file, in this process and in others,
/// through the file `<database>.writers` beside it: every store that opens
/// the database appends one byte to it (so its size counts the opens so far)
/// and holds a POSIX read lock on it while open (so another process can see
/// that it is there). ``MemberSearch`` keeps an account's index only while its
/// store is the only one writing the file: built when alone, and valid while
/// no store opened the file since.
///
/// A process holds one descriptor per file however many of its stores open
/// it: closing any descriptor of a file drops all of a process's POSIX locks
/// on it.
final class WriterPresence: Sendable {
    private struct Shared {
        let fd: Int32
        var stores: Int
        /// False once an open could not be counted (a write failed).
        var counted = true
    }

    /// The open `.writers` files of this process, by path.
    private static let files = Mutex<[String: Shared]>([:])

    private let path: String

    init(databasePath: String) {
        path = databasePath + ".writers"
        let path = self.path
        Self.files.withLock { files in
            if files[path] == nil {
                let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                if fd >= 0 {
                    var lock = flock()
                    lock.l_type = Int16(F_RDLCK)
                    lock.l_whence = Int16(SEEK_SET)
                    _ = fcntl(fd, F_SETLK, &lock)  // read locks never conflict with each other
                }
                files[path] = Shared(fd: fd, stores: 0)
            }
            files[path]!.stores += 1
            var one: UInt8 = 1
            if files[path]!.fd >= 0, write(files[path]!.fd, &one, 1) != 1 {
                files[path]!.counted = false  // then no store of this process relies on counting
            }
        }
    }

    deinit {
        let path = self.path
        Self.files.withLock { files in
            guard var shared = files[path] else { return }
            shared.stores -= 1
            if shared.stores == 0 {
                if shared.fd >= 0 { close(shared.fd) }
                files[path] = nil
            } else {
                files[path] = shared
            }
        }
    }

    /// How many times a store opened the file so far (any process); nil if
    /// unknown (the `.writers` file could not be opened or written).
    func opens() -> Int? {
        let (fd, counted) = Self.files.withLock { ($0[path]?.fd ?? -1, $0[path]?.counted ?? false) }
        guard fd >= 0, counted else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        return Int(status.st_size)
    }

    /// Whether this store is the only one with the file open, in this
    /// process and in every other.
    func alone() -> Bool {
        let (fd, stores) = Self.files.withLock { ($0[path]?.fd ?? -1, $0[path]?.stores ?? 0) }
        guard fd >= 0, stores == 1 else { return false }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        guard fcntl(fd, F_GETLK, &probe) == 0 else { return false }
        return probe.l_type == Int16(F_UNLCK)  // no other process holds a lock on it
    }
}
