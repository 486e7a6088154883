import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Audit`.
struct AuditServiceImpl: AuditService {
    let directory: UserDirectory

    func listAuditEvents(_ request: ListAuditEventsRequest, context: RPCContext) async throws -> ListAuditEventsResponse {
        var filter = AuditFilter(since: request.since, until: request.until)
        if !request.action.isEmpty {
            guard let action = MarketplaceDomain.AuditEvent.Action(rawValue: request.action) else {
                let known = MarketplaceDomain.AuditEvent.Action.allCases.map(\.rawValue).joined(separator: ", ")
                throw RPCError(.invalidArgument, "action: unknown action \"\(request.action)\"; expected one of \(known)")
            }
            filter.action = action
        }
        if !request.actor.isEmpty {
            guard request.actor.count <= 100, !request.actor.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) else {
                throw RPCError(.invalidArgument, "actor: must be a user id, operator:<uid> or anonymous")
            }
            filter.actor = request.actor
        }
        let page = try await directory.auditTrail(
            accountID: request.accountId, pageSize: Int(request.pageSize), pageToken: request.pageToken, filter: filter,
            access: try context.accessRequirement())
        return ListAuditEventsResponse(events: page.items.map(AuditEvent.init), nextPageToken: page.nextPageToken)
    }
}
