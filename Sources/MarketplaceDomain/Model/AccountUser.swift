import Foundation

/// A user's membership of one account: groups, status, invitation and audit times.
public struct AccountUser: Sendable, Equatable, Hashable {
    /// `AUSR-dddd-dddd-dddd`.
    public var id: String
    public var accountID: String
    /// The person, with every field of their user record (what the service
    /// acts on). What is shown of them is ``shownUser``.
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
    /// The person as the inviting administrator typed them, until they accept
    /// an invitation of this account; `nil` once they have.
    public var invitedAs: InvitedPerson?

    public init(
        id: String, accountID: String, user: User, groups: [GroupSummary], status: MembershipStatus,
        invitedAt: Date, joinedAt: Date?, lastAccessAt: Date?, blockedAt: Date?, invitationExpiresAt: Date?,
        invitedBy: String, invitedAs: InvitedPerson? = nil
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
        self.invitedAs = invitedAs
    }

    /// The person as this membership shows them. Until they accept
    /// (``invitedAs`` set): exactly what a user created by the invitation
    /// looks like: the typed names and phone, the email, default profile
    /// settings, no password, never signed in, created when invited; never the
    /// login's own data, nor whether a login exists. After: their user record.
    public var shownUser: User {
        guard let typed = invitedAs else { return user }
        return User(
            id: user.id, firstName: typed.firstName, lastName: typed.lastName, email: user.email, phone: typed.phone,
            status: user.status, createdAt: invitedAt, updatedAt: invitedAt)
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
