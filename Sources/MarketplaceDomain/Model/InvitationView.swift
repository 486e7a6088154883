import Foundation

/// What the holder of an invitation link sees.
public struct InvitationView: Sendable, Equatable {
    public var accountID: String
    public var accountName: String
    public var inviterName: String
    public var email: String
    public var expiresAt: Date
    public var state: InvitationState
    /// Whether the invited email already has a login: accepting then takes its
    /// password instead of a new one.
    public var hasLogin: Bool

    public init(
        accountID: String, accountName: String, inviterName: String, email: String, expiresAt: Date,
        state: InvitationState, hasLogin: Bool = false
    ) {
        self.hasLogin = hasLogin
        self.accountID = accountID
        self.accountName = accountName
        self.inviterName = inviterName
        self.email = email
        self.expiresAt = expiresAt
        self.state = state
    }
}
