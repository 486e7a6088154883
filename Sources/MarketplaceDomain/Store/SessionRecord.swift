import Foundation

/// A session as stored: its token only as a SHA-256 lookup hash, never in clear.
/// The idle expiry is not stored; the domain computes it from ``lastUsedAt``.
public struct SessionRecord: Sendable, Equatable {
    /// `SES-` and 16 hex digits.
    public var id: String
    /// SHA-256 of the token's bytes (unique).
    public var tokenHash: [UInt8]
    public var userID: String
    public var currentAccountID: String?
    public var createdAt: Date
    public var lastUsedAt: Date
    /// Absolute expiry.
    public var expiresAt: Date

    public init(
        id: String, tokenHash: [UInt8], userID: String, currentAccountID: String?, createdAt: Date, lastUsedAt: Date,
        expiresAt: Date
    ) {
        self.id = id
        self.tokenHash = tokenHash
        self.userID = userID
        self.currentAccountID = currentAccountID
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
    }
}
