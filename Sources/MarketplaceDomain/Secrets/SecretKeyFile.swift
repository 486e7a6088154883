import CSodium
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The key that seals invitation tokens, kept in a file outside the database
/// (`<data-dir>/secrets.key`) so that a copy of the database alone yields no
/// working invitation link.
enum SecretKeyFile {
    static var keyLength: Int { Int(crypto_secretbox_keybytes()) }

    /// Reads the key at `path`, creating it (mode 0600, random) if it does not exist.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` if the file is readable
    ///   by group or others, is not a regular file, or has the wrong size;
    ///   ``DomainError/Kind/unavailable`` if it cannot be read or written.
    static func loadOrCreate(at path: String) throws(DomainError) -> [UInt8] {
        if let key = try load(at: path) { return key }
        try create(at: path)
        guard let key = try load(at: path) else {
            throw DomainError(.unavailable, "secrets key file \(path) vanished right after being created")
        }
        return key
    }

    private static func load(at path: String) throws(DomainError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw DomainError(.unavailable, "secrets key file \(path) cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DomainError(.unavailable, "secrets key file \(path) cannot be examined: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) has mode 0\(String(mode, radix: 8)); it must be readable by its owner only (chmod 600 \(path))")
        }
        guard Int(info.st_size) == keyLength else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) has \(info.st_size) bytes; expected \(keyLength) (the file is damaged or is not this service's key)")
        }
        var key = [UInt8](repeating: 0, count: keyLength)
        let got = key.withUnsafeMutableBytes { read(fd, $0.baseAddress!, keyLength) }
        guard got == keyLength else {
            throw DomainError(.unavailable, "secrets key file \(path) could not be read in full")
        }
        return key
    }

    /// Writes a fresh key to a temporary file (0600), syncs it, then links it
    /// into place so that a concurrent or interrupted start never sees half a key.
    private static func create(at path: String) throws(DomainError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())-\(Sodium.uniform(1_000_000))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DomainError(.unavailable, "secrets key file \(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let key = Sodium.randomBytes(keyLength)
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress!, keyLength) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == keyLength, synced else {
            throw DomainError(.unavailable, "secrets key file \(path) could not be written")
        }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw DomainError(.unavailable, "secrets key file \(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
