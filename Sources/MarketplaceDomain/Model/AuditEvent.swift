import Foundation

/// One entry of an account's audit trail: who did what to whom and when.
public struct AuditEvent: Sendable, Equatable, Hashable {
    /// What happened.
    public enum Action: String, Sendable, CaseIterable {
        case accountCreated = "account.created"
        case groupCreated = "group.created"
        case accountRenamed = "account.renamed"
        case accountDisabled = "account.disabled"
        case accountEnabled = "account.enabled"
        /// Name, description or permissions changed (details name which).
        case groupUpdated = "group.updated"
        case groupDeleted = "group.deleted"
        case userInvited = "account_user.invited"
        case userReinvited = "account_user.reinvited"
        case groupsChanged = "account_user.groups_changed"
        case userRemoved = "account_user.removed"
        case invitationResent = "invitation.resent"
        case invitationRenewed = "invitation.renewed"
        case invitationRevoked = "invitation.revoked"
        case invitationAccepted = "invitation.accepted"
        case invitationDeclined = "invitation.declined"
        case userBlocked = "account_user.blocked"
        case userUnblocked = "account_user.unblocked"
        case userDeleted = "user.deleted"
        /// A wrong password when accepting an invitation as an existing login
        /// (in the inviting account's trail; details name the user, never the password).
        case invitationAcceptFailed = "invitation.accept_failed"
        /// A wrong current password when changing it (platform-wide).
        case passwordCheckFailed = "user.password_check_failed"
    }

    /// Increasing sequence number (newest is highest).
    public var sequence: Int64
    /// The account concerned; `nil` for platform-wide events.
    public var accountID: String?
    public var at: Date
    /// ``Actor/auditDescription`` of who acted.
    public var actor: String
    public var action: Action
    /// The id of the entity acted on (`AUSR-...`, `UGR-...`, `USR-...`, `ACC-...`).
    public var targetID: String
    /// Free text details (never personal data beyond ids, never secrets).
    public var details: String

    public init(sequence: Int64, accountID: String?, at: Date, actor: String, action: Action, targetID: String, details: String) {
        self.sequence = sequence
        self.accountID = accountID
        self.at = at
        self.actor = actor
        self.action = action
        self.targetID = targetID
        self.details = details
    }
}
