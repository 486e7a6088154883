import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Outbox`: the mail sender's queue.
struct OutboxServiceImpl: OutboxService {
    let directory: UserDirectory

    func listPendingMessages(_ request: ListPendingMessagesRequest, context: RPCContext) async throws -> ListPendingMessagesResponse {
        let page = try await directory.pendingOutboxPage(
            limit: Int(request.limit), pageToken: request.pageToken, includeFailed: request.includeFailed)
        return ListPendingMessagesResponse(messages: page.items.map(OutboxMessage.init), nextPageToken: page.nextPageToken)
    }

    func markMessagesSent(_ request: MarkMessagesSentRequest, context: RPCContext) async throws -> MarkMessagesSentResponse {
        var ids: [Int64] = []
        for id in request.messageIds {
            guard let value = Int64(id), value > 0 else {
                throw RPCError(.invalidArgument, "message_ids: \"\(id)\" is not a message id")
            }
            ids.append(value)
        }
        let marked = try await directory.markOutboxMessagesSent(ids: ids)
        if marked > 0 { OutboxMetrics.delivered.increment(by: Int64(marked)) }
        return MarkMessagesSentResponse(marked: Int32(marked))
    }

    func claimMessages(_ request: ClaimMessagesRequest, context: RPCContext) async throws -> ClaimMessagesResponse {
        guard (0...3600).contains(request.leaseSeconds) else {
            throw RPCError(.invalidArgument, "lease_seconds: must be between 0 and 3600 (0 means 300; got \(request.leaseSeconds))")
        }
        let claim = try await directory.claimOutboxMessages(limit: Int(request.limit), lease: .seconds(Int(request.leaseSeconds)))
        return ClaimMessagesResponse(claimId: claim.claimID, messages: claim.messages.map(OutboxMessage.init))
    }

    func reportDeliveryFailure(_ request: ReportDeliveryFailureRequest, context: RPCContext) async throws -> ReportDeliveryFailureResponse {
        guard let id = Int64(request.messageId), id > 0 else {
            throw RPCError(.invalidArgument, "message_id: \"\(request.messageId)\" is not a message id")
        }
        guard (0...86_400).contains(request.retryAfterSeconds) else {
            throw RPCError(.invalidArgument, "retry_after_seconds: must be between 0 and 86400 (got \(request.retryAfterSeconds))")
        }
        let message = try await directory.reportOutboxFailure(
            id: id, claimID: request.claimId, reason: request.reason,
            retryAfter: request.permanent ? nil : .seconds(Int(request.retryAfterSeconds)))
        (request.permanent ? OutboxMetrics.failed : OutboxMetrics.retried).increment()
        return ReportDeliveryFailureResponse(message: OutboxMessage(message))
    }
}
