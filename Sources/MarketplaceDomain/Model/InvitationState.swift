/// The state of one invitation link, as its holder sees it.
public enum InvitationState: String, Sendable, CaseIterable, Hashable {
    /// Valid: it can be accepted or declined.
    case pending
    /// Its lifetime passed without an answer.
    case expired
    /// It was accepted; the membership is (or was) active.
    case accepted
    /// The invitee declined it.
    case declined
    /// An administrator revoked it, removed the member, or the user was deleted.
    case revoked
    /// A new invitation replaced it; this link no longer works.
    case replaced

    /// A sentence for messages: "the invitation was accepted".
    var explanation: String {
        switch self {
        case .pending: "the invitation is pending"
        case .expired: "the invitation has expired"
        case .accepted: "the invitation was already accepted"
        case .declined: "the invitation was declined"
        case .revoked: "the invitation was revoked"
        case .replaced: "the invitation was replaced by a newer one"
        }
    }
}
