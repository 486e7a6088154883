import Foundation
import MarketplaceClient
import MarketplaceTestSupport
import Testing

@Suite("Changes/ListChanges through the real socket")
struct ChangeFeedTests {
    private func setUp(_ client: MarketplaceClient) async throws -> (Account, AccountUser) {
        let f = Fixture(client: client)
        let (account, _, staff) = try await f.accountWithGroups("A")
        let member = try await f.accept(try await f.invite(account, "member@a.example", groups: [staff]).invitationLink)
        return (account, member)
    }

    // contract: marketplace.users.v1.Changes/ListChanges ORDER
    @Test("changes after a position, in commit order, naming what changed")
    func listsChanges() async throws {
        try await withUsersServer { _, client in
            let (account, member) = try await setUp(client)
            let head = try await client.changes.listChanges(.init(fromHead: true))
            #expect(head.changes.isEmpty)
            #expect(head.position > 0)
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member.id))
            let token = try await client.sessions.signIn(.init(email: "member@a.example", password: "Str0ng!pass")).token
            _ = try await client.sessions.signOut(.init(), options: CallOptions(metadata: ["authorization": "Bearer \(token)"]))
            let page = try await client.changes.listChanges(.init(afterPosition: head.position))
            #expect(page.changes.map(\.kind) == [.membership, .sessionEnded])
            #expect(page.changes.first?.accountUserId == member.id)
            #expect(page.changes.first?.accountId == account.id)
            #expect(page.changes.last?.userId == member.user?.id)
            #expect(page.changes.map(\.position) == page.changes.map(\.position).sorted())
            #expect(page.position == page.changes.last?.position)
            let rest = try await client.changes.listChanges(.init(afterPosition: page.position))
            #expect(rest.changes.isEmpty)
            #expect(rest.position == page.position)
        }
    }

    // contract: marketplace.users.v1.Changes/ListChanges
    @Test("a waiting call is woken by the next commit")
    func longPoll() async throws {
        try await withUsersServer { _, client in
            let (_, member) = try await setUp(client)
            let head = try await client.changes.listChanges(.init(fromHead: true)).position
            let started = ContinuousClock.now
            async let waited = client.changes.listChanges(
                .init(afterPosition: head, waitSeconds: 30), options: CallOptions(timeout: .seconds(60)))
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member.id))
            let answer = try await waited
            #expect(answer.changes.first?.accountUserId == member.id)
            // Woken by the commit, not by the end of the wait (generous bound).
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test("a wait with nothing new ends with no change and the same position")
    func emptyWait() async throws {
        try await withUsersServer { _, client in
            let head = try await client.changes.listChanges(.init(fromHead: true)).position
            let answer = try await client.changes.listChanges(.init(afterPosition: head, waitSeconds: 1))
            #expect(answer.changes.isEmpty)
            #expect(answer.position == head)
        }
    }

    // contract: marketplace.users.v1.Changes/ListChanges FAILED_PRECONDITION INVALID_ARGUMENT
    @Test("positions survive a restart; one the feed cannot serve says to start over")
    func durablePositions() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (first, member) = try await withUsersServer(in: directory) { _, client in
            let (_, member) = try await setUp(client)
            let all = try await client.changes.listChanges(.init(afterPosition: 0, limit: 1000))
            return (all, member)
        }
        #expect(!first.changes.isEmpty)
        try await withUsersServer(in: directory) { _, client in
            let again = try await client.changes.listChanges(.init(afterPosition: 0, limit: 1000))
            #expect(again == first)
            _ = try await client.accountUsers.blockAccountUser(.init(accountUserId: member.id))
            let next = try await client.changes.listChanges(.init(afterPosition: first.position))
            #expect(next.changes.count == 1)
            #expect(next.changes[0].position > first.position)
            await expectRPCError(.failedPrecondition, "start over") {
                try await client.changes.listChanges(.init(afterPosition: next.position + 1000))
            }
            await expectRPCError(.invalidArgument, "after_position") { try await client.changes.listChanges(.init(afterPosition: -1)) }
            await expectRPCError(.invalidArgument, "wait_seconds") { try await client.changes.listChanges(.init(waitSeconds: 31)) }
            await expectRPCError(.invalidArgument, "limit") { try await client.changes.listChanges(.init(limit: 1001)) }
        }
    }
}
