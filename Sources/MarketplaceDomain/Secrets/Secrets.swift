import CSodium
import Foundation
import Synchronization

/// The service's secrets: invitation tokens (random, looked up by hash, kept
/// sealed under a key outside the database) and Argon2id password hashing on
/// dedicated threads.
public final class Secrets: Sendable {
    /// How secrets are kept and how costly password hashing is.
    public struct Configuration: Sendable {
        /// The key file (see ``SecretKeyFile`` for its formats).
        public var keyFilePath: String
        /// Whether a missing key file is created (mode 0600, one random key,
        /// its directory 0700): true for `<data-dir>/secrets.key`; false for a
        /// file the operator named (`--key-file`), which must exist.
        public var createsKeyFile = true
        /// Argon2id parameters for new hashes.
        public var passwordParameters: PasswordParameters
        /// Dedicated threads for hashing, which bounds its concurrency.
        public var hashingThreads: Int

        public init(
            keyFilePath: String, createsKeyFile: Bool = true, passwordParameters: PasswordParameters = .interactive,
            hashingThreads: Int = 2
        ) {
            self.keyFilePath = keyFilePath
            self.createsKeyFile = createsKeyFile
            self.passwordParameters = passwordParameters
            self.hashingThreads = hashingThreads
        }

        /// The key file at `<dataDirectory>/secrets.key`.
        public static func inDataDirectory(
            _ dataDirectory: String, passwordParameters: PasswordParameters = .interactive, hashingThreads: Int = 2
        ) -> Configuration {
            Configuration(
                keyFilePath: (dataDirectory as NSString).appendingPathComponent("secrets.key"),
                passwordParameters: passwordParameters, hashingThreads: hashingThreads)
        }
    }

    /// A freshly issued invitation token and what is stored for it.
    public struct IssuedToken: Sendable {
        /// The token for the link (URL-safe base64, no padding); never stored in clear.
        public var token: String
        /// SHA-256 of the token's bytes: the lookup key.
        public var hash: [UInt8]
        /// The token sealed with the key file's key (nonce + secretbox).
        public var sealed: [UInt8]
    }

    /// A freshly issued bearer token (a session's) and its lookup hash; nothing
    /// else is kept, so a lost token is replaced by signing in again.
    public struct BearerToken: Sendable {
        /// The token for the caller (URL-safe base64, no padding); never stored.
        public var token: String
        /// SHA-256 of the token's bytes: the only thing stored.
        public var hash: [UInt8]
    }

    /// Token length in bytes (256 bits).
    static let tokenBytes = 32

    /// The key that seals new tokens: the key file's first.
    var key: [UInt8] { keys[0] }
    /// Every key that opens a sealed token, the sealing key first.
    let keys: [[UInt8]]
    /// The Argon2id parameters for new hashes.
    public let passwordParameters: PasswordParameters
    private let pool: BlockingPool
    private let dummyHash = Mutex<String?>(nil)

    /// Loads (or, with `createsKeyFile`, creates) the key file and starts the
    /// hashing threads.
    ///
    /// - Throws: ``DomainError/Kind/failedPrecondition`` when the key file's
    ///   mode is wider than 0600, another user owns it, its content is not
    ///   keys, or (without `createsKeyFile`) it is missing;
    ///   ``DomainError/Kind/unavailable`` when it cannot be read or created.
    public init(configuration: Configuration) throws {
        Sodium.ensureInitialized()
        if configuration.createsKeyFile {
            let directory = (configuration.keyFilePath as NSString).deletingLastPathComponent
            if !directory.isEmpty { try DataDirectory.prepare(directory) }
            keys = try SecretKeyFile.loadOrCreate(at: configuration.keyFilePath)
        } else {
            keys = try SecretKeyFile.load(at: configuration.keyFilePath)
        }
        passwordParameters = configuration.passwordParameters
        pool = BlockingPool(threads: configuration.hashingThreads, name: "password-hashing")
    }

    // MARK: Tokens

    /// What a token is for; its text starts with the kind's prefix, so a token
    /// never begins with "-" (which command lines would take for an option),
    /// says what it is, and cannot be used as the other kind.
    public enum TokenKind: String, Sendable {
        case invitation = "inv_"
        case session = "ses_"
    }

    /// A new invitation token of 32 random bytes with its hash and sealed form.
    public func issueToken() -> IssuedToken {
        let raw = Sodium.randomBytes(Self.tokenBytes)
        return IssuedToken(token: Self.text(raw, .invitation), hash: Sodium.sha256(raw), sealed: seal(raw))
    }

    /// A new session (bearer) token of 32 random bytes with its hash (not sealed).
    public func issueBearerToken() -> BearerToken {
        let raw = Sodium.randomBytes(Self.tokenBytes)
        return BearerToken(token: Self.text(raw, .session), hash: Sodium.sha256(raw))
    }

    /// The lookup hash of a presented token of `kind`, or `nil` if it cannot be
    /// one of ours.
    public func tokenHash(_ token: String, kind: TokenKind) -> [UInt8]? {
        guard token.hasPrefix(kind.rawValue),
              let raw = Base64URL.decode(String(token.dropFirst(kind.rawValue.count))), raw.count == Self.tokenBytes
        else { return nil }
        return Sodium.sha256(raw)
    }

    private static func text(_ raw: [UInt8], _ kind: TokenKind) -> String {
        kind.rawValue + Base64URL.encode(raw)
    }

    /// Whether `hash` equals the stored `storedHash`, compared in constant time.
    public func hashesMatch(_ hash: [UInt8], _ storedHash: [UInt8]) -> Bool {
        Sodium.constantTimeEqual(hash, storedHash)
    }

    /// Recovers a token from its sealed form, with whichever key of the key
    /// file opens it.
    ///
    /// - Throws: ``DomainError/Kind/internal`` if no key of the key file opens
    ///   it (sealed under a key since removed, or the database was copied
    ///   without its key file).
    public func unseal(_ sealed: [UInt8]) throws -> String {
        guard let raw = open(sealed) else {
            throw DomainError(.internal, "stored invitation token cannot be unsealed with any key of this service's key file")
        }
        return Self.text(raw, .invitation)
    }

    /// Whether a key of the key file opens `sealed`: an invitation whose
    /// sealed token no key opens is treated as unknown (its key was removed
    /// from the key file, which revokes every link sealed under it).
    public func canUnseal(_ sealed: [UInt8]) -> Bool {
        open(sealed) != nil
    }

    private func open(_ sealed: [UInt8]) -> [UInt8]? {
        let nonceLength = Int(crypto_secretbox_noncebytes())
        let macLength = Int(crypto_secretbox_macbytes())
        guard sealed.count == nonceLength + macLength + Self.tokenBytes else { return nil }
        var raw = [UInt8](repeating: 0, count: Self.tokenBytes)
        for key in keys {
            let result = raw.withUnsafeMutableBufferPointer { out in
                sealed.withUnsafeBufferPointer { s in
                    key.withUnsafeBufferPointer { k in
                        crypto_secretbox_open_easy(
                            out.baseAddress!, s.baseAddress! + nonceLength, UInt64(macLength + Self.tokenBytes),
                            s.baseAddress!, k.baseAddress!)
                    }
                }
            }
            if result == 0 { return raw }
        }
        return nil
    }

    private func seal(_ raw: [UInt8]) -> [UInt8] {
        let nonce = Sodium.randomBytes(Int(crypto_secretbox_noncebytes()))
        var box = [UInt8](repeating: 0, count: Int(crypto_secretbox_macbytes()) + raw.count)
        _ = box.withUnsafeMutableBufferPointer { b in
            raw.withUnsafeBufferPointer { m in
                nonce.withUnsafeBufferPointer { n in
                    key.withUnsafeBufferPointer { k in
                        crypto_secretbox_easy(b.baseAddress!, m.baseAddress!, UInt64(m.count), n.baseAddress!, k.baseAddress!)
                    }
                }
            }
        }
        return nonce + box
    }

    // MARK: Passwords

    /// Hashes `password` with Argon2id (`crypto_pwhash_str`) on a hashing thread.
    ///
    /// - Throws: ``DomainError/Kind/resourceExhausted`` when too many hashes are
    ///   queued; ``DomainError/Kind/internal`` if libsodium fails (out of memory).
    public func hashPassword(_ password: String) async throws -> String {
        let parameters = passwordParameters
        return try await pool.run { try Self.hashNow(password, parameters) }
    }

    /// Checks `password` against an Argon2id `hash` on a hashing thread.
    ///
    /// - Throws: ``DomainError/Kind/resourceExhausted`` when too many hashes are queued.
    public func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await pool.run { Self.verifyNow(password, hash) }
    }

    /// Spends about the time of a real verification without any hash to check,
    /// so that an unknown email and a wrong password take the same time.
    public func verifyAgainstDummy(_ password: String) async throws {
        let parameters = passwordParameters
        let cached = dummyHash.withLock { $0 }
        let hash: String
        if let cached {
            hash = cached
        } else {
            hash = try await pool.run { try Self.hashNow(String(decoding: Sodium.randomBytes(16).map { 0x61 + $0 % 26 }, as: UTF8.self), parameters) }
            dummyHash.withLock { $0 = hash }
        }
        _ = try await pool.run { Self.verifyNow(password, hash) }
    }

    /// Whether `hash` was made with other parameters than the current ones
    /// (rehash it at the next successful sign-in).
    public func passwordNeedsRehash(_ hash: String) -> Bool {
        let parameters = passwordParameters
        return crypto_pwhash_str_needs_rehash(hash, parameters.opsLimit, parameters.memLimit) != 0
    }

    private static func hashNow(_ password: String, _ parameters: PasswordParameters) throws -> String {
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        var bytes = Array(password.utf8CString)
        defer { sodium_memzero(&bytes, bytes.count) }
        let length = UInt64(bytes.count - 1)
        let result = crypto_pwhash_str(&out, bytes, length, parameters.opsLimit, parameters.memLimit)
        guard result == 0 else { throw DomainError(.internal, "password hashing failed (out of memory)") }
        let end = out.firstIndex(of: 0) ?? out.count
        return String(decoding: out[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func verifyNow(_ password: String, _ hash: String) -> Bool {
        var bytes = Array(password.utf8CString)
        defer { sodium_memzero(&bytes, bytes.count) }
        let length = UInt64(bytes.count - 1)
        return crypto_pwhash_str_verify(hash, bytes, length) == 0
    }
}
