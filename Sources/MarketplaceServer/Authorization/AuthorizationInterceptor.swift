import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// The one place where calls are authorized, before any handler runs:
/// decides who the caller is, then applies the method's `AccessRule`.
///
/// - A call with `authorization: Bearer <token>` acts as that session's user
///   (even from an operator's peer); a bad or expired token is UNAUTHENTICATED.
/// - Otherwise an operator peer acts as an operator, anyone else as anonymous.
/// - Rights in an account are read from the database at every call, so
///   blocking, removing or deleting a user takes effect on their next call.
struct AuthorizationInterceptor: RPCInterceptor {
    let directory: UserDirectory
    let policy: AccessPolicy
    let operators: OperatorPolicy

    func intercept(request: any ProtoMessage, context: inout RPCContext) async throws {
        var name: String { "\(context.service)/\(context.method)" }  // for messages only
        guard let rule = policy.rule(service: context.service, method: context.method) else {
            throw RPCError(.permissionDenied, "\(name) has no access rule; refused")
        }
        context.caller = try await identify(context)
        switch (rule, context.caller) {
        case (.everyone, _), (_, .operator):
            return
        case (_, .anonymous):
            throw RPCError(.unauthenticated, "\(name) needs credentials: sign in, or connect as an operator")
        case (.operatorOnly, .user):
            throw RPCError(.permissionDenied, "\(name) is for platform operators only")
        case (.signedInUser, .user):
            return
        case (.accountAdministrator, .user(let session)):
            try await checkAdministrator(session, request: request, name: name)
        }
    }

    private func identify(_ context: RPCContext) async throws -> Caller {
        if let header = context.metadata["authorization"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
                throw RPCError(.unauthenticated, "authorization metadata must be \"Bearer <token>\"")
            }
            let session = try await directory.authenticate(token: String(parts[1]))
            return .user(UserSession(
                userID: session.userID, sessionID: session.id, currentAccountID: session.currentAccountID))
        }
        if operators.isOperator(context.peer) {
            return .operator(uid: context.peer.uid)
        }
        return .anonymous
    }

    /// The session's current account must be the one the request targets, and
    /// the user must hold its administrators' group with an active membership.
    private func checkAdministrator(_ session: UserSession, request: any ProtoMessage, name: String) async throws {
        guard let current = session.currentAccountID else {
            throw RPCError(.permissionDenied, "\(name): you belong to no account; only your profile is available")
        }
        if let target = try await targetAccount(of: request), target != current {
            throw RPCError(
                .permissionDenied,
                "\(name): \(target) is not your current account (\(current)); switch account first")
        }
        let access = try await directory.access(userID: session.userID, accountID: current)
        guard access.isAdministrator else {
            if access.status == .blocked {
                throw RPCError(.permissionDenied, "\(name): your access to \(current) is blocked")
            }
            if access.status == .active {
                throw RPCError(.permissionDenied, "\(name) needs the administrators' group of \(current)")
            }
            throw RPCError(.permissionDenied, "\(name): you are not an active member of \(current)")
        }
    }

    /// The account a request is about, from its `account_id`, `account_user_id`
    /// or `group_id` field (found by name, so new methods need no glue).
    /// Nil when the request names none.
    private func targetAccount(of request: any ProtoMessage) async throws -> String? {
        var fields: [String: String] = [:]
        for child in Mirror(reflecting: request).children {
            if let label = child.label, let value = child.value as? String, !value.isEmpty {
                fields[label] = value
            }
        }
        if let account = fields["accountId"] {
            return account
        }
        if let member = fields["accountUserId"] {
            try requireValid(member, .accountUser, field: "account_user_id")
            guard let account = try await directory.accountID(ofAccountUser: member) else {
                throw RPCError(.notFound, "account_user \(member): not found")
            }
            return account
        }
        if let group = fields["groupId"] {
            try requireValid(group, .group, field: "group_id")
            guard let account = try await directory.accountID(ofGroup: group) else {
                throw RPCError(.notFound, "group \(group): not found")
            }
            return account
        }
        return nil
    }

    private func requireValid(_ id: String, _ kind: EntityKind, field: String) throws {
        guard kind.isValid(id) else {
            throw RPCError(.invalidArgument, "\(field): \"\(id)\" is not a valid \(kind.fieldName) id")
        }
    }
}
