import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// The one place where calls are authorized, before any handler runs:
/// decides who the caller is, then applies the method's `AccessRule` from the
/// table generated from the contract.
///
/// - A call with `authorization: Bearer <token>` acts as that session's user
///   (even from an operator's peer); a bad or expired token is UNAUTHENTICATED.
/// - Otherwise an operator peer acts as an operator, anyone else as anonymous.
/// - For an account administrator's method it reads the request's target
///   through the generated typed accessor into `context.accessTarget`; the
///   handler passes `context.accessRequirement()` to the domain operation,
///   which checks the user's rights in the account in its own transaction (so
///   blocking, removing or deleting a user takes effect on their next call,
///   and the rights checked are the ones the work sees).
struct AuthorizationInterceptor: RPCInterceptor {
    let directory: UserDirectory
    let policy: AccessPolicy
    let operators: OperatorPolicy
    var services = ServicePolicy()
    /// Set in the copy bound to one method (`bound(toService:method:)`): its
    /// entry, looked up once at start (nil inside: the method has no rule).
    var boundEntry: AccessPolicy.Method?? = nil

    /// A copy for the calls of one method, its entry looked up now rather
    /// than per call; a method without a rule stays refused.
    func bound(toService service: String, method: String) -> any RPCInterceptor {
        var copy = self
        copy.boundEntry = .some(policy.entry(service: service, method: method))
        return copy
    }

    func intercept<Request: ProtoMessage>(request: Request, context: inout RPCContext) async throws {
        var name: String { "\(context.service)/\(context.method)" }  // for messages only
        guard let entry = boundEntry ?? policy.entry(service: context.service, method: context.method) else {
            throw RPCError(.permissionDenied, "\(name) has no access rule; refused")
        }
        let rule = entry.rule
        // Without a bearer token the caller is known without awaiting (no
        // async frame for the common anonymous, operator and service calls).
        if let header = context.metadata["authorization"] {
            context.caller = try await identify(bearer: header)
        } else {
            context.caller = identifyPeer(context)
        }
        switch (rule, context.caller) {
        case (.everyone, _):
            return
        case (_, .service):
            // Least privilege: only the read-only methods the contract opens
            // to services, on any account.
            guard entry.services else {
                throw RPCError(.permissionDenied, "\(name) is not open to internal services")
            }
            if case .accountAdministrator(let target) = rule {
                context.accessTarget = try Self.target(target, of: request, name: name)
            }
        case (.accountAdministrator(let target), .operator):
            context.accessTarget = try Self.target(target, of: request, name: name)
        case (_, .operator):
            return
        case (_, .anonymous):
            throw RPCError(.unauthenticated, "\(name) needs credentials: sign in, or connect as an operator")
        case (.operatorOnly, .user):
            throw RPCError(.permissionDenied, "\(name) is for platform operators only")
        case (.signedInUser, .user):
            return
        case (.accountAdministrator(let target), .user(let session)):
            guard session.currentAccountID != nil else {
                throw RPCError(.permissionDenied, "\(name): you belong to no account; only your profile is available")
            }
            context.accessTarget = try Self.target(target, of: request, name: name)
        }
    }

    /// The caller of a call with an `authorization` header: the user of the
    /// session whose bearer token it carries.
    private nonisolated(nonsending) func identify(bearer header: String) async throws -> Caller {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw RPCError(.unauthenticated, "authorization metadata must be \"Bearer <token>\"")
        }
        let session = try await directory.authenticate(token: String(parts[1]))
        return .user(UserSession(
            userID: session.userID, sessionID: session.id, currentAccountID: session.currentAccountID))
    }

    /// The caller of a call without a bearer token: by the peer's credentials.
    private func identifyPeer(_ context: RPCContext) -> Caller {
        if operators.isOperator(context.peer) {
            return .operator(uid: context.peer.uid)
        }
        if services.isService(context.peer) {
            return .service(uid: context.peer.uid)
        }
        return .anonymous
    }

    /// The id the request names in the method's target field. A request of
    /// another type than the generated accessor reads is a wiring bug: refused.
    private static func target(_ target: AccessTarget, of request: any ProtoMessage, name: String) throws -> String {
        guard let id = target.id(in: request) else {
            throw RPCError(.internal, "\(name): the request is not a \(target.requestType); refused")
        }
        return id
    }
}
