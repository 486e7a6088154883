import CSodium

/// Calls `sodium_init()` exactly once per process (Swift runs a global's
/// initialiser once, thread-safely).
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Makes sure libsodium is initialised; traps if it cannot be, since no
    /// secret could then be generated safely.
    static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialised")
    }

    /// `count` bytes from the OS's secure random source.
    static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return bytes
    }

    /// A uniformly distributed number in `0..<upperBound` from the secure source.
    static func uniform(_ upperBound: UInt32) -> UInt32 {
        ensureInitialized()
        return randombytes_uniform(upperBound)
    }

    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        ensureInitialized()
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in
                crypto_hash_sha256(o.baseAddress!, i.baseAddress, UInt64(i.count))
            }
        }
        return out
    }

    /// Compares two byte strings in constant time (for equal lengths).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0 }
        }
    }
}
