import Foundation

/// A user's membership of one account: groups, status, invitation and audit times.
public struct AccountUser: Sendable, Equatable, Hashable {
    /// `AUSR-dddd-dddd-dddd`.
    public var id: String
    public var accountID: String
    /// The person, with every field of their user record.
    public var user: User
    /// The groups held in this account, by name.
    public var groups: [GroupSummary]
    /// The status; `invitationExpired` whenever an `invited` membership's
    /// invitation is past ``invitationExpiresAt`` (values returned by
    /// ``UserDirectory`` are always resolved).
    public var status: MembershipStatus
    public var invitedAt: Date
    public var joinedAt: Date?
    public var lastAccessAt: Date?
    public var blockedAt: Date?
    /// When the current invitation stops working; `nil` once none is pending.
    public var invitationExpiresAt: Date?
    /// Who sent the current invitation: the inviting user's id, or `operator`.
    public var invitedBy: String

    public init(
        id: String, accountID: String, user: User, groups: [GroupSummary], status: MembershipStatus,
        invitedAt: Date, joinedAt: Date?, lastAccessAt: Date?, blockedAt: Date?, invitationExpiresAt: Date?,
        invitedBy: String
    ) {
        self.id = id
        self.accountID = accountID
        self.user = user
        self.groups = groups
        self.status = status
        self.invitedAt = invitedAt
        self.joinedAt = joinedAt
        self.lastAccessAt = lastAccessAt
        self.blockedAt = blockedAt
        self.invitationExpiresAt = invitationExpiresAt
        self.invitedBy = invitedBy
    }

    /// This membership with expiry applied: `invited` past its expiry becomes
    /// `invitationExpired`. Expiry is a fact of time, not of a job having run.
    public func resolved(at now: Date) -> AccountUser {
        var copy = self
        if status == .invited, let expiresAt = invitationExpiresAt, expiresAt <= now {
            copy.status = .invitationExpired
        }
        return copy
    }
}
