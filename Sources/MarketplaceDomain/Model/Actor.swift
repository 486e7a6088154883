/// Who performs an operation; recorded in the audit trail.
///
/// Shadows the standard library's `Actor` protocol inside modules that import
/// `MarketplaceDomain`; write `MarketplaceDomain.Actor` where both are needed.
public enum Actor: Sendable, Equatable, Hashable {
    /// A platform operator, identified by the Unix uid of the connection's peer.
    case `operator`(uid: UInt32)
    /// A signed-in user (`USR-...`).
    case user(String)
    /// Nobody signed in (e.g. the holder of an invitation link).
    case anonymous

    /// The audit trail's text form, as the contract's `AuditEvent.actor`
    /// says: a user id (`USR-1234-5678`), `operator:<uid>` (e.g. `operator:0`),
    /// or `anonymous`.
    public var auditDescription: String {
        switch self {
        case .operator(let uid): "operator:\(uid)"
        case .user(let id): id
        case .anonymous: "anonymous"
        }
    }

    /// Who invited, as the contract's `AccountUser.invited_by` says: the
    /// inviting user's id, or `operator` (nobody else can invite).
    public var inviterReference: String {
        switch self {
        case .user(let id): id
        case .operator, .anonymous: "operator"
        }
    }
}
