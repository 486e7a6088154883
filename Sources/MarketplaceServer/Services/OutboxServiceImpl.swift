import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Outbox`: the mail sender's queue.
struct OutboxServiceImpl: OutboxService {
    let directory: UserDirectory

    func listPendingMessages(_ request: ListPendingMessagesRequest, context: RPCContext) async throws -> ListPendingMessagesResponse {
        let page = try await directory.pendingOutboxPage(limit: Int(request.limit), pageToken: request.pageToken)
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
        return MarkMessagesSentResponse(marked: Int32(try await directory.markOutboxMessagesSent(ids: ids)))
    }
}
