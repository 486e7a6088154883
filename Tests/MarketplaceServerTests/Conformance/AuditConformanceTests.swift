import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

/// marketplace.users.v1.Audit, promise by promise.
@Suite("Conformance: Audit")
struct AuditConformanceTests {
    // contract: marketplace.users.v1.Audit/ListAuditEvents ORDER INVALID_ARGUMENT NOT_FOUND
    @Test("ListAuditEvents: the account's events, newest first, in pages; refusals for id, size, token, unknown account")
    func listAuditEvents() async throws {
        try await withUsersServer { _, client in
            let f = Fixture(client: client)
            let (acme, _, staff) = try await f.accountWithGroups("Acme")
            let (globex, _, globexStaff) = try await f.accountWithGroups("Globex")
            let member = try #require(try await f.invite(acme, "ada@example.com", groups: [staff]).accountUser)
            _ = try await f.invite(globex, "bob@example.com", groups: [globexStaff])
            _ = try await client.accountUsers.revokeInvitation(.init(accountUserId: member.id))
            var events: [AuditEvent] = []
            var pageToken = ""
            repeat {
                let page = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 2, pageToken: pageToken))
                events += page.events
                pageToken = page.nextPageToken
            } while !pageToken.isEmpty
            #expect(events.map(\.action).prefix(2) == ["invitation.revoked", "account_user.invited"])
            #expect(events.allSatisfy { $0.accountId == acme.id })
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.occurredAt! >= $1.occurredAt! })
            #expect(events.first?.targetId == member.id)
            await expectRPCError(.invalidArgument, "account_id") { try await client.audit.listAuditEvents(.init(accountId: "acme")) }
            await expectRPCError(.invalidArgument, "page_size") { try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 501)) }
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.audit.listAuditEvents(.init(accountId: acme.id, pageToken: "garbage"))
            }
            await expectRPCError(.notFound) { try await client.audit.listAuditEvents(.init(accountId: "ACC-0000-0000")) }
        }
    }
}
