import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory and its files are readable by the service's user only:
/// the directory is mode 0700 and every file in it (database, its -wal and
/// -shm, key file) 0600, whatever the umask and whether or not the directory
/// existed before.
public enum DataDirectory {
    /// Creates `path` with mode 0700 if it is missing. An existing directory
    /// that group or others may enter is tightened to 0700 when this process
    /// owns it, and refused otherwise.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming the path and
    ///   its mode when it is not a directory or is open to others and not ours;
    ///   ``DomainError/Kind/unavailable`` when it cannot be created or changed.
    public static func prepare(_ path: String) throws(DomainError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            if errno == ENOENT {
                do {
                    try FileManager.default.createDirectory(
                        atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } catch {
                    throw DomainError(.unavailable, "data directory \(path) cannot be created: \(error.localizedDescription)")
                }
            } else {
                throw DomainError(.unavailable, "data directory \(path) cannot be created: \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DomainError(.unavailable, "data directory \(path) cannot be examined: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw DomainError(.failedPrecondition, "data directory \(path) is not a directory")
        }
        try tighten(path, info: info, to: 0o700, what: "data directory")
    }

    /// Makes the file at `path` mode 0600: creates it empty if `create` and it
    /// is missing; tightens it if it exists and this process owns it; refuses
    /// a file open to others that is not ours. A missing file without
    /// `create` is left alone.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming the path and its
    ///   mode; ``DomainError/Kind/unavailable`` when it cannot be created.
    public static func secureFile(_ path: String, create: Bool) throws(DomainError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else {
                throw DomainError(.unavailable, "data file \(path) cannot be examined: \(String(cString: strerror(errno)))")
            }
            guard create else { return }
            // Created empty with mode 0600 (less the umask, which never adds bits).
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd >= 0 {
                close(fd)
            } else if errno != EEXIST {
                // Let the database's own open report it (e.g. a read-only file system).
                return
            }
            guard lstat(path, &info) == 0 else { return }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DomainError(.failedPrecondition, "data file \(path) is not a regular file")
        }
        try tighten(path, info: info, to: 0o600, what: "data file")
    }

    private static func tighten(_ path: String, info: stat, to mode: mode_t, what: String) throws(DomainError) {
        let current = info.st_mode & 0o777
        guard current & 0o077 != 0 else { return }
        guard info.st_uid == geteuid(), chmod(path, mode) == 0 else {
            throw DomainError(
                .failedPrecondition,
                "\(what) \(path) has mode 0\(String(current, radix: 8)) and this process cannot make it 0\(String(mode, radix: 8)); it must not be open to group or others (chmod \(String(mode, radix: 8)) \(path))")
        }
    }
}
