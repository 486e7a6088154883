import MarketplaceDomain
import MarketplaceProtos
import MarketplaceRPC

/// `marketplace.users.v1.Outbox`: the mail sender's queue.
struct OutboxServiceImpl: OutboxService {
    let directory: UserDirectory

    func listPendingMessages(_ request: ListPendingMessagesRequest, context: RPCContext) async throws -> ListPendingMessagesResponse {
        let messages = try await directory.pendingOutboxMessages(limit: Int(request.limit))
        return ListPendingMessagesResponse(messages: messages.map(OutboxMessage.init))
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
