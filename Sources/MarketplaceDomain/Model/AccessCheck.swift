import Foundation

/// The answer of ``UserDirectory/checkAccess(token:accountID:permissions:touch:)``.
/// A refusal is an answer with a ``Denial``, never an error.
public struct AccessCheck: Sendable, Equatable {
    /// Why a check was refused: the first that applies, in this order.
    public enum Denial: String, Sendable, CaseIterable {
        case noSession = "no_session"
        case sessionEnded = "session_ended"
        case notAMember = "not_a_member"
        case membershipBlocked = "membership_blocked"
        case membershipDisabled = "membership_disabled"
        case membershipInvited = "membership_invited"
        case accountDisabled = "account_disabled"
        case permissionMissing = "permission_missing"
    }

    /// `nil` when allowed.
    public var denial: Denial?
    public var userID: String?
    public var accountID: String?
    public var accountUserID: String?
    /// Resolved (an expired invitation is `invitationExpired`).
    public var status: MembershipStatus?
    public var groups: [GroupSummary]
    /// The union of the groups' permissions, sorted.
    public var permissions: [String]
    public var isAdministrator: Bool
    /// The earlier of the session's absolute and idle expiry.
    public var sessionExpiresAt: Date?
    /// The asked permissions not held, in the order asked.
    public var missingPermissions: [String]

    public init(
        denial: Denial?, userID: String? = nil, accountID: String? = nil, accountUserID: String? = nil,
        status: MembershipStatus? = nil, groups: [GroupSummary] = [], permissions: [String] = [],
        isAdministrator: Bool = false, sessionExpiresAt: Date? = nil, missingPermissions: [String] = []
    ) {
        self.denial = denial
        self.userID = userID
        self.accountID = accountID
        self.accountUserID = accountUserID
        self.status = status
        self.groups = groups
        self.permissions = permissions
        self.isAdministrator = isAdministrator
        self.sessionExpiresAt = sessionExpiresAt
        self.missingPermissions = missingPermissions
    }

    public var allowed: Bool { denial == nil }
}
