import Foundation

/// What an access check needs of one membership, read by the store in one go:
/// its stored status, its account's status, and its groups with their
/// permissions.
public struct MembershipAccess: Sendable, Equatable {
    public struct GrantedGroup: Sendable, Equatable {
        public var id: String
        public var name: String
        public var isAdministrators: Bool
        public var permissions: [String]

        public init(id: String, name: String, isAdministrators: Bool, permissions: [String]) {
            self.id = id
            self.name = name
            self.isAdministrators = isAdministrators
            self.permissions = permissions
        }
    }

    public var accountUserID: String
    /// The stored status (never `invitationExpired`).
    public var status: MembershipStatus
    public var invitationExpiresAt: Date?
    public var accountStatus: Account.Status
    /// Ordered by name, then id.
    public var groups: [GrantedGroup]

    public init(
        accountUserID: String, status: MembershipStatus, invitationExpiresAt: Date?, accountStatus: Account.Status,
        groups: [GrantedGroup]
    ) {
        self.accountUserID = accountUserID
        self.status = status
        self.invitationExpiresAt = invitationExpiresAt
        self.accountStatus = accountStatus
        self.groups = groups
    }
}
