import CSodium

/// Argon2id cost parameters for `crypto_pwhash_str`.
public struct PasswordParameters: Sendable, Equatable {
    /// Number of passes (libsodium's `opslimit`).
    public var opsLimit: UInt64
    /// Memory in bytes (libsodium's `memlimit`).
    public var memLimit: Int

    public init(opsLimit: UInt64, memLimit: Int) {
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }

    /// libsodium's interactive parameters (the default; about 90 ms here).
    public static var interactive: PasswordParameters {
        PasswordParameters(opsLimit: UInt64(crypto_pwhash_opslimit_interactive()), memLimit: crypto_pwhash_memlimit_interactive())
    }

    /// libsodium's minimum parameters: for tests only.
    public static var minimum: PasswordParameters {
        PasswordParameters(opsLimit: UInt64(crypto_pwhash_opslimit_min()), memLimit: crypto_pwhash_memlimit_min())
    }
}
