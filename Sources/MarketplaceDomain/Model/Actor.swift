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

    /// The audit trail's text form: `operator:uid=0`, `user:USR-1234-5678`, `anonymous`.
    public var auditDescription: String {
        switch self {
        case .operator(let uid): "operator:uid=\(uid)"
        case .user(let id): "user:\(id)"
        case .anonymous: "anonymous"
        }
    }
}
