import MarketplaceDomain
import MarketplaceRPC

extension RPCContext {
    /// Who the domain records as acting in this call (audit trail).
    var actor: MarketplaceDomain.Actor {
        switch caller {
        case .anonymous: .anonymous
        case .operator(let uid): .operator(uid: uid)
        case .user(let session): .user(session.userID)
        // Services reach no writing method (the access table refuses them), so
        // nothing is ever recorded in their name.
        case .service: .anonymous
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

    /// What an account administrator's operation must check in its own
    /// transaction: an operator's identity, or the signed-in user, their
    /// current account and the request's target as the interceptor read it.
    /// Fails closed: without an operator or a target set by the interceptor
    /// (a method whose rule is not "account administrator", or no interceptor),
    /// the call is refused.
    func accessRequirement() throws -> AccessRequirement {
        switch caller {
        case .operator(let uid):
            return .operator(uid: uid)
        case .service(let uid):
            return .service(uid: uid)
        case .user(let session):
            guard let target = accessTarget, let account = session.currentAccountID else {
                throw RPCError(.permissionDenied, "\(service)/\(method): no account administrator's access was established; refused")
            }
            return .administrator(userID: session.userID, accountID: account, target: target)
        case .anonymous:
            throw RPCError(.unauthenticated, "\(service)/\(method) needs credentials: sign in, or connect as an operator")
        }
    }
}
