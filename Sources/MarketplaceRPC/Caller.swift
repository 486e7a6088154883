/// Who a call acts as, decided by the server before any handler runs.
public enum Caller: Sendable, Hashable, CustomStringConvertible {
    /// No credentials: only the calls open to everyone.
    case anonymous
    /// The platform's operations team, recognised by the connection's peer
    /// credentials: every method, every account.
    case `operator`(uid: UInt32)
    /// A person signed in with a session token.
    case user(UserSession)
    /// An internal service of the platform, recognised by the connection's
    /// peer credentials (`--service-uid` / `--service-gid`): only the
    /// read-only methods the contract opens to services, every account.
    case service(uid: UInt32)

    public var description: String {
        switch self {
        case .anonymous: "anonymous"
        case .operator(let uid): "operator(uid \(uid))"
        case .user(let session): "user \(session.userID)"
        case .service(let uid): "service(uid \(uid))"
        }
    }
}

/// The session a signed-in caller presented.
public struct UserSession: Sendable, Hashable {
    public var userID: String
    /// An internal id of the session (not its token).
    public var sessionID: String
    /// The account the session acts in; nil for a user without accounts.
    public var currentAccountID: String?

    public init(userID: String, sessionID: String, currentAccountID: String?) {
        self.userID = userID
        self.sessionID = sessionID
        self.currentAccountID = currentAccountID
    }
}
