import CSodium
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys that seal invitation tokens, kept in a file outside the database
/// (`<data-dir>/secrets.key`, or the file given by `--key-file`) so that a
/// copy of the database alone yields no working invitation link.
///
/// Two formats, told apart by size:
/// - exactly 32 bytes: one raw key (what a data directory's first start
///   writes);
/// - text: one key per line, standard base64 of 32 bytes; blank lines and
///   lines starting with `#` are ignored. The FIRST key seals new tokens;
///   EVERY key opens. This is what `marketplace-usersd keygen` writes, and
///   what makes rotation possible without breaking pending invitations.
public enum SecretKeyFile {
    /// Bytes of one key.
    public static var keyLength: Int { Int(crypto_secretbox_keybytes()) }
    /// The largest key file read (a few thousand keys).
    static let maxFileBytes = 64 * 1024

    /// Reads the keys at `path`, creating the file (mode 0600, one random raw
    /// key) if it does not exist.
    ///
    /// - Throws: like ``load(at:)``; ``DomainError/Kind/unavailable`` if it
    ///   cannot be written.
    static func loadOrCreate(at path: String) throws(DomainError) -> [[UInt8]] {
        if let keys = try read(at: path) { return keys }
        try create(at: path)
        guard let keys = try read(at: path) else {
            throw DomainError(.unavailable, "secrets key file \(path) vanished right after being created")
        }
        return keys
    }

    /// Reads the keys of an existing file; a missing file is an error (it is
    /// never created: a fleet whose daemons each made their own key would
    /// open none of each other's links).
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` if the file is
    ///   missing, readable by group or others, not owned by this process's
    ///   user, not a regular file, or holds no valid key (naming the line);
    ///   ``DomainError/Kind/unavailable`` if it cannot be read.
    public static func load(at path: String) throws(DomainError) -> [[UInt8]] {
        guard let keys = try read(at: path) else {
            throw DomainError(
                .failedPrecondition,
                "secrets key file \(path) does not exist; create it once with `marketplace-usersd keygen --key-file \(path)` and copy that same file to every daemon of the fleet")
        }
        return keys
    }

    private static func read(at path: String) throws(DomainError) -> [[UInt8]]? {
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
        guard info.st_uid == geteuid() else {
            throw DomainError(
                .failedPrecondition,
                "secrets key file \(path) is owned by uid \(info.st_uid), not by this daemon's user (uid \(geteuid())); chown it to the user the daemon runs as (chown $(id -un) \(path))")
        }
        guard Int(info.st_size) <= maxFileBytes else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) has \(info.st_size) bytes; a key file holds at most \(maxFileBytes) (is it this service's key file?)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DomainError(.unavailable, "secrets key file \(path) could not be read in full") }
            got += n
        }
        defer { sodium_memzero(&bytes, bytes.count) }
        if bytes.count == keyLength { return [bytes] }
        return try parse(bytes, path: path)
    }

    /// The keys in a key file's bytes (either format), in order.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` naming `path` and the
    ///   bad line when the bytes are not a key file.
    public static func keys(in bytes: [UInt8], path: String) throws(DomainError) -> [[UInt8]] {
        bytes.count == keyLength ? [bytes] : try parse(bytes, path: path)
    }

    /// The keys of a text key file, in order.
    static func parse(_ bytes: [UInt8], path: String) throws(DomainError) -> [[UInt8]] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) has \(bytes.count) bytes and is not text; expected \(keyLength) raw bytes or one base64 key per line (the file is damaged or is not this service's key)")
        }
        var keys: [[UInt8]] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let data = Data(base64Encoded: trimmed), data.count == keyLength else {
                throw DomainError(.failedPrecondition, "secrets key file \(path) has \(bytes.count) bytes and its line \(index + 1) is not a key: expected \(keyLength) raw bytes, or one base64 key of \(keyLength) bytes per line as `marketplace-usersd keygen` writes (the file is damaged or is not this service's key)")
            }
            keys.append([UInt8](data))
        }
        guard !keys.isEmpty else {
            throw DomainError(.failedPrecondition, "secrets key file \(path) holds no key; create one with `marketplace-usersd keygen --key-file \(path)`")
        }
        return keys
    }

    /// The text of a key file holding `keys` (the first seals, all open).
    public static func text(_ keys: [[UInt8]]) -> String {
        var out = "# marketplace-usersd key file: the first key seals invitation links, every key opens them.\n"
        for key in keys { out += Data(key).base64EncodedString() + "\n" }
        return out
    }

    /// A new random key.
    public static func newKey() -> [UInt8] {
        Sodium.ensureInitialized()
        return Sodium.randomBytes(keyLength)
    }

    /// Writes `contents` to `path` (mode 0600) through a synced temporary
    /// file: linked into place when `replace` is false (an existing file is
    /// never overwritten), renamed over it otherwise. Never half a file.
    ///
    /// - Throws: ``DomainError/Kind/alreadyExists`` when `path` exists and
    ///   `replace` is false; ``DomainError/Kind/unavailable`` when it cannot
    ///   be written.
    public static func write(_ contents: [UInt8], to path: String, replace: Bool) throws(DomainError) {
        let directory = (path as NSString).deletingLastPathComponent
        Sodium.ensureInitialized()
        let temporary = "\(path).tmp-\(getpid())-\(Sodium.uniform(1_000_000))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DomainError(.unavailable, "secrets key file \(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, contents.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == contents.count, synced else {
            throw DomainError(.unavailable, "secrets key file \(path) could not be written")
        }
        if replace {
            guard rename(temporary, path) == 0 else {
                throw DomainError(.unavailable, "secrets key file \(path) cannot be replaced: \(String(cString: strerror(errno)))")
            }
        } else if link(temporary, path) != 0 {
            if errno == EEXIST { throw DomainError(.alreadyExists, "secrets key file \(path) exists; refusing to overwrite it") }
            throw DomainError(.unavailable, "secrets key file \(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// Writes a fresh raw key; a concurrent start that created it first wins.
    private static func create(at path: String) throws(DomainError) {
        do throws(DomainError) {
            try write(newKey(), to: path, replace: false)
        } catch {
            if error.kind != .alreadyExists { throw error }
        }
    }
}
