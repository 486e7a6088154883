import MarketplaceDomain
import MarketplaceRPC

extension RPCContext {
    /// Who the domain records as acting in this call (audit trail).
    var actor: MarketplaceDomain.Actor {
        switch caller {
        case .anonymous: .anonymous
        case .operator(let uid): .operator(uid: uid)
        case .user(let session): .user(session.userID)
        }
    }

    /// The signed-in user's id, if the call carries a user session.
    var signedInUserID: String? {
        if case .user(let session) = caller { return session.userID }
        return nil
    }

    /// The signed-in user's session; the access policy guarantees one for
    /// methods whose rule is `signedInUser`.
    func requireUserSession() throws -> UserSession {
        guard case .user(let session) = caller else {
            throw RPCError(.unauthenticated, "\(service)/\(method) needs a signed-in user")
        }
        return session
    }
}
