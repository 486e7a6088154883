import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Audit`.
struct AuditServiceImpl: AuditService {
    let directory: UserDirectory

    func listAuditEvents(_ request: ListAuditEventsRequest, context: RPCContext) async throws -> ListAuditEventsResponse {
        let page = try await directory.auditTrail(
            accountID: request.accountId, pageSize: Int(request.pageSize), pageToken: request.pageToken, access: try context.accessRequirement())
        return ListAuditEventsResponse(events: page.items.map(AuditEvent.init), nextPageToken: page.nextPageToken)
    }
}
