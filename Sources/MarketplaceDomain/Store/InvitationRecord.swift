import Foundation

/// One invitation link as stored: its lookup hash and sealed token, never the token.
public struct InvitationRecord: Sendable, Equatable {
    /// What is stored about an invitation's outcome; `expired` is computed from
    /// time and never stored.
    public enum StoredState: String, Sendable, CaseIterable {
        case pending, accepted, declined, revoked, replaced
    }

    /// SHA-256 of the token's bytes (unique).
    public var tokenHash: [UInt8]
    /// The token sealed under the key file's key.
    public var sealedToken: [UInt8]
    public var accountUserID: String
    public var createdAt: Date
    public var expiresAt: Date
    public var state: StoredState
    /// When the state left `pending`.
    public var endedAt: Date?
    /// Display name of who sent it.
    public var inviterName: String

    public init(
        tokenHash: [UInt8], sealedToken: [UInt8], accountUserID: String, createdAt: Date, expiresAt: Date,
        state: StoredState, endedAt: Date?, inviterName: String
    ) {
        self.tokenHash = tokenHash
        self.sealedToken = sealedToken
        self.accountUserID = accountUserID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.state = state
        self.endedAt = endedAt
        self.inviterName = inviterName
    }

    /// The state the link's holder sees at `now`.
    public func state(at now: Date) -> InvitationState {
        switch state {
        case .pending: expiresAt <= now ? .expired : .pending
        case .accepted: .accepted
        case .declined: .declined
        case .revoked: .revoked
        case .replaced: .replaced
        }
    }
}
