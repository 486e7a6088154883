import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Outbox, promise by promise.
@Suite("Conformance: Outbox")
struct OutboxConformanceTests {
    // contract: marketplace.users.v1.Outbox/ListPendingMessages ORDER INVALID_ARGUMENT
    @Test("ListPendingMessages: pending only, oldest first, at most limit (0 means 50); limits outside 0..500 refused")
    func listPending() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            var members: [String] = []
            for i in 0..<52 {
                members.append(try #require(try await f.invite(acme, "u\(i)@example.com", groups: [staff]).accountUser?.id))
            }
            let all = try await client.outbox.listPendingMessages(.init())
            #expect(all.messages.count == 50)
            #expect(all.messages.map(\.accountUserId) == Array(members.prefix(50)))
            #expect(all.messages.allSatisfy { $0.kind == .invitation && $0.sentAt == nil && $0.createdAt != nil })
            #expect(all.messages.first?.recipientEmail == "u0@example.com")
            #expect(try await client.outbox.listPendingMessages(.init(limit: 500)).messages.count == 52)
            #expect(try await client.outbox.listPendingMessages(.init(limit: 2)).messages.map(\.id) == all.messages.prefix(2).map(\.id))
            await expectRPCError(.invalidArgument, "limit") { try await client.outbox.listPendingMessages(.init(limit: 501)) }
            await expectRPCError(.invalidArgument, "limit") { try await client.outbox.listPendingMessages(.init(limit: -1)) }
        }
    }

    // contract: marketplace.users.v1.Outbox/MarkMessagesSent INVALID_ARGUMENT
    @Test("MarkMessagesSent: idempotent, counts only newly marked; over 500 ids or a non-id refused")
    func markSent() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            _ = try await f.invite(acme, "a@example.com", groups: [staff])
            _ = try await f.invite(acme, "b@example.com", groups: [staff])
            let ids = try await client.outbox.listPendingMessages(.init()).messages.map(\.id)
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: [ids[0]])).marked == 1)
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: ids + ["999999"])).marked == 1)
            #expect(try await client.outbox.markMessagesSent(.init(messageIds: ids)).marked == 0)
            #expect(try await client.outbox.listPendingMessages(.init()).messages.isEmpty)
            await expectRPCError(.invalidArgument, "message_ids") { try await client.outbox.markMessagesSent(.init(messageIds: ["abc"])) }
            await expectRPCError(.invalidArgument, "message_ids") {
                try await client.outbox.markMessagesSent(.init(messageIds: (1...501).map(String.init)))
            }
        }
    }

    // contract: marketplace.users.v1.Outbox/ListPendingMessages ORDER INVALID_ARGUMENT
    @Test("ListPendingMessages pages: each page after the last of the previous; sent ones skipped; foreign tokens refused")
    func paging() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups()
            for i in 0..<5 { _ = try await f.invite(acme, "u\(i)@example.com", groups: [staff]) }
            let everything = try await client.outbox.listPendingMessages(.init(limit: 500))
            #expect(everything.messages.count == 5 && everything.nextPageToken.isEmpty)
            let first = try await client.outbox.listPendingMessages(.init(limit: 2))
            #expect(first.messages.map(\.id) == everything.messages.prefix(2).map(\.id) && !first.nextPageToken.isEmpty)
            // A message of the next page is marked sent meanwhile: it is skipped.
            _ = try await client.outbox.markMessagesSent(.init(messageIds: [everything.messages[2].id]))
            let second = try await client.outbox.listPendingMessages(.init(limit: 2, pageToken: first.nextPageToken))
            #expect(second.messages.map(\.id) == [everything.messages[3].id, everything.messages[4].id])
            #expect(second.nextPageToken.isEmpty)
            await expectRPCError(.invalidArgument, "page_token") { try await client.outbox.listPendingMessages(.init(pageToken: "garbage")) }
            let groupsToken = try await client.groups.listGroups(.init(accountId: acme.id, pageSize: 1)).nextPageToken
            await expectRPCError(.invalidArgument, "page_token") { try await client.outbox.listPendingMessages(.init(pageToken: groupsToken)) }
        }
    }
}
