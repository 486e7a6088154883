import Foundation
import MarketplaceClient
import MarketplaceDomain
import MarketplaceProtos
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
            var events: [MarketplaceProtos.AuditEvent] = []
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

    // contract: marketplace.users.v1.Audit/ListAuditEvents INVALID_ARGUMENT
    // contract: marketplace.users.v1.ListAuditEventsRequest action
    @Test("ListAuditEvents filters: one action, one actor, [since, until); tokens bound to the filters")
    func filters() async throws {
        let clock = ManualWallClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await withUsersServer(configure: { $0.clock = clock }) { _, client in
            let f = Fixture(client: client)
            let (acme, admins, staff) = try await f.accountWithGroups()
            let (admin, session) = try await Conformance.signedIn(f, acme, "ada@example.com", groups: [admins])
            let adminUser = try #require(admin.user?.id)
            let t0 = clock.now()
            clock.advance(by: .seconds(10))
            let bob = try #require(try await client.accountUsers.inviteUser(
                .init(accountId: acme.id, email: "bob@example.com", firstName: "Bob", lastName: "B", groupIds: [staff.id]),
                options: session).accountUser)
            clock.advance(by: .seconds(10))
            let t1 = clock.now()
            let cy = try #require(try await f.invite(acme, "cy@example.com", groups: [staff]).accountUser)
            func targets(_ request: ListAuditEventsRequest) async throws -> [String] {
                try await client.audit.listAuditEvents(request).events.map(\.targetId)
            }
            #expect(try await targets(.init(accountId: acme.id, action: "account_user.invited")) == [cy.id, bob.id, admin.id])
            // Ada accepted her own invitation, then invited Bob.
            #expect(try await targets(.init(accountId: acme.id, actor: adminUser)) == [bob.id, admin.id])
            #expect(try await targets(.init(accountId: acme.id, action: "account_user.invited", since: t0.addingTimeInterval(1), until: t1)) == [bob.id])
            #expect(try await targets(.init(accountId: acme.id, action: "account_user.invited", since: t1)) == [cy.id])
            let page = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 1, action: "account_user.invited"))
            let next = try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 1, pageToken: page.nextPageToken, action: "account_user.invited"))
            #expect(next.events.map(\.targetId) == [bob.id])
            await expectRPCError(.invalidArgument, "page_token") {
                try await client.audit.listAuditEvents(.init(accountId: acme.id, pageSize: 1, pageToken: page.nextPageToken))
            }
            await expectRPCError(.invalidArgument, "action") { try await client.audit.listAuditEvents(.init(accountId: acme.id, action: "user.hugged")) }
            await expectRPCError(.invalidArgument, "since") {
                try await client.audit.listAuditEvents(.init(accountId: acme.id, since: t1, until: t0))
            }
        }
    }
}
