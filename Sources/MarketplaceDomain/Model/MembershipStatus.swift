/// The per-account status of a membership, and its state machine (domain.md):
///
/// ```
/// invited --accept--> active --remove--> disabled --reinvite--> invited
/// invited --(time passes)--> invitationExpired --renew--> invited
/// invited / invitationExpired --revoke|decline--> disabled
/// active <--block / unblock--> blocked
/// any but deleted --deleteUser--> deleted (terminal)
/// ```
///
/// `invitationExpired` is never stored: an `invited` membership whose
/// invitation is past its expiry *is* `invitationExpired` (see
/// ``AccountUser/resolved(at:)``).
public enum MembershipStatus: String, Sendable, CaseIterable, Hashable {
    case invited
    case active
    case disabled
    case invitationExpired
    case blocked
    case deleted

    /// What may happen to a membership.
    public enum Event: String, Sendable, CaseIterable {
        case accept, decline, remove, reinvite, expire, renew, revoke, block, unblock, deleteUser
    }

    /// The status after `event`, or `nil` when `event` is not allowed in this status.
    public func applying(_ event: Event) -> MembershipStatus? {
        switch (self, event) {
        case (.invited, .accept): .active
        case (.invited, .decline): .disabled
        case (.invited, .expire): .invitationExpired
        case (.invitationExpired, .renew): .invited
        case (.invited, .revoke), (.invitationExpired, .revoke): .disabled
        case (.invited, .remove), (.invitationExpired, .remove), (.active, .remove), (.blocked, .remove): .disabled
        case (.disabled, .reinvite): .invited
        case (.active, .block): .blocked
        case (.blocked, .unblock): .active
        case (.deleted, .deleteUser): nil
        case (_, .deleteUser): .deleted
        default: nil
        }
    }

    /// Whether the membership's groups may be edited in this status.
    public var allowsGroupChanges: Bool {
        switch self {
        case .invited, .active, .invitationExpired, .blocked: true
        case .disabled, .deleted: false
        }
    }

    /// Whether a new invite of the same email to the account is refused
    /// (every status but `disabled`; a `deleted` membership belongs to an erased user).
    public var blocksNewInvite: Bool {
        switch self {
        case .disabled, .deleted: false
        default: true
        }
    }

    /// The name used in messages and the API (`invitation_expired`).
    public var apiName: String {
        switch self {
        case .invitationExpired: "invitation_expired"
        default: rawValue
        }
    }
}
